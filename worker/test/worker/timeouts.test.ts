import { afterEach, expect, it } from 'vitest';
import type { LocalStack } from '../../local/stack.js';
import type { RunningWorker } from '../../src/worker.js';
import { FAST, spawnWorker, telcoCsv, useStack, waitFor } from '../support/harness.js';
import { awsService, startStallProxy, type StallProxy } from '../support/stall-proxy.js';

/**
 * A network path that accepts connections and then never answers (issue #13.1): every SQS, S3 and PostgreSQL call
 * has a deadline that really aborts it, the failure is retried like any transient one, and the worker recovers
 * once the path answers again. The worker reaches the emulator and PostgreSQL only through stalling proxies, with
 * REQUEST_TIMEOUT_SECONDS short enough that a deadline passes in seconds.
 */

const context = useStack({ visibilityTimeoutSeconds: 5 });
const REQUEST_TIMEOUT_SECONDS = 2;
/** a few deadlines: one hung call, the SDK's retries, the job's back-off; far below any fixed 30 s limit */
const RECOVERS_WITHIN_MS = 20_000;

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let proxies: StallProxy[] = [];
let worker: RunningWorker | undefined;
afterEach(async () => {
  // Stopped while its connections still work, so no poll of this worker outlives it in the emulator (one would
  // take the next test's message); closing the proxies ends whatever a worker without deadlines still waits on.
  for (const proxy of proxies) proxy.resume();
  const stopped = worker?.stop();
  await Promise.race([stopped, pause(10_000)]);
  await Promise.all(proxies.map((p) => p.close()));
  await stopped;
  proxies = [];
  worker = undefined;
});

async function proxiedEnv(stack: LocalStack) {
  const aws = await startStallProxy({ port: stack.fauxqs.port }, awsService);
  const database = new URL(stack.workerDatabaseUrl);
  const db = await startStallProxy({ port: Number(database.port) });
  proxies.push(aws, db);
  database.port = String(db.port);
  const env = {
    AWS_ENDPOINT_URL: `http://127.0.0.1:${aws.port}`,
    DATABASE_URL: database.toString(),
    REQUEST_TIMEOUT_SECONDS: String(REQUEST_TIMEOUT_SECONDS),
    SHUTDOWN_TIMEOUT_SECONDS: '1',
  };
  return { aws, db, env };
}

async function startJobThenStall(proxy: StallProxy, kind: string | undefined, rows: number) {
  const job = await context.submitJob({ csv: telcoCsv(rows) });
  await context.waitForPrediction(job.predictionId, { done: (row) => row.status === 'RUNNING' });
  if (kind === undefined) proxy.stall();
  else proxy.stall(kind);
  return job;
}

it('recovers its receive loop when SQS stalls while idle', async () => {
  const { aws, env } = await proxiedEnv(context.stack);
  worker = await context.startTestWorker(env);
  aws.stall('sqs');
  await waitFor(() => (aws.stalled('sqs') > 0 ? true : undefined));
  await pause(REQUEST_TIMEOUT_SECONDS * 1000);
  aws.resume();
  const job = await context.submitJob({ csv: telcoCsv(10) });
  expect(await context.waitForPrediction(job.predictionId, { timeoutMs: RECOVERS_WITHIN_MS })).toMatchObject({
    status: 'COMPLETED',
    rows_processed: 10,
  });
});

it('completes a job whose message could not be settled while SQS stalled', async () => {
  const { aws, env } = await proxiedEnv(context.stack);
  worker = await context.startTestWorker(env);
  const job = await startJobThenStall(aws, 'sqs', 20_000);
  expect(await context.waitForPrediction(job.predictionId)).toMatchObject({ status: 'COMPLETED' });
  aws.resume();
  // The delete hung and was abandoned; the redelivery finds the row COMPLETED and deletes the message.
  await context.stack.fauxqs.spy.waitForMessageWithId(job.messageId, 'consumed', RECOVERS_WITHIN_MS);
});

it('retries a job whose S3 transfers stall mid-job, and completes it', async () => {
  const { aws, env } = await proxiedEnv(context.stack);
  worker = await context.startTestWorker(env);
  const job = await startJobThenStall(aws, 's3', 40_000);
  await waitFor(() => (aws.stalled('s3') > 0 ? true : undefined));
  await pause(REQUEST_TIMEOUT_SECONDS * 1000);
  aws.resume();
  expect(await context.waitForPrediction(job.predictionId, { timeoutMs: RECOVERS_WITHIN_MS })).toMatchObject({
    status: 'COMPLETED',
    rows_processed: 40_000,
    error_message: null,
  });
});

it('retries a job whose database connection stalls mid-job, and completes it', async () => {
  const { db, env } = await proxiedEnv(context.stack);
  worker = await context.startTestWorker(env);
  const job = await startJobThenStall(db, undefined, 20_000);
  await pause(REQUEST_TIMEOUT_SECONDS * 1000);
  db.resume();
  expect(await context.waitForPrediction(job.predictionId, { timeoutMs: RECOVERS_WITHIN_MS })).toMatchObject({
    status: 'COMPLETED',
    rows_processed: 20_000,
  });
});

it('claims a job once the database answers again after stalling while idle', async () => {
  const { db, env } = await proxiedEnv(context.stack);
  worker = await context.startTestWorker(env);
  // a finished job leaves idle connections in the pool, which the stall then hangs
  const first = await context.submitJob({ csv: telcoCsv(10) });
  expect((await context.waitForPrediction(first.predictionId)).status).toBe('COMPLETED');
  db.stall();
  const job = await context.submitJob({ csv: telcoCsv(10) });
  await waitFor(() => (db.stalled() > 0 ? true : undefined));
  await pause(REQUEST_TIMEOUT_SECONDS * 1000);
  db.resume();
  expect(await context.waitForPrediction(job.predictionId, { timeoutMs: RECOVERS_WITHIN_MS })).toMatchObject({
    status: 'COMPLETED',
    rows_processed: 10,
  });
});

it('exits within its shutdown timeout on SIGTERM while SQS and the database stall', async () => {
  const { aws, db, env } = await proxiedEnv(context.stack);
  const child = spawnWorker(context.stack.workerEnv({ ...FAST, LOG_LEVEL: 'info', ...env }));
  try {
    await waitFor(() => (child.output().includes('"msg":"worker ready"') ? true : undefined), 20_000);
    const job = await context.submitJob({ csv: telcoCsv(20_000) });
    await context.waitForPrediction(job.predictionId, { done: (row) => row.status === 'RUNNING' });
    aws.stall('sqs');
    db.stall();
    child.child.kill('SIGTERM');
    // SHUTDOWN_TIMEOUT_SECONDS plus the clean-up the task's stopTimeout leaves room for, in the test's scale
    const exited = await Promise.race([child.exited, pause(15_000).then(() => 'still running' as const)]);
    expect(exited, child.output()).toBe(0);
    expect(child.output()).toContain('"msg":"worker stopped"');
  } finally {
    child.child.kill('SIGKILL');
  }
});
