import { S3Client } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createJobHandler } from '../../src/job.js';
import type { Logger } from '../../src/logger.js';
import type { Metrics } from '../../src/metrics.js';
import { loadModel } from '../../src/scoring/index.js';
import { createStorage, outputKey, type Storage } from '../../src/storage.js';
import { createPool, createStore, type Store } from '../../src/store.js';
import {
  DEMO_USER_ID,
  listKeys,
  readObject,
  readPrediction,
  submitJob,
  telcoCsv,
  useStack,
} from '../support/harness.js';
import { TransientError } from '../../src/errors.js';

/**
 * S3 refusing every results write (issue #13.3): a transient infrastructure fault with its own text and metric
 * reason, not "an unexpected error" logged with a stack. The handler runs against the real emulator for reads and
 * PostgreSQL, with an S3 client whose writes all fail as S3 fails them (500 InternalError).
 */

const context = useStack();
let store: Store;
beforeAll(() => {
  store = createStore(createPool(loadConfig(context.stack.workerEnv()).database, () => undefined));
});
afterAll(() => store.close());

const WRITES = new Set(['PutObjectCommand', 'CreateMultipartUploadCommand', 'UploadPartCommand']);

function s3WithFailingWrites(): S3Client {
  const s3 = new S3Client({
    region: context.stack.region,
    endpoint: context.stack.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 1,
  });
  s3.middlewareStack.add(
    (next, { commandName }) =>
      (args) => {
        if (!WRITES.has(commandName ?? '')) return next(args);
        throw Object.assign(new Error('We encountered an internal error. Please try again.'), {
          name: 'InternalError',
          $fault: 'server',
          $metadata: { httpStatusCode: 500 },
        });
      },
    { step: 'initialize', name: 'failWrites' },
  );
  return s3;
}

async function handlerWith(deps: { storage: Storage; logger?: Logger; reasons?: string[]; store?: Store }) {
  const metrics: Metrics = {
    jobCompleted: () => Promise.resolve(),
    jobFailed: ({ reason }) => Promise.resolve(void deps.reasons?.push(reason)),
    queueWait: () => Promise.resolve(),
    messageParseError: () => Promise.resolve(),
  };
  return createJobHandler({
    store: deps.store ?? store,
    storage: deps.storage,
    queue: { sendToDlq: () => Promise.resolve() },
    model: await loadModel(),
    metrics,
    logger: deps.logger ?? pino({ level: 'silent' }),
    settings: {
      bucket: context.stack.bucket,
      messageMaxAgeSeconds: 3600,
      maxReceiveCount: 3,
      visibilityTimeoutSeconds: 300,
      retryBaseDelaySeconds: 0,
    },
  });
}

async function receive(): Promise<Message> {
  const result = await context.stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: context.stack.queueUrl,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
      WaitTimeSeconds: 1,
    }),
  );
  const [message] = result.Messages ?? [];
  if (!message) throw new Error('no message');
  return message;
}

// Large enough for a multipart upload, as real results files are.
it('fails a job whose results cannot be saved on any attempt as a storage fault, with its own reason', async () => {
  type Line = { level: number; msg: string };
  const lines: Line[] = [];
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Line);
        done();
      },
    }),
  );
  const reasons: string[] = [];
  const handler = await handlerWith({
    storage: createStorage(s3WithFailingWrites(), context.stack.bucket),
    logger,
    reasons,
  });
  const job = await submitJob(context.stack, { csv: telcoCsv(5000) });
  const message = await receive();

  const signal = new AbortController().signal;
  expect(await handler(message, { signal, receiveCount: 1 })).toMatchObject({ action: 'retry' });
  expect(await handler(message, { signal, receiveCount: 3 })).toEqual({ action: 'retry', delaySeconds: 0 });

  expect(await readPrediction(context.stack, job.predictionId)).toMatchObject({
    status: 'FAILED',
    error_message: 'The results could not be saved on every attempt (3) - please upload the file again later',
    s3_output_key: null,
  });
  expect(reasons).toEqual(['results_not_saved']);
  // an expected infrastructure fault: a warning per attempt at most, never an error with a stack
  expect(lines.filter((l) => l.level >= 50)).toEqual([]);
  expect(JSON.stringify(lines)).not.toContain('    at ');
});

/**
 * Issue #13.4. The results must exist before the row may become COMPLETED, and the worker's role may write but
 * never delete them (infra/task-roles.ts, workerTaskPolicy), so a job that fails after writing them could leave the
 * customer's scored data behind a FAILED row, unserved (the API serves only COMPLETED rows' s3_output_key) and
 * unknown to anything that cleans up. Instead the job empties the object once its row is FAILED: no results
 * without a COMPLETED row, and an empty object under predictions/ is what the bucket's lifecycle rule removes.
 */
it('leaves no results behind a row that fails after they were written', async () => {
  const failingComplete: Store = {
    ...store,
    complete: () => Promise.reject(new TransientError('The database was unavailable')),
  };
  const handler = await handlerWith({
    storage: createStorage(context.stack.s3, context.stack.bucket),
    store: failingComplete,
  });
  const job = await submitJob(context.stack, { csv: telcoCsv(50) });
  const message = await receive();
  const key = outputKey(DEMO_USER_ID, job.predictionId);
  const signal = new AbortController().signal;

  expect(await handler(message, { signal, receiveCount: 1 })).toMatchObject({ action: 'retry' });
  // an attempt that will be retried keeps what it wrote: the next one overwrites it
  expect((await readObject(context.stack, key)).text).toContain('churn_probability');

  expect(await handler(message, { signal, receiveCount: 3 })).toEqual({ action: 'retry', delaySeconds: 0 });
  expect(await readPrediction(context.stack, job.predictionId)).toMatchObject({
    status: 'FAILED',
    s3_output_key: null,
  });
  expect(await listKeys(context.stack, key)).toEqual([key]);
  expect((await readObject(context.stack, key)).text).toBe('');
});
