// `npm run simulate [-- --runs <n>] [-- --write]`: runs the Pulumi program offline with Pulumi.prod.yaml, then
// simulates upload traces through its registered scaling (simulation.ts) for each candidate design of issue
// #15, drawing the AWS latencies of assumptions.ts anew each run. Prints the results and the assumptions; with
// --write, records them in worker/bench/results.json (the `simulate` key, and the two headline figures).
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EXIT, EXIT_CODES, parsing, reportFailure, UsageError } from '../../worker/src/cli/command.js';
import { runProject, type RecordedResource } from '../plan/offline.js';
import { readStackFiles } from '../plan/plan.js';
import { fargateTaskHour } from '../plan/pricing.js';
import { AWS_ASSUMPTIONS } from './assumptions.js';
import {
  drawer,
  firstResultsFromIdle,
  random,
  simulate,
  type Design,
  type RunOutcome,
  type Scenario,
  type Upload,
  type WorkerFigures,
} from './simulation.js';

const PROJECT_DIR = path.resolve(import.meta.dirname, '../..');
const RESULTS = path.join(PROJECT_DIR, 'worker/bench/results.json');
const STACK = 'prod';
const HOUR = 3600;
const DAY = 24 * HOUR;
/** A Telco-shaped upload of 10,000 rows (about 1.5 MB of CSV). */
const ROWS = 10_000;
/** The simulated day is a Tuesday. */
const TUESDAY = 2;
const BUSINESS_HOURS = { minTasks: 1, start: '08:00', end: '18:00' };

interface Trace {
  name: string;
  /** When the queue was last active, seconds since midnight. */
  lastActiveAt: number;
  uploads: (next: () => number) => Upload[];
}

const TRACES: Trace[] = [
  {
    name: 'one upload after 7 idle hours (07:00, idle since midnight)',
    lastActiveAt: 0,
    uploads: (next) => [{ at: 7 * HOUR + 60 * next(), rows: ROWS }],
  },
  {
    name: 'one upload after 7 idle hours (14:00, idle since 07:00)',
    lastActiveAt: 7 * HOUR,
    uploads: (next) => [{ at: 14 * HOUR + 60 * next(), rows: ROWS }],
  },
  {
    name: '9 AM burst: 500 uploads within a minute, idle since 18:00 the day before',
    lastActiveAt: -6 * HOUR,
    uploads: (next) => {
      const phase = 60 * next();
      return Array.from({ length: 500 }, (_, i) => ({ at: 9 * HOUR + phase + (i * 60) / 500, rows: ROWS }));
    },
  },
  {
    name: 'steady trickle: one upload every 20 minutes on average (Poisson), all day',
    lastActiveAt: 0,
    uploads: (next) => {
      const uploads: Upload[] = [];
      for (let at = -1200 * Math.log(1 - next()); at < DAY - HOUR; at += -1200 * Math.log(1 - next())) {
        uploads.push({ at, rows: ROWS });
      }
      return uploads;
    },
  },
];

interface Candidate {
  name: string;
  /** Stack config on top of Pulumi.prod.yaml. */
  config?: Record<string, string>;
  design: Design;
  /** What the design adds besides Fargate, USD a day, and where the price is from. */
  extraUsdPerDay?: { usd: number; why: string };
}

const SCHEDULER_PER_INVOCATION = 1 / 1e6;
const CANDIDATES: Candidate[] = [
  { name: 'configured: CloudWatch step scaling from zero', design: {} },
  {
    name: 'keep the queue active: GetQueueAttributes every hour (Scheduler universal target)',
    design: { keepQueueActiveSeconds: HOUR },
    extraUsdPerDay: {
      usd: 24 * SCHEDULER_PER_INVOCATION,
      why: 'EventBridge Scheduler $1.00 per million invocations after 14 M free a month (https://aws.amazon.com/eventbridge/pricing/)',
    },
  },
  {
    name: 'poll the queue every minute (Scheduler → Lambda: GetQueueAttributes, UpdateService)',
    design: { pollQueue: true },
    extraUsdPerDay: {
      // 1,440 invocations; Lambda: $0.20 per million requests, 128 MB × 0.2 s at $0.0000133334 per GB-s (ARM).
      usd: 1440 * (SCHEDULER_PER_INVOCATION + 0.2 / 1e6 + 0.125 * 0.2 * 0.0000133334),
      why: 'Scheduler $1.00/M invocations; Lambda $0.20/M requests and $0.0000133334/GB-s on ARM, 128 MB × 0.2 s assumed (https://aws.amazon.com/lambda/pricing/)',
    },
  },
  {
    name: 'wake on upload: the backend calls UpdateService after SendMessage',
    design: { wakeOnUpload: true },
  },
  {
    name: 'wake on upload, image half the size',
    design: { wakeOnUpload: true, imageSizeRatio: 0.5 },
  },
  {
    name: `business hours: workerBusinessHours ${BUSINESS_HOURS.start}–${BUSINESS_HOURS.end} UTC, ${BUSINESS_HOURS.minTasks} task`,
    config: { 'retainwise:workerBusinessHours': JSON.stringify(BUSINESS_HOURS) },
    design: {},
  },
];

