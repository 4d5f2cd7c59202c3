import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createDlqSweeper, DLQ_FAILURE_MESSAGE } from '../../src/dlq.js';
import { createLogger } from '../../src/logger.js';
import { createMetrics } from '../../src/metrics.js';
import { createQueue } from '../../src/queue.js';
import { createPool, createStore, type Store } from '../../src/store.js';
import { readPrediction, submitJob, telcoCsv, useStack, waitForPrediction } from '../support/harness.js';

/** A job whose worker died on every attempt reaches the DLQ with its row RUNNING; the sweep fails that row. */

const context = useStack();
let store: Store;
let sqs: SQSClient;

beforeAll(() => {
  const config = loadConfig(context.stack.workerEnv());
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
  const config = loadConfig(context.stack.workerEnv());
  return createDlqSweeper({
    queue: createQueue(sqs, {
      queueUrl: config.queueUrl,
      dlqUrl: config.dlqUrl,
      waitTimeSeconds: 0,
      visibilityTimeoutSeconds: 30,
    }),
    store,
    metrics: createMetrics({ namespace: 'RetainWise/Worker', environment: 'test', enabled: false }),
    logger: createLogger({ level: 'silent', environment: 'test', pretty: false }),
    hideSeconds: 300,
  });
}

async function deadLetter(body: string, attributes: Record<string, string> = {}) {
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: context.stack.dlqUrl,
      MessageBody: body,
      MessageAttributes: Object.fromEntries(
        Object.entries(attributes).map(([k, v]) => [k, { DataType: 'String', StringValue: v }]),
      ),
    }),
  );
}

it('fails the RUNNING row a dead-lettered message names, and only that row', async () => {
  const crashed = await submitJob(context.stack, { csv: telcoCsv(2), skipUpload: true });
  const bystander = await submitJob(context.stack, { csv: telcoCsv(2), skipUpload: true });
  // as if a worker had claimed it and died on every attempt
  await context.stack.db.query(`UPDATE predictions SET status = 'RUNNING' WHERE id = $1`, [
    crashed.predictionId,
  ]);
  await deadLetter(crashed.body);
  await deadLetter('not json');

  expect(await sweeper().sweep()).toBe(1);
  expect(await waitForPrediction(context.stack, crashed.predictionId)).toMatchObject({
    status: 'FAILED',
    error_message: DLQ_FAILURE_MESSAGE,
  });
  expect((await readPrediction(context.stack, bystander.predictionId))?.status).toBe('QUEUED');
});

it('leaves rows alone for messages the worker rejected itself, and never touches finished rows', async () => {
  const rejected = await submitJob(context.stack, { csv: telcoCsv(2), skipUpload: true });
  await deadLetter(rejected.body, { rejection_reason: 'timestamp older than 96h' });
  const done = await submitJob(context.stack, { csv: telcoCsv(2), skipUpload: true });
  await context.stack.db.query(`UPDATE predictions SET status = 'COMPLETED' WHERE id = $1`, [
    done.predictionId,
  ]);
  await deadLetter(done.body);

  expect(await sweeper().sweep()).toBe(0);
  expect((await readPrediction(context.stack, rejected.predictionId))?.status).toBe('QUEUED');
  expect((await readPrediction(context.stack, done.predictionId))?.status).toBe('COMPLETED');
});

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

it('fails the row of a job that died on its last attempt in one sweep however full the DLQ is, hiding none of it', async () => {
  const crashed = await submitJob(context.stack, { csv: telcoCsv(2), skipUpload: true });
  await context.stack.db.query(
    `UPDATE predictions SET status = 'RUNNING', updated_at = now() - interval '1 day' WHERE id = $1`,
    [crashed.predictionId],
  );
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
