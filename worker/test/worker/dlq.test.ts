import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config.js';
import { abandonedAfterSeconds, createDeadLetterSweeper, DLQ_FAILURE_MESSAGE } from '../../src/dlq.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { createPool, createStore, type Store } from '../../src/store.js';
import { readPrediction, submitJob, telcoCsv, useStack } from '../support/harness.js';

/**
 * A job whose worker died on its last attempt reaches the DLQ with its row RUNNING; the sweeper fails that row
 * from the database once no attempt can still be working on it, and never reads the DLQ.
 */

const context = useStack();
let config: Config;
let store: Store;
let sqs: SQSClient;

beforeAll(() => {
  config = loadConfig(context.stack.workerEnv());
  store = createStore(createPool(config.database, () => undefined));
  sqs = new SQSClient({
    region: config.region,
    endpoint: config.endpoint,
    credentials: { accessKeyId: 'l', secretAccessKey: 'l' },
  });
});
afterAll(async () => {
  sqs.destroy();
  await store.close();
});

function sweeper() {
  return createDeadLetterSweeper({
    store,
    metrics: createMetrics({ namespace: 'RetainWise/Worker', environment: 'test', enabled: false }),
    logger: createLogger({ level: 'silent', environment: 'test', pretty: false }),
    abandonedAfterSeconds: abandonedAfterSeconds(config),
  });
}

/** a prediction row RUNNING since a claim `secondsAgo` seconds ago */
async function runningSince(secondsAgo: number) {
  const job = await submitJob(context.stack, { csv: telcoCsv(2), skipUpload: true });
  await context.stack.db.query(
    `UPDATE predictions SET status = 'RUNNING', updated_at = now() - make_interval(secs => $2) WHERE id = $1`,
    [job.predictionId, secondsAgo],
  );
  return job;
}

async function deadLetter(body: string) {
  await sqs.send(new SendMessageCommand({ QueueUrl: context.stack.dlqUrl, MessageBody: body }));
}

async function dlqCounts() {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: context.stack.dlqUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(Attributes?.ApproximateNumberOfMessages),
    hidden: Number(Attributes?.ApproximateNumberOfMessagesNotVisible),
  };
}

describe('abandonedAfterSeconds', () => {
  const defaults = {
    jobTimeoutSeconds: 3600,
    requestTimeoutSeconds: 30,
    visibilityTimeoutSeconds: 300,
    maxReceiveCount: 3,
    retryBaseDelaySeconds: 30,
  };

  it('outlasts an attempt at its time limit, its message reappearing and a worker claiming it again', () => {
    expect(abandonedAfterSeconds(defaults)).toBe(3600 + 10 * 30 + 300 + 300);
  });

  it('waits out the longest retry delay before the last attempt when that exceeds the visibility timeout', () => {
    // the second of three receives backs off up to 600 x 2 = 1200 s, capped at 900
    expect(abandonedAfterSeconds({ ...defaults, retryBaseDelaySeconds: 600 })).toBe(3600 + 300 + 900 + 300);
  });
});

it('fails the row of a job that died on its last attempt in one sweep however full the DLQ is, hiding none of it', async () => {
  const crashed = await runningSince(abandonedAfterSeconds(config) + 1);
  for (let batch = 0; batch < 12; batch += 1) {
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: context.stack.dlqUrl,
        Entries: Array.from({ length: 10 }, (_, i) => ({
          Id: String(i),
          MessageBody: JSON.stringify({ prediction_id: randomUUID() }),
        })),
      }),
    );
  }
  await deadLetter(crashed.body);
  const before = await dlqCounts();

  await sweeper().sweep();

  expect(await readPrediction(context.stack, crashed.predictionId)).toMatchObject({
    status: 'FAILED',
    error_message: DLQ_FAILURE_MESSAGE,
  });
  expect(await dlqCounts()).toEqual(before);
});

it('leaves a row a live attempt may still hold, and QUEUED and finished rows, alone', async () => {
  const slowButAlive = await runningSince(abandonedAfterSeconds(config) - 60);
  const queued = await submitJob(context.stack, { csv: telcoCsv(2), skipUpload: true });
  await context.stack.db.query(
    `UPDATE predictions SET updated_at = now() - interval '30 days' WHERE id = $1`,
    [queued.predictionId],
  );
  const done = await runningSince(abandonedAfterSeconds(config) + 1);
  await context.stack.db.query(`UPDATE predictions SET status = 'COMPLETED' WHERE id = $1`, [
    done.predictionId,
  ]);

  await sweeper().sweep();

  expect((await readPrediction(context.stack, slowButAlive.predictionId))?.status).toBe('RUNNING');
  expect((await readPrediction(context.stack, queued.predictionId))?.status).toBe('QUEUED');
  expect((await readPrediction(context.stack, done.predictionId))?.status).toBe('COMPLETED');
});

it('fails each abandoned row once when several workers sweep at the same time', async () => {
  const crashed = await Promise.all([1, 2, 3].map(() => runningSince(abandonedAfterSeconds(config) + 1)));

  const counts = await Promise.all([sweeper().sweep(), sweeper().sweep(), sweeper().sweep()]);

  expect(counts.reduce((a, b) => a + b)).toBe(crashed.length);
  for (const job of crashed) {
    expect((await readPrediction(context.stack, job.predictionId))?.status).toBe('FAILED');
  }
});

it('loses to a redelivery that claims the row first', async () => {
  const redelivered = await runningSince(abandonedAfterSeconds(config) + 1);
  const claim = await store.claim(redelivered.predictionId, {
    receiveCount: 2,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
  });

  await sweeper().sweep();

  expect(claim.outcome).toBe('claimed');
  expect((await readPrediction(context.stack, redelivered.predictionId))?.status).toBe('RUNNING');
});