interface BenchResults {
  rows_per_s_1m: number;
  job_latency_ms_p50_100_rows: number;
  big_job: { workerReadyMs: number };
  [key: string]: unknown;
}

function workerFigures(bench: BenchResults, resources: RecordedResource[], service: string): WorkerFigures {
  const container = workerContainer(resources, service);
  const concurrency = Number(container.environment.find((e) => e.name === 'WORKER_CONCURRENCY')?.value);
  if (!Number.isInteger(concurrency)) throw new Error('the worker task sets no WORKER_CONCURRENCY');
  return {
    readySeconds: bench.big_job.workerReadyMs / 1000,
    rowsPerSecond: bench.rows_per_s_1m,
    jobOverheadSeconds: bench.job_latency_ms_p50_100_rows / 1000,
    concurrency,
  };
}

function workerTask(resources: RecordedResource[], service: string): RecordedResource {
  const task = resources.find(
    (r) => r.type === 'aws:ecs/taskDefinition:TaskDefinition' && r.inputs['family'] === service,
  );
  if (!task) throw new Error(`no task definition for ${service}`);
  return task;
}

function workerContainer(resources: RecordedResource[], service: string) {
  const [container] = JSON.parse(String(workerTask(resources, service).inputs['containerDefinitions'])) as {
    environment: { name: string; value: string }[];
  }[];
  if (!container) throw new Error(`the ${service} task has no container`);
  return container;
}

function taskHourUsd(resources: RecordedResource[], service: string): number {
  const { inputs } = workerTask(resources, service);
  const platform = inputs['runtimePlatform'] as { cpuArchitecture: 'X86_64' | 'ARM64' };
  return fargateTaskHour(Number(inputs['cpu']), Number(inputs['memory']), platform.cpuArchitecture);
}

/** Nearest-rank percentile. */
function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export interface TraceResult {
  trace: string;
  candidate: string;
  runs: number;
  /** Each start from zero: its first upload to its first result (s). */
  firstResultFromIdle: { p50: number; p95: number; count: number };
  /** Upload to result, every job (s). */
  result: { p50: number; p95: number };
  /** Upload to a worker taking the job (s). */
  queueWait: { p50: number; p95: number; max: number };
  taskHoursPerDay: number;
  usdPerDay: number;
}

function summarize(trace: Trace, candidate: Candidate, outcomes: RunOutcome[], hourUsd: number): TraceResult {
  const jobs = outcomes.flatMap((o) => o.jobs);
  const idle = outcomes.flatMap((o) => firstResultsFromIdle(o.jobs));
  const waits = jobs.map((j) => j.takenAt - j.arrivedAt);
  const results = jobs.map((j) => j.doneAt - j.arrivedAt);
  const taskHours = outcomes.reduce((n, o) => n + o.billedTaskSeconds, 0) / outcomes.length / HOUR;
  return {
    trace: trace.name,
    candidate: candidate.name,
    runs: outcomes.length,
    firstResultFromIdle: { p50: percentile(idle, 50), p95: percentile(idle, 95), count: idle.length },
    result: { p50: percentile(results, 50), p95: percentile(results, 95) },
    queueWait: { p50: percentile(waits, 50), p95: percentile(waits, 95), max: Math.max(...waits) },
    taskHoursPerDay: taskHours,
    usdPerDay: taskHours * hourUsd + (candidate.extraUsdPerDay?.usd ?? 0),
  };
}

