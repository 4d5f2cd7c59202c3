import os from 'node:os';
import { pathToFileURL } from 'node:url';
import { Writable } from 'node:stream';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/logger.js';
import { submitJob, type SubmittedJob } from '../local/backend.js';
import { startLocalStack, type LocalStack } from '../local/stack.js';
import { loadModel, scoreCsv } from '../src/scoring/index.js';
import { startWorker, type RunningWorker } from '../src/worker.js';
import { median } from './processes.js';
import { smallCsv } from './small-csv.js';

/**
 * Whole-job benchmarks on the local stack (fauxqs in this process, embedded PostgreSQL, the bundled model):
 *   - worker ready time (startWorker: clients, model load, first poll issued)           target <= 1 s
 *   - one 100-row job, message sent -> row COMPLETED, median of sequential jobs           target <= 50 ms
 *   - small jobs per second through one worker process (queue pre-filled)               target >= 200/s
 * Each latency is also given as a ratio to a baseline measured in the same process (scoring the same CSV
 * alone), because absolute numbers on a shared 2-core machine are noise.
 *
 *   npx tsx worker/bench/jobs.ts       (BENCH_JOB_REPS, default 30; BENCH_SMALL_JOBS, default 400)
 */

const REPS = Number(process.env.BENCH_JOB_REPS ?? 30);
const SMALL_JOBS = Number(process.env.BENCH_SMALL_JOBS ?? 400);

export interface JobBenchResult {
  readyMs: number;
  jobLatency: { rows: number; medianMs: number; p90Ms: number; samplesMs: number[] };
  scoreOnlyMedianMs: number;
  latencyOverScoreOnly: number;
  throughput: {
    jobs: number;
    rowsPerJob: number;
    concurrency: number;
    seconds: number;
    jobsPerSecond: number;
  };
  machine: { cpus: number; loadAverage: number[]; node: string };
}

const percentile = (values: number[], p: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))] ?? NaN;

async function completedCount(stack: LocalStack, ids: string[]): Promise<number> {
  const result = await stack.db.query<{ n: string }>(
    `SELECT count(*) AS n FROM predictions WHERE id = ANY($1::uuid[]) AND status IN ('COMPLETED', 'FAILED')`,
    [ids],
  );
  return Number(result.rows[0]?.n ?? 0);
}

async function waitFinished(stack: LocalStack, ids: string[], pollMs: number): Promise<void> {
  const deadline = Date.now() + 300_000;
  while ((await completedCount(stack, ids)) < ids.length) {
    if (Date.now() > deadline) throw new Error('benchmark jobs did not finish');
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}

async function startBenchWorker(
  stack: LocalStack,
  concurrency: number,
): Promise<{ worker: RunningWorker; ms: number }> {
  const config = loadConfig(
    stack.workerEnv({
      LOG_LEVEL: 'silent',
      WORKER_CONCURRENCY: String(concurrency),
      DATABASE_POOL_SIZE: String(Math.max(3, concurrency)),
    }),
  );
  const started = performance.now();
  const worker = await startWorker(config, {
    logger: createLogger({ level: 'silent', environment: 'bench', pretty: false }),
  });
  return { worker, ms: performance.now() - started };
}

export async function runJobBenchmarks(): Promise<JobBenchResult> {
  const stack = await startLocalStack();
  try {
    // Baseline: the same 100-row CSV scored in this process with no queue, storage or database around it.
    const hundred = smallCsv(100);
    const model = await loadModel();
    const nullSink = () => new Writable({ write: (_c, _e, callback) => callback() });
    await scoreCsv(model, [Buffer.from(hundred)], nullSink());
    const scoreSamples: number[] = [];
    for (let i = 0; i < REPS; i++) {
      const t = performance.now();
      await scoreCsv(model, [Buffer.from(hundred)], nullSink());
      scoreSamples.push(performance.now() - t);
    }

    const { worker, ms: readyMs } = await startBenchWorker(stack, 2);
    const samples: number[] = [];
    try {
      for (let i = 0; i <= REPS; i++) {
        const t = performance.now();
        const job: SubmittedJob = await submitJob(stack, { csv: hundred, filename: `latency-${i}.csv` });
        await waitFinished(stack, [job.predictionId], 1);
        if (i > 0) samples.push(performance.now() - t); // the first job warms the path up
      }
    } finally {
      await worker.stop();
    }

    // Throughput: fill the queue first, then let one worker process drain it.
    const concurrency = 8;
    const jobs: string[] = [];
    for (let i = 0; i < SMALL_JOBS; i++) {
      jobs.push(
        (await submitJob(stack, { csv: smallCsv(10, i * 10), filename: `small-${i}.csv` })).predictionId,
      );
    }
    const { worker: drainer } = await startBenchWorker(stack, concurrency);
    let seconds: number;
    try {
      const t = performance.now();
      await waitFinished(stack, jobs, 20);
      // timed before stop(), which waits for the last long poll to end (up to SQS_WAIT_TIME_SECONDS)
      seconds = (performance.now() - t) / 1000;
    } finally {
      await drainer.stop();
    }

    const scoreOnlyMedianMs = median(scoreSamples);
    return {
      readyMs,
      jobLatency: {
        rows: 100,
        medianMs: median(samples),
        p90Ms: percentile(samples, 0.9),
        samplesMs: samples,
      },
      scoreOnlyMedianMs,
      latencyOverScoreOnly: median(samples) / scoreOnlyMedianMs,
      throughput: {
        jobs: SMALL_JOBS,
        rowsPerJob: 10,
        concurrency,
        seconds,
        jobsPerSecond: SMALL_JOBS / seconds,
      },
      machine: { cpus: os.cpus().length, loadAverage: os.loadavg(), node: process.version },
    };
  } finally {
    await stack.stop();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const result = await runJobBenchmarks();
  process.stdout.write(
    `worker ready            ${result.readyMs.toFixed(0)} ms\n` +
      `100-row job latency     median ${result.jobLatency.medianMs.toFixed(1)} ms, p90 ${result.jobLatency.p90Ms.toFixed(1)} ms ` +
      `(${result.latencyOverScoreOnly.toFixed(2)}x scoring the same CSV alone: ${result.scoreOnlyMedianMs.toFixed(1)} ms)\n` +
      `small-job throughput    ${result.throughput.jobsPerSecond.toFixed(0)} jobs/s ` +
      `(${result.throughput.jobs} jobs of ${result.throughput.rowsPerJob} rows, concurrency ${result.throughput.concurrency})\n` +
      `load average            ${result.machine.loadAverage.map((l) => l.toFixed(2)).join(' ')}\n`,
  );
  process.exit(0);
}
