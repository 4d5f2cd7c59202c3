import { existsSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { EXIT, EXIT_CODES, parsing, reportFailure } from '../src/cli/command.js';
import { BATCH_ROWS } from '../src/scoring/index.js';
import { runBigJobBenchmark } from './big-job.js';
import { runDrainBenchmark } from './drain.js';
import { generateTelcoCsv } from './generate.js';
import { runJobBenchmarks } from './jobs.js';
import { runMicroCasesApart } from './micro.js';
import { buildWorker } from './processes.js';
import { updateResults } from './results-file.js';
import { runSoakBench } from './soak.js';

/**
 * `npm run bench`: the whole suite. Every figure is a median of several runs or a ratio to a baseline measured in
 * the same run on the same data, because absolute numbers on a shared machine are noise.
 *   1. the BENCH_ROWS file (default 1,000,000) through the whole job path, worker in a child process (big-job.ts),
 *      after BENCH_SMALL_JOB_CPU_JOBS (100) 100-row jobs through the same process for its CPU per job
 *      (small-job-cpu.ts) and as many again through the requests alone, the small job's floor
 *      (small-job-floor.ts)
 *   2. in a process of their own, run as the image runs the worker: cases on BENCH_MICRO_ROWS rows, the parsers
 *      alone, scoreCsv, the batch scorer, ONNX alone (micro.ts), then the floor for the big job's CPU per row
 *      (floor.ts)
 *   3. worker ready time, 100-row job latency, small jobs/s through one in-process worker (jobs.ts)
 *   4. BENCH_DRAIN_JOBS (default 1,000) small jobs queued at once, drained by two worker processes (drain.ts)
 * Prints a table and writes worker/bench/results.json. Generated inputs are cached in worker/bench/data/.
 * `npm run bench -- --soak` runs only the soak (soak.ts) instead, and adds its figures to results.json;
 * `npm run bench -- --big-job` only step 1's jobs, and prints the worker's figures.
 *
 *   BENCH_ROWS (1000000)  BENCH_MICRO_ROWS (100000)  BENCH_REPS (5)  BENCH_JOB_RUNS (3)  BENCH_DRAIN_JOBS (1000)
 *   BENCH_SMALL_JOB_CPU_JOBS (100)
 *   BENCH_JOB_REPS / BENCH_SMALL_JOBS: see jobs.ts
 */

const USAGE = 'usage: npm run bench -- [--soak | --big-job]';

const HELP = `${USAGE}
Runs the benchmark suite (the whole job path, in-process cases, small jobs, a drain), prints a table and writes
worker/bench/results.json. Sizes and repetitions are environment variables: BENCH_ROWS (1000000),
BENCH_MICRO_ROWS (100000), BENCH_REPS (5), BENCH_JOB_RUNS (3), BENCH_DRAIN_JOBS (1000),
BENCH_SMALL_JOB_CPU_JOBS (100), BENCH_RESULTS (the results file).
  --soak      runs only the soak (worker/bench/soak.ts) and adds its figures to results.json
  --big-job   runs only step 1's jobs (the small ones, then the big one) and prints the worker's figures,
              writing nothing: for profiling the worker (BENCH_WORKER_NODE_ARGS, BENCH_WORKER_ENV)
  -h, --help  this help
${EXIT_CODES}`;

const args = (() => {
  try {
    return parsing(
      () =>
        parseArgs({
          options: {
            soak: { type: 'boolean' },
            'big-job': { type: 'boolean' },
            help: { type: 'boolean', short: 'h' },
          },
        }).values,
    );
  } catch (error) {
    process.exit(reportFailure('bench', USAGE, error));
  }
})();
if (args.help) {
  process.stdout.write(`${HELP}\n`);
  process.exit(EXIT.ok);
}

const ROWS = Number(process.env.BENCH_ROWS ?? 1_000_000);
const MICRO_ROWS = Math.min(ROWS, Number(process.env.BENCH_MICRO_ROWS ?? 100_000));
const REPS = Number(process.env.BENCH_REPS ?? 5);
const JOB_RUNS = Number(process.env.BENCH_JOB_RUNS ?? 3);
const DRAIN_JOBS = Number(process.env.BENCH_DRAIN_JOBS ?? 1000);
const SMALL_JOB_CPU_JOBS = Number(process.env.BENCH_SMALL_JOB_CPU_JOBS ?? 100);
const HERE = import.meta.dirname;
const TRAINING = join(HERE, '..', 'training', 'data', 'telco-churn.csv');
const RESULTS = process.env.BENCH_RESULTS ?? join(HERE, 'results.json');

async function dataFile(rows: number): Promise<string> {
  const file = join(HERE, 'data', `telco-${rows}-distinct-totals.csv`);
  if (!existsSync(file)) await generateTelcoCsv(TRAINING, file, rows);
  return file;
}

const log = (text: string): boolean => process.stdout.write(`${text}\n`);
const fmt = (n: number, digits = 0): string =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

async function main(): Promise<void> {
  log('building the worker as the image does...');
  buildWorker();
  // First, while this process (which hosts the emulator the job talks to) is fresh: with the micro cases' data
  // still in its heap, the emulator's CPU per row nearly doubled and the job slowed by a quarter.
  log(`big job: ${fmt(ROWS)} rows x ${JOB_RUNS} runs...`);
  const big = await runBigJobBenchmark(await dataFile(ROWS), JOB_RUNS, SMALL_JOB_CPU_JOBS);
  log('micro cases and floor, in a process of their own...');
  const { micro, floor } = await runMicroCasesApart({
    microFile: await dataFile(MICRO_ROWS),
    floorFile: await dataFile(ROWS),
    floorRows: big.rows,
    resultBytesPerRow: big.outputBytes / big.rows,
    reps: REPS,
  });
  const microRatio = (a: string, b: string): number =>
    (micro[a]?.medianMs ?? NaN) / (micro[b]?.medianMs ?? NaN);
  log('worker latency and small jobs...');
  const jobs = await runJobBenchmarks();
  log(`drain: ${fmt(DRAIN_JOBS)} jobs, two worker processes...`);
  const drain = await runDrainBenchmark(DRAIN_JOBS);
  if (drain.completed !== drain.jobs || drain.outputs !== drain.jobs || drain.duplicateCompletions !== 0)
    throw new Error(`drain check failed: ${JSON.stringify(drain)}`);

  const cpus = os.cpus();
  const summary = {
    rows_per_s_1m: big.rowsPerSecond,
    parse_only_rows_per_s_1m: big.parseOnlyRowsPerSecond,
    e2e_over_parse_ratio: big.e2eOverParse,
    peak_rss_mb_1m: big.peakRssMb,
    output_bytes_per_row: big.outputBytes / big.rows,
    worker_cpu_us_per_row_1m: big.workerCpuUsPerRow,
    floor_us_per_row_1m: floor.usPerRow,
    worker_over_floor_ratio: big.workerCpuUsPerRow / floor.usPerRow,
    score_csv_us_per_row: micro.score_csv?.cpuUsPerRow,
    worker_cpu_ms_per_small_job: big.smallJobs.workerCpuMsPerJob,
    small_job_floor_ms: big.smallJobFloorMs,
    emulator_cpu_us_per_row_1m: big.emulatorCpuUsPerRow,
    job_latency_ms_p50_100_rows: jobs.jobLatency.medianMs,
    small_jobs_per_s: jobs.throughput.jobsPerSecond,
    ready_ms: jobs.readyMs,
    drain_1000_jobs_s: drain.seconds,
    drain_jobs_per_s: drain.jobsPerSecond,
  };
  const report = {
    generatedAt: new Date().toISOString(),
    ...summary,
    node: process.version,
    cpu_model: cpus[0]?.model,
    cpus: cpus.length,
    load_average: os.loadavg(),
    load_average_during_1m_job: big.loadAverage,
    input: { rows: ROWS, bytes: big.inputBytes, micro_rows: MICRO_ROWS, batch_rows: BATCH_ROWS, reps: REPS },
    big_job: big,
    floor,
    jobs,
    drain,
    micro,
    micro_ratios: {
      score_csv_over_csv_parse: microRatio('score_csv', 'csv_parse_bare'),
      papaparse_over_csv_parse: microRatio('papaparse_bare', 'csv_parse_bare'),
      score_preparsed_over_ort: microRatio('score_preparsed', 'ort_bare'),
    },
  };
  await updateResults(RESULTS, report);

  const rows: [string, string, string][] = [
    [`${fmt(ROWS)}-row job, whole path`, `${fmt(big.rowsPerSecond)} rows/s`, '>= 100,000 rows/s'],
    ['csv-parse alone, same file', `${fmt(big.parseOnlyRowsPerSecond)} rows/s`, 'reference'],
    ['job time / parse time', `${fmt(big.e2eOverParse, 2)}x`, '<= 1.5x'],
    ['worker CPU per row', `${fmt(big.workerCpuUsPerRow, 1)} us`, ''],
    ['emulator CPU per row', `${fmt(big.emulatorCpuUsPerRow, 1)} us`, 'not ours: caps the rate here'],
    ['scoreCsv alone / parse', `${fmt(microRatio('score_csv', 'csv_parse_bare'), 2)}x`, 'in process: no S3'],
    ['worker peak RSS', `${fmt(big.peakRssMb)} MB`, '<= 200 MB'],
    ['results bytes per row', fmt(big.outputBytes / big.rows), ''],
    ['100-row job latency p50', `${fmt(jobs.jobLatency.medianMs, 1)} ms`, '<= 20 ms'],
    ['small jobs, one worker', `${fmt(jobs.throughput.jobsPerSecond)} jobs/s`, '>= 200 jobs/s'],
    ['worker ready (in process)', `${fmt(jobs.readyMs)} ms`, '<= 1,000 ms'],
    ['worker ready (child process)', `${fmt(big.workerReadyMs)} ms`, '<= 1,000 ms'],
    [
      `${fmt(drain.jobs)} jobs, two workers`,
      `${fmt(drain.seconds, 1)} s (${fmt(drain.jobsPerSecond)} jobs/s)`,
      'all COMPLETED, no duplicates',
    ],
  ];
  for (const [what, value, target] of rows) log(`${what.padEnd(30)} ${value.padStart(26)}   ${target}`);
  log('');
  const us = (n: number | undefined): string => `${fmt(n ?? NaN, 2)} us`;
  const perRow: [string, string, string][] = [
    ['Papa Parse, parse only', us(floor.parseUsPerRow), ''],
    ['SHA-256 of the results bytes', us(floor.sha256UsPerRow), 'SigV4 payload hash: skipped over TLS'],
    ['CRC32 of the results bytes', us(floor.crc32UsPerRow), 'the parts’ checksum, kept: taken as they fill'],
    ['memcpy of the results bytes', us(floor.memcpyUsPerRow), ''],
    ['floor (sum of the above)', us(floor.usPerRow), 'issue #15: ~3.9 us quiet'],
    ['scoreCsv, null sink (CPU)', us(micro.score_csv?.cpuUsPerRow), '<= 5 us'],
    [
      'worker CPU, 1M-row job',
      `${us(big.workerCpuUsPerRow)} (${fmt(big.workerCpuUsPerRow / floor.usPerRow, 2)}x floor)`,
      '<= 8 us and <= 2x floor',
    ],
    [
      'worker CPU per 100-row job',
      `${fmt(big.smallJobs.workerCpuMsPerJob, 2)} ms (${fmt(big.smallJobs.workerCpuMsPerJob / big.smallJobFloorMs, 2)}x floor)`,
      '<= 2 ms',
    ],
    [
      '  floor: its requests alone',
      `${fmt(big.smallJobFloorMs, 2)} ms`,
      'SQS, S3 and SQL through our clients',
    ],
  ];
  log('per row (CPU time, best or median of runs)');
  for (const [what, value, target] of perRow) log(`${what.padEnd(30)} ${value.padStart(26)}   ${target}`);
  log(
    `load average ${os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}; ${cpus.length} x ${cpus[0]?.model}; node ${process.version}`,
  );
  log(`wrote ${RESULTS}`);
}

/** Step 1's jobs alone: the worker's CPU, memory and small-job cost, e.g. under a profiler. */
async function bigJobOnly(): Promise<void> {
  buildWorker();
  const big = await runBigJobBenchmark(await dataFile(ROWS), JOB_RUNS, SMALL_JOB_CPU_JOBS);
  const shown = [
    'rows',
    'workerCpuUsPerRow',
    'workerCpuUsPerRowRuns',
    'peakRssMb',
    'peakRssMbRuns',
    'idleRssMb',
    'jobMs',
    'smallJobs',
    'smallJobFloorMs',
  ] as const;
  log(JSON.stringify(Object.fromEntries(shown.map((key) => [key, big[key]])), null, 2));
}

if (args.soak) await runSoakBench(RESULTS);
else if (args['big-job']) await bigJobOnly();
else await main();
