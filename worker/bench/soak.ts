import { ListObjectsV2Command, type _Object } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import os from 'node:os';
import { DLQ_FAILURE_MESSAGE } from '../src/dlq.js';
import { DEMO_USER_ID, submitJob, type SubmittedJob } from '../local/backend.js';
import { startLocalStack, type LocalStack } from '../local/stack.js';
import { updateResults } from './results-file.js';
import { buildWorker, spawnWorkerChild, waitSettled, type WorkerChild } from './processes.js';
import { smallCsv } from './small-csv.js';

/**
 * `npm run bench -- --soak`: two worker processes take a steady stream of mixed jobs while one of them is killed
 * (SIGKILL) and restarted every few seconds and PostgreSQL restarts once in the middle. It then checks what must
 * hold whatever crashed: no row is left QUEUED or RUNNING, each kind of job ends as it should, no job was
 * completed twice or has more than its one results object, the main queue is empty and the DLQ holds exactly the
 * messages that belong there. It fails (exit 1) with every broken invariant listed, and otherwise reports jobs/s
 * and the worst queue wait. Figures go to results.json under `soak`.
 *
 *   BENCH_SOAK_JOBS (1000)  BENCH_SOAK_RATE (25 jobs/s submitted)  BENCH_SOAK_KILL_SECONDS (10)
 */

const KINDS = ['good', 'duplicate', 'slow', 'huge', 'invalid_csv', 'invalid_message'] as const;
type Kind = (typeof KINDS)[number];

/** jobs of each kind in every hundred, the rest good */
const PER_HUNDRED: Record<Exclude<Kind, 'good'>, number> = {
  duplicate: 7,
  slow: 1,
  huge: 2,
  invalid_csv: 5,
  invalid_message: 5,
};
const EXPECTED: Record<Kind, 'COMPLETED' | 'FAILED'> = {
  good: 'COMPLETED',
  duplicate: 'COMPLETED',
  slow: 'COMPLETED',
  huge: 'FAILED',
  invalid_csv: 'FAILED',
  invalid_message: 'FAILED',
};
/** rows of a slow job: seconds of scoring, longer than the visibility timeout, so only heartbeats keep it ours */
const SLOW_ROWS = 60_000;
/** a huge upload: one record with no line break, well past the scorer's 1 MiB record limit */
const HUGE_BYTES = 3 * 1024 * 1024;

// Short enough that a killed worker's jobs come back in seconds; the attempts and their back-off (2, 4, 8, 16 s
// at most) outlast the database restart, so neither the kills nor the restart should use up a job's receives.
const STACK = { visibilityTimeoutSeconds: 5, maxReceiveCount: 5 };
const WORKER_ENV = {
  WORKER_CONCURRENCY: '4',
  DATABASE_POOL_SIZE: '4',
  HEARTBEAT_INTERVAL_SECONDS: '1',
  RETRY_BASE_DELAY_SECONDS: '2',
  REQUEST_TIMEOUT_SECONDS: '5',
  JOB_TIMEOUT_SECONDS: '60',
  SHUTDOWN_TIMEOUT_SECONDS: '5',
};
const POSTGRES_DOWN_MS = 3000;
const MAX_SUBMITTING = 8;

export interface SoakOptions {
  jobs: number;
  submitPerSecond: number;
  killEverySeconds: number;
}

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

function kindOf(i: number): Kind {
  let slot = i % 100;
  for (const kind of KINDS.slice(1) as Exclude<Kind, 'good'>[]) {
    if (slot < PER_HUNDRED[kind]) return kind;
    slot -= PER_HUNDRED[kind];
  }
  return 'good';
}

async function submit(stack: LocalStack, kind: Kind, i: number): Promise<SubmittedJob> {
  const filename = `soak-${i}.csv`;
  switch (kind) {
    case 'good':
      return submitJob(stack, { csv: smallCsv(10, i * 10), filename });
    case 'slow':
      return submitJob(stack, { csv: smallCsv(SLOW_ROWS), filename });
    case 'huge':
      return submitJob(stack, { csv: `customerID,tenure\nC1,${'9'.repeat(HUGE_BYTES)}`, filename });
    case 'invalid_csv':
      return submitJob(stack, { csv: 'name,plan\nAda,gold\n', filename });
    case 'invalid_message':
      return submitJob(stack, {
        csv: smallCsv(10),
        filename,
        editBody: (b) => ({ ...b, upload_id: 'seven' }),
      });
    case 'duplicate': {
      // the backend publishing twice (a retried request): the same body and attributes again
      const job = await submitJob(stack, { csv: smallCsv(10, i * 10), filename });
      await stack.sqs.send(
        new SendMessageCommand({
          QueueUrl: stack.queueUrl,
          MessageBody: job.body,
          MessageAttributes: {
            task_type: { DataType: 'String', StringValue: 'ml_prediction' },
            user_id: { DataType: 'String', StringValue: job.userId },
          },
        }),
      );
      return job;
    }
  }
}