async function main(argv: string[]): Promise<number> {
  const { values } = parsing(() =>
    parseArgs({
      args: argv,
      options: {
        runs: { type: 'string', default: '100' },
        write: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  const runs = Number(values.runs);
  if (!Number.isInteger(runs) || runs < 1) throw new UsageError('--runs must be a positive whole number');
  const bench = JSON.parse(readFileSync(RESULTS, 'utf8')) as BenchResults;
  const files = readStackFiles(PROJECT_DIR, STACK);
  const results: TraceResult[] = [];
  let measured: WorkerFigures | undefined;
  let hourUsd = 0;
  for (const candidate of CANDIDATES) {
    const run = await runProject(PROJECT_DIR, {
      stack: STACK,
      config: { ...files.config, ...candidate.config },
      ...(files.accountId ? { accountId: files.accountId } : {}),
    });
    const names = {
      queue: String(run.outputs['queueName']),
      cluster: String(run.outputs['clusterName']),
      service: String(run.outputs['workerServiceName']),
    };
    measured = workerFigures(bench, run.resources, names.service);
    hourUsd = taskHourUsd(run.resources, names.service);
    for (const trace of TRACES) {
      const outcomes = Array.from({ length: runs }, (_, seed) => {
        const next = random(seed + 1);
        const scenario: Scenario = {
          uploads: trace.uploads(next),
          until: DAY,
          lastActiveAt: trace.lastActiveAt,
          weekday: TUESDAY,
          names,
        };
        return simulate(run, scenario, measured as WorkerFigures, candidate.design, drawer(next));
      });
      results.push(summarize(trace, candidate, outcomes, hourUsd));
    }
  }
  if (!measured) throw new Error('no candidate ran');
  process.stdout.write(`${report(results, measured, hourUsd, runs)}\n`);
  if (values.write) {
    const headline = results.find((r) => r.trace === TRACES[0]?.name && r.candidate === CANDIDATES[0]?.name);
    if (!headline) throw new Error('no result for the configured stack');
    const updated = {
      ...bench,
      time_to_first_result_from_idle_s_p50: headline.firstResultFromIdle.p50,
      time_to_first_result_from_idle_s_p95: headline.firstResultFromIdle.p95,
      simulate: {
        generatedAt: new Date().toISOString(),
        stack: STACK,
        runsPerTrace: runs,
        rowsPerUpload: ROWS,
        worker: measured,
        fargateTaskHourUsd: hourUsd,
        results,
      },
    };
    writeFileSync(RESULTS, `${JSON.stringify(updated, null, 2)}\n`);
  }
  return EXIT.ok;
}

const s = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)} s` : '—');

function report(results: TraceResult[], worker: WorkerFigures, hourUsd: number, runs: number): string {
  const lines: string[] = [
    `Stack ${STACK} (Pulumi.${STACK}.yaml), ${runs} runs per trace, ${ROWS.toLocaleString('en-US')} rows per upload.`,
    `Worker (worker/bench/results.json): ready ${worker.readySeconds.toFixed(2)} s (big_job.workerReadyMs), ` +
      `${Math.round(worker.rowsPerSecond).toLocaleString('en-US')} rows/s (rows_per_s_1m), ` +
      `${(worker.jobOverheadSeconds * 1000).toFixed(0)} ms per job (job_latency_ms_p50_100_rows), ` +
      `${worker.concurrency} jobs per task; Fargate $${hourUsd.toFixed(5)} per task-hour (infra/plan/pricing.ts).`,
    '',
  ];
  for (const trace of new Set(results.map((r) => r.trace))) {
    lines.push(`## ${trace}`, '');
    lines.push(
      '| design | first result from idle p50 / p95 | every result p50 / p95 | queue wait p50 / p95 / max | task-hours/day | USD/day |',
      '|---|---|---|---|---|---|',
    );
    for (const r of results.filter((x) => x.trace === trace)) {
      lines.push(
        `| ${r.candidate} | ${s(r.firstResultFromIdle.p50)} / ${s(r.firstResultFromIdle.p95)} | ` +
          `${s(r.result.p50)} / ${s(r.result.p95)} | ${s(r.queueWait.p50)} / ${s(r.queueWait.p95)} / ${s(r.queueWait.max)} | ` +
          `${r.taskHoursPerDay.toFixed(2)} | $${r.usdPerDay.toFixed(3)} |`,
      );
    }
    lines.push('');
  }
  lines.push('## Assumptions', '', '| name | seconds | what | source |', '|---|---|---|---|');
  for (const [name, a] of Object.entries(AWS_ASSUMPTIONS)) {
    const seconds = typeof a.seconds === 'number' ? String(a.seconds) : `${a.seconds.min}–${a.seconds.max}`;
    lines.push(`| ${name} | ${seconds} | ${a.what}${'note' in a ? ` (${a.note})` : ''} | ${a.source} |`);
  }
  return lines.join('\n');
}

const USAGE = 'usage: npm run simulate [-- --runs <n>] [-- --write]';
const HELP = `${USAGE}
Simulates uploads through the scaling that Pulumi.${STACK}.yaml registers (offline: no AWS), for each candidate
design of issue #15, and prints time to first result from idle, queue waits and compute cost per day.
  --runs <n>  runs per trace and design, each drawing the AWS latencies anew (default 100)
  --write     record the results in worker/bench/results.json
  -h, --help  this help
${EXIT_CODES}`;

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (error: unknown) => (process.exitCode = reportFailure('simulate', USAGE, error)),
  );
}
