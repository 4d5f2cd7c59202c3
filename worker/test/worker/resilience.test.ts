import { expect, it } from 'vitest';
import { DEMO_USER_ID, telcoCsv, useStack, waitFor } from '../support/harness.js';

/**
 * Transient failures are retried by SQS with back-off and only the last attempt fails the row
 * (existing-system-lessons.md #2, #6): the database going away mid-job, and a job that can never finish.
 */

const context = useStack({ visibilityTimeoutSeconds: 5, maxReceiveCount: 3 });
const ROWS = 150_000;

it('survives the database going down mid-job: the row stays RUNNING, a redelivery completes it', async () => {
  const worker = await context.startTestWorker();
  try {
    // seconds of scoring, so the database really goes away while the job runs
    const job = await context.submitJob({ csv: telcoCsv(ROWS) });
    await context.waitForPrediction(job.predictionId, { done: (row) => row.status === 'RUNNING' });
    await context.stack.stopPostgres();
    const key = `predictions/${DEMO_USER_ID}/${job.predictionId}.csv`;
    expect(await context.listKeys(key), 'the job ended before the database went away').toEqual([]);
    // The results are written (S3 is fine) but the final UPDATE cannot reach the database.
    await waitFor(async () => ((await context.listKeys(key)).length === 1 ? true : undefined));
    await new Promise((resolve) => setTimeout(resolve, 500));
    await context.stack.startPostgres();

    const row = await context.waitForPrediction(job.predictionId);
    expect(row).toMatchObject({
      status: 'COMPLETED',
      rows_processed: ROWS,
      s3_output_key: key,
      error_message: null,
    });
    await context.stack.fauxqs.spy.waitForMessageWithId(job.messageId, 'consumed', 10_000);
    expect(await context.listKeys(key)).toEqual([key]);
  } finally {
    await worker.stop();
  }
});

it('fails a job that fails transiently on every attempt, on the last one, and lets SQS move it to the DLQ', async () => {
  // A time limit the job can never meet: each attempt is aborted and retried until attempts run out.
  const worker = await context.startTestWorker({
    JOB_TIMEOUT_SECONDS: '1',
    HEARTBEAT_INTERVAL_SECONDS: '1',
  });
  try {
    // ~5 s of scoring even on a fast machine: every attempt is cut off at 1 s, long before its upload ends
    const job = await context.submitJob({ csv: telcoCsv(200_000) });
    const row = await context.waitForPrediction(job.predictionId, { timeoutMs: 45_000 });
    expect(row).toMatchObject({
      status: 'FAILED',
      error_message: 'Processing took too long on every attempt (3) - please upload the file again later',
      s3_output_key: null,
    });
    await context.stack.fauxqs.spy.waitForMessage(
      { service: 'sqs', queueName: context.stack.queueName, body: job.body, status: 'dlq' },
      undefined,
      20_000,
    );
    expect((await context.dlqMessages()).map((m) => m.Body)).toContain(job.body);
    expect(await context.listKeys(`predictions/${DEMO_USER_ID}/${job.predictionId}`)).toEqual([]);
    expect((await context.readPrediction(job.predictionId))?.status).toBe('FAILED');
  } finally {
    await worker.stop();
  }
});
