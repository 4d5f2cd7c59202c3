// The results of `npm run simulate`: per trace and design, percentiles of the waits and the cost of a day, and the
// report printed with the assumptions they rest on.
import { AWS_ASSUMPTIONS } from './assumptions.js';
import { HOUR, type Candidate, type Trace } from './scenarios.js';
import { firstResultsFromIdle, type RunOutcome, type WorkerFigures } from './simulation.js';

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

/** Prices: a Fargate task-hour, and what the candidate's stack spends a day outside Fargate (its keep-alive). */
export interface Prices {
  taskHourUsd: number;
  stackUsdPerDay: number;
}

export function summarize(
  trace: Trace,
  candidate: Candidate,
  outcomes: RunOutcome[],
  prices: Prices,
): TraceResult {
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
    usdPerDay: taskHours * prices.taskHourUsd + prices.stackUsdPerDay + (candidate.extraUsdPerDay?.usd ?? 0),
  };
}

const s = (n: number) => (Number.isFinite(n) ? `${n < 10 ? n.toFixed(1) : Math.round(n)} s` : '—');

export function report(
  results: TraceResult[],
  run: { stack: string; runs: number; rowsPerUpload: number },
  worker: WorkerFigures,
  hourUsd: number,
): string {
  const lines: string[] = [
    `Stack ${run.stack} (Pulumi.${run.stack}.yaml), ${run.runs} runs per trace, ${run.rowsPerUpload.toLocaleString('en-US')} rows per upload.`,
    `Worker (worker/bench/results.json): ready ${worker.readySeconds.toFixed(2)} s (big_job.workerReadyMs), ` +
      `${Math.round(worker.rowsPerSecond).toLocaleString('en-US')} rows/s (rows_per_s_1m), ` +
      `${(worker.jobOverheadSeconds * 1000).toFixed(0)} ms per job (job_latency_ms_p50_100_rows), ` +
      `${worker.concurrency} jobs per task; Fargate $${hourUsd.toFixed(5)} per task-hour (infra/plan/pricing.ts).`,
    'USD/day: the task-hours at that price, plus the Scheduler and Lambda calls of the queue keep-alive and of a poller (list prices, before free tiers).',
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