/** A gate submissions wait at while PostgreSQL restarts, so no upload half-happens against a stopped database. */
function gate() {
  let opened: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  return {
    wait: () => opened,
    close() {
      opened = new Promise((resolve) => (release = resolve));
    },
    open: () => release(),
  };
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

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const stack = await startLocalStack(STACK);
  const children: WorkerChild[] = [];
  const killed = new Set<WorkerChild>();
  // A worker that exits by itself (not our SIGKILL) ends the soak at once, with what it said last.
  let onCrash: (error: Error) => void = () => undefined;
  const crashed = new Promise<never>((_resolve, reject) => (onCrash = reject));
  crashed.catch(() => undefined);
  const spawn = () => {
    const child = spawnWorkerChild(stack, WORKER_ENV);
    let stderr = '';
    child.child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.child.once('exit', (code, signal) => {
      if (killed.has(child)) return;
      const last = child
        .logs()
        .slice(-5)
        .map((line) => JSON.stringify(line))
        .join('\n');
      onCrash(new Error(`a worker exited by itself (${signal ?? code}):\n${last}\n${stderr}`));
    });
    children.push(child);
    return child;
  };
  try {
    const workers = [spawn(), spawn()];
    await Promise.all(workers.map((w) => w.ready));
    const started = performance.now();
    const elapsedS = () => (performance.now() - started) / 1000;

    const jobs = new Map<string, { kind: Kind; job: SubmittedJob }>();
    const submissions = gate();
    const submitFailures: string[] = [];
    let inFlightSubmissions = 0;
    let soaking = true;
    const submitter = (async () => {
      for (let i = 0; i < options.jobs; i++) {
        await submissions.wait();
        // paced from the start, so a pause (the restart) is followed by a catch-up burst, as a backlog would be
        const due = started + (i * 1000) / options.submitPerSecond;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        await submissions.wait();
        // as a backend's few request handlers would: a machine that cannot keep up falls behind the pace
        while (inFlightSubmissions >= MAX_SUBMITTING) await new Promise((resolve) => setTimeout(resolve, 5));
        inFlightSubmissions += 1;
        const kind = kindOf(i);
        void submit(stack, kind, i)
          .then(
            (job) => void jobs.set(job.predictionId, { kind, job }),
            (error: unknown) => void submitFailures.push(`${kind} job ${i}: ${String(error)}`),
          )
          .finally(() => (inFlightSubmissions -= 1));
      }
      while (inFlightSubmissions > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    })();

    let kills = 0;
    const killer = (async () => {
      while (soaking) {
        await new Promise((resolve) => setTimeout(resolve, options.killEverySeconds * 1000));
        const victim = workers[0];
        if (!victim || !soaking) break;
        killed.add(victim);
        victim.child.kill('SIGKILL');
        await new Promise((resolve) => victim.child.once('exit', resolve));
        kills += 1;
        workers[0] = spawn();
        await workers[0].ready;
      }
    })();
    killer.catch(() => undefined); // observed here, rethrown where it is awaited

    const restartAfterMs = ((options.jobs / options.submitPerSecond) * 1000) / 2;
    await new Promise((resolve) => setTimeout(resolve, restartAfterMs));
    submissions.close();
    while (inFlightSubmissions > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const restartAt = elapsedS();
    await stack.stopPostgres();
    await new Promise((resolve) => setTimeout(resolve, POSTGRES_DOWN_MS));
    await stack.startPostgres();
    submissions.open();

    await submitter;
    // the kills go on until every row has settled, so the backlog's last jobs are interrupted too
    await Promise.race([waitSettled(stack, [...jobs.keys()], 100, 600_000), crashed]).finally(
      () => (soaking = false),
    );
    await killer;
    const queueLeft = () => {
      const queue = stack.fauxqs.inspectQueue(stack.queueName);
      return (
        (queue?.messages.ready.length ?? 0) +
        (queue?.messages.inflight.length ?? 0) +
        (queue?.messages.delayed.length ?? 0)
      );
    };
    // Messages of jobs failed on their last attempt are moved to the DLQ by the next receive after they
    // reappear; duplicates and late copies are deleted once received.
    const drainDeadline = Date.now() + 120_000;
    while (queueLeft() > 0 && Date.now() < drainDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = elapsedS();

    return await check(stack, jobs, children, {
      kills,
      restartAt,
      seconds,
      mainQueueLeft: queueLeft(),
      submitFailures,
      options,
    });
  } finally {
    const running = children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    for (const child of running) killed.add(child);
    await Promise.all(running.map((c) => c.stop()));
    await stack.stop();
  }
}

async function check(
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

/** The --soak entry point of run.ts: runs, prints, and records the figures under `soak` in `resultsFile`. */
export async function runSoakBench(resultsFile: string): Promise<void> {
  const options: SoakOptions = {
    jobs: Number(process.env.BENCH_SOAK_JOBS ?? 1000),
    submitPerSecond: Number(process.env.BENCH_SOAK_RATE ?? 25),
    killEverySeconds: Number(process.env.BENCH_SOAK_KILL_SECONDS ?? 10),
  };
  process.stdout.write('building the worker as the image does...\n');
  buildWorker();
  process.stdout.write(
    `soak: ${options.jobs} jobs at ${options.submitPerSecond}/s, a worker killed every ${options.killEverySeconds} s, one PostgreSQL restart...\n`,
  );
  const soak = await runSoak(options);
  await updateResults(resultsFile, { soak: { generatedAt: new Date().toISOString(), ...soak } });
  process.stdout.write(
    `${soak.jobs} jobs (${soak.messages} messages) in ${soak.seconds.toFixed(1)} s: ${soak.jobs_per_s.toFixed(1)} jobs/s; ` +
      `${soak.kills} kills, PostgreSQL restarted at ${soak.postgres_restart_at_s.toFixed(1)} s\n` +
      `queue wait p50 ${soak.queue_wait_s.p50.toFixed(2)} s, p99 ${soak.queue_wait_s.p99.toFixed(2)} s, worst ${soak.queue_wait_s.max.toFixed(2)} s\n` +
      `${soak.completed} COMPLETED, ${soak.failed} FAILED (${soak.exhausted} after every attempt); ` +
      `DLQ ${soak.dlq.messages} messages as expected (${soak.dlq.copies} copies)\n` +
      `wrote ${resultsFile}\n`,
  );
}
