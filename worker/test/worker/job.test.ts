import type { Message } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { describe, expect, it, vi } from 'vitest';
import type { JobContext } from '../../src/consumer.js';
import { JobAborted } from '../../src/errors.js';
import { createJobHandler } from '../../src/job.js';
import { createLogger } from '../../src/logger.js';
import { formatNaiveUtc } from '../../src/message.js';
import type { Metrics } from '../../src/metrics.js';
import type { ChurnModel } from '../../src/scoring/index.js';
import type { Storage } from '../../src/storage.js';
import type { ClaimResult, Store } from '../../src/store.js';

/**
 * The job handler's decisions with fake edges: what an aborted, unclaimable or already-settled job does to its
 * row and its message. Scoring itself, and the real S3 and database, are covered in jobs.test.ts.
 */

const BUCKET = 'retainwise-test-uploads';
const USER = 'user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh';
const KEY = `uploads/${USER}/20251207_140233-customers.csv`;
const MAX_RECEIVES = 3;

function message(): Message {
  return {
    MessageId: 'm1',
    Body: JSON.stringify({
      prediction_id: randomUUID(),
      upload_id: '7',
      user_id: USER,
      s3_file_path: `s3://${BUCKET}/${KEY}`,
      timestamp: formatNaiveUtc(new Date()),
    }),
  };
}

const CLAIMED: ClaimResult = {
  outcome: 'claimed',
  prediction: { uploadId: 7, userId: USER, uploadUserId: USER, uploadKey: KEY },
};

function setup(options: { claim?: () => Promise<ClaimResult>; fail?: () => Promise<boolean> } = {}) {
  const store = {
    claim: vi.fn(options.claim ?? (() => Promise.resolve(CLAIMED))),
    complete: vi.fn(() => Promise.resolve(true)),
    fail: vi.fn(options.fail ?? (() => Promise.resolve(true))),
    failAbandoned: vi.fn(() => Promise.resolve([])),
    close: vi.fn(() => Promise.resolve()),
  } satisfies Store;
  // An input that never arrives: the job runs until its signal aborts it, as a hung transfer would.
  const storage = {
    openInput: vi.fn(
      (_key: string, signal?: AbortSignal) =>
        new Promise<Readable>((_resolve, reject) =>
          signal?.addEventListener('abort', () => reject(signal.reason as Error)),
        ),
    ),
    createOutput: vi.fn(() => {
      throw new Error('no output expected');
    }),
    discardOutput: vi.fn(() => Promise.resolve()),
  } satisfies Storage;
  const failures: string[] = [];
  const metrics: Metrics = {
    jobCompleted: () => Promise.resolve(),
    jobFailed: ({ reason }) => Promise.resolve(void failures.push(reason)),
    queueWait: () => Promise.resolve(),
    messageParseError: () => Promise.resolve(),
  };
  const handler = createJobHandler({
    store,
    storage,
    queue: { sendToDlq: () => Promise.resolve() },
    model: {} as ChurnModel,
    metrics,
    logger: createLogger({ level: 'silent', environment: 'test', pretty: false }),
    settings: {
      bucket: BUCKET,
      messageMaxAgeSeconds: 3600,
      maxReceiveCount: MAX_RECEIVES,
      visibilityTimeoutSeconds: 300,
      retryBaseDelaySeconds: 30,
    },
  });
  return { store, storage, failures, handler };
}

/** runs the handler and aborts its signal with `reason` once the job is reading its input */
async function abortedJob(
  job: ReturnType<typeof setup>,
  reason: 'timeout' | 'shutdown',
  receiveCount: number,
) {
  const controller = new AbortController();
  const context: JobContext = { signal: controller.signal, receiveCount };
  const disposition = job.handler(message(), context);
  await vi.waitFor(() => expect(job.storage.openInput).toHaveBeenCalled());
  controller.abort(new JobAborted(reason));
  return disposition;
}

describe('a job its time limit aborts', () => {
  it('is retried after a back-off with its row left RUNNING, while attempts remain', async () => {
    const job = setup();
    const disposition = await abortedJob(job, 'timeout', 1);
    expect(disposition).toMatchObject({ action: 'retry' });
    expect(disposition.action === 'retry' && disposition.delaySeconds).toBeGreaterThanOrEqual(15);
    expect(job.store.fail).not.toHaveBeenCalled();
  });

  it('fails its row on the last attempt and stays on the queue for SQS to dead-letter', async () => {
    const job = setup();
    expect(await abortedJob(job, 'timeout', MAX_RECEIVES)).toEqual({ action: 'retry', delaySeconds: 0 });
    expect(job.store.fail).toHaveBeenCalledWith(
      expect.any(String),
      'Processing took too long on every attempt (3) - please upload the file again later',
    );
    expect(job.failures).toEqual(['transient']);
  });

  it('is left for a retry when its last attempt cannot record the failure', async () => {
    const job = setup({ fail: () => Promise.reject(new Error('database down')) });
    const disposition = await abortedJob(job, 'timeout', MAX_RECEIVES);
    expect(disposition.action === 'retry' && disposition.delaySeconds).toBeGreaterThan(0);
    expect(job.failures).toEqual([]);
  });
});

describe('a job the shutdown aborts', () => {
  it.each([1, MAX_RECEIVES])(
    'is handed back at once with its row left RUNNING (receive %i)',
    async (receiveCount) => {
      const job = setup();
      expect(await abortedJob(job, 'shutdown', receiveCount)).toEqual({ action: 'retry', delaySeconds: 0 });
      expect(job.store.fail).not.toHaveBeenCalled();
      expect(job.failures).toEqual([]);
    },
  );
});

describe('claiming', () => {
  it('retries after a back-off when the database cannot claim the row', async () => {
    const job = setup({ claim: () => Promise.reject(new Error('database down')) });
    const disposition = await job.handler(message(), {
      signal: new AbortController().signal,
      receiveCount: 1,
    });
    expect(disposition.action === 'retry' && disposition.delaySeconds).toBeGreaterThan(0);
    expect(job.storage.openInput).not.toHaveBeenCalled();
  });

  it.each<ClaimResult>([
    { outcome: 'missing' },
    { outcome: 'final', status: 'COMPLETED' },
    { outcome: 'final', status: 'FAILED' },
    { outcome: 'duplicate' },
  ])('deletes the message without reading the upload when the row is %o', async (claim) => {
    const job = setup({ claim: () => Promise.resolve(claim) });
    expect(await job.handler(message(), { signal: new AbortController().signal, receiveCount: 1 })).toEqual({
      action: 'delete',
    });
    expect(job.storage.openInput).not.toHaveBeenCalled();
    expect(job.store.fail).not.toHaveBeenCalled();
  });
});
