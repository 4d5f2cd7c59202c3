import { ListObjectsV2Command, type _Object } from '@aws-sdk/client-s3';
import os from 'node:os';
import { DEMO_USER_ID, type SubmittedJob } from '../local/backend.js';
import type { LocalStack } from '../local/stack.js';
import { DLQ_FAILURE_MESSAGE } from '../src/dlq.js';
import type { WorkerChild } from './processes.js';
import type { SoakOptions } from './soak.js';
import { EXPECTED, KINDS, type Kind } from './soak-jobs.js';

/**
 * What must hold after the soak (soak.ts), whatever crashed: every row settled as its kind should, one completion
 * and one results object per COMPLETED job, an empty main queue and exactly the DLQ messages that belong there.
 */

export interface SoakResult {
  jobs: number;
  messages: number;
  kinds: Record<Kind, number>;
  kills: number;
  postgres_restart_at_s: number;
  /** first submission -> every row settled and both queues accounted for */
  seconds: number;
  jobs_per_s: number;
  /** upload -> start of the attempt that completed it (redeliveries after kills and the restart included) */
  queue_wait_s: { p50: number; p99: number; max: number };
  completed: number;
  failed: number;
  /** rows failed because every attempt died or failed (their messages are in the DLQ) */
  exhausted: number;
  outputs: number;
  dlq: { expected: number; messages: number; copies: number };
  machine: { cpus: number; load_average: number[]; node: string };
}

async function listAll(stack: LocalStack, prefix: string): Promise<_Object[]> {
  const objects: _Object[] = [];
  let token: string | undefined;
  do {
    const page = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    objects.push(...(page.Contents ?? []));
    token = page.NextContinuationToken;
  } while (token);
  return objects;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;

interface Row {
  id: string;
  status: string;
  error_message: string | null;
  s3_output_key: string | null;
  wait_ms: number | null;
}

export async function check(
  stack: LocalStack,
  jobs: Map<string, { kind: Kind; job: SubmittedJob }>,
  children: WorkerChild[],
  run: {
    kills: number;
    restartAt: number;
    seconds: number;
    mainQueueLeft: number;
    submitFailures: string[];
    options: SoakOptions;
  },
): Promise<SoakResult> {
  const problems: string[] = run.submitFailures.map((failure) => `submission failed: ${failure}`);
  const ids = [...jobs.keys()];
  const rows = (
    await stack.db.query<Row>(
      `SELECT id, status, error_message, s3_output_key,
              CASE WHEN status = 'COMPLETED'
                   THEN extract(epoch FROM updated_at - created_at) * 1000 - (metrics_json->>'duration_ms')::float
              END AS wait_ms
         FROM predictions`,
    )
  ).rows;
  const byId = new Map(rows.map((row) => [row.id, row]));
  const strays = rows.filter((row) => !jobs.has(row.id));
  if (strays.length > 0) problems.push(`${strays.length} rows no submission accounts for`);

  const exhausted = new Set<string>();
  const kinds = Object.fromEntries(KINDS.map((k) => [k, 0])) as Record<Kind, number>;
  for (const [id, { kind }] of jobs) {
    kinds[kind] += 1;
    const row = byId.get(id);
    if (row?.status === 'QUEUED' || row?.status === 'RUNNING')
      problems.push(`${kind} job ${id} left ${row.status}`);
    const gaveUp =
      row?.error_message === DLQ_FAILURE_MESSAGE || (row?.error_message ?? '').includes('on every attempt');
    if (gaveUp) exhausted.add(id);
    if (row?.status !== EXPECTED[kind]) {
      problems.push(`${kind} job ${id} ended ${row?.status ?? 'missing'} (${row?.error_message ?? ''})`);
    }
  }

  // One completion per job across every worker process, killed ones included; one non-empty results object per
  // COMPLETED row, and none for any other.
  const completions = children
    .flatMap((c) => c.logs())
    .filter((line) => line.msg === 'job completed')
    .map((line) => String(line.prediction_id));
  const twice = completions.length - new Set(completions).size;
  if (twice > 0) problems.push(`${twice} jobs completed twice`);
  const objects = await listAll(stack, `predictions/${DEMO_USER_ID}/`);
  const written = new Set(objects.filter((o) => (o.Size ?? 0) > 0).map((o) => o.Key));
  const completed = rows.filter((row) => row.status === 'COMPLETED');
  for (const row of completed) {
    if (!row.s3_output_key || !written.has(row.s3_output_key))
      problems.push(`COMPLETED ${row.id} has no results`);
  }
  if (written.size !== completed.length) {
    problems.push(`${written.size} results objects for ${completed.length} COMPLETED rows`);
  }

  // Queue accounting: nothing left on the main queue; on the DLQ, exactly the invalid messages (copied there by
  // the worker, possibly twice when a worker died between the copy and the delete) and the jobs that used up
  // their receives (moved there by SQS).
  if (run.mainQueueLeft > 0) problems.push(`${run.mainQueueLeft} messages left on the main queue`);
  const dlq = stack.fauxqs.inspectQueue(stack.dlqName);
  const dead = [...(dlq?.messages.ready ?? []), ...(dlq?.messages.inflight.map((m) => m.message) ?? [])];
  const original = (m: (typeof dead)[number]) =>
    m.messageAttributes?.original_message_id?.StringValue ?? m.messageId;
  const inDlq = new Set(dead.map(original));
  const expected = new Set(
    [...jobs.values()]
      .filter(({ kind, job }) => kind === 'invalid_message' || exhausted.has(job.predictionId))
      .map(({ job }) => job.messageId),
  );
  const missing = [...expected].filter((id) => !inDlq.has(id));
  const unexpected = [...inDlq].filter((id) => !expected.has(id));
  if (missing.length > 0) problems.push(`${missing.length} messages missing from the DLQ`);
  if (unexpected.length > 0) problems.push(`${unexpected.length} unexpected messages in the DLQ`);

  if (problems.length > 0) {
    throw new Error(`soak failed:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const waits = completed.map((row) => Math.max(0, Number(row.wait_ms)) / 1000).sort((a, b) => a - b);
  return {
    jobs: ids.length,
    messages: ids.length + kinds.duplicate,
    kinds,
    kills: run.kills,
    postgres_restart_at_s: run.restartAt,
    seconds: run.seconds,
    jobs_per_s: ids.length / run.seconds,
    queue_wait_s: {
      p50: percentile(waits, 0.5),
      p99: percentile(waits, 0.99),
      max: waits.at(-1) ?? Number.NaN,
    },
    completed: completed.length,
    failed: rows.length - completed.length,
    exhausted: exhausted.size,
    outputs: written.size,
    dlq: { expected: expected.size, messages: inDlq.size, copies: dead.length },
    machine: { cpus: os.cpus().length, load_average: os.loadavg(), node: process.version },
  };
}
