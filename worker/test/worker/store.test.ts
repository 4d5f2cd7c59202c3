import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { TransientError } from '../../src/errors.js';
import { createPool, createStore, type Store } from '../../src/store.js';
import { DEMO_USER_ID, readPrediction, useStack } from '../support/harness.js';

/** The database writes, on a real PostgreSQL with the backend's schema, as the worker's least-privilege role. */

const context = useStack();
let store: Store;

beforeAll(() => {
  const config = loadConfig(context.stack.workerEnv());
  store = createStore(createPool(config.database, () => undefined));
});
afterAll(async () => {
  await store.close();
});

/** Inserts an upload and a prediction as the backend does; returns their ids. */
async function insertJob(status = 'QUEUED', options: { updatedSecondsAgo?: number } = {}) {
  const { db } = context.stack;
  await db.query(
    `INSERT INTO users (id, email, clerk_id, full_name) VALUES ($1, $2, $1, 'Test') ON CONFLICT (id) DO NOTHING`,
    [DEMO_USER_ID, `${DEMO_USER_ID}@example.com`],
  );
  const upload = await db.query<{ id: number }>(
    `INSERT INTO uploads (filename, s3_object_key, file_size, user_id, upload_time, status, created_at, updated_at)
     VALUES ('a.csv', 'uploads/x/a.csv', 10, $1, now(), 'uploaded', now(), now()) RETURNING id`,
    [DEMO_USER_ID],
  );
  const id = randomUUID();
  const uploadId = upload.rows[0]!.id;
  await db.query(
    `INSERT INTO predictions (id, upload_id, user_id, status, updated_at)
     VALUES ($1, $2, $3, $4, now() - make_interval(secs => $5))`,
    [id, uploadId, DEMO_USER_ID, status, options.updatedSecondsAgo ?? 0],
  );
  return { id, uploadId };
}

async function uploadStatus(uploadId: number): Promise<string | undefined> {
  const result = await context.stack.db.query<{ status: string }>(
    'SELECT status FROM uploads WHERE id = $1',
    [uploadId],
  );
  return result.rows[0]?.status;
}

const FIRST = { receiveCount: 1, visibilityTimeoutSeconds: 300 };
const METRICS = {
  rows_processed: 2,
  original_rows: 3,
  positive_rate: 0.5,
  processing_timestamp: '2025-12-07T14:02:34.512000',
  model_version: '1',
};

describe('claim (one conditional UPDATE, database.md §6)', () => {
  it('moves a QUEUED row to RUNNING and returns it with its upload', async () => {
    const { id, uploadId } = await insertJob();
    const before = await readPrediction(context.stack, id);
    const result = await store.claim(id, FIRST);
    expect(result).toEqual({
      outcome: 'claimed',
      prediction: {
        uploadId,
        userId: DEMO_USER_ID,
        uploadUserId: DEMO_USER_ID,
        uploadKey: 'uploads/x/a.csv',
      },
    });
    const after = await readPrediction(context.stack, id);
    expect(after?.status).toBe('RUNNING');
    expect(after!.updated_at.getTime()).toBeGreaterThanOrEqual(before!.updated_at.getTime());
  });

  it('lets exactly one of many concurrent first deliveries win', async () => {
    const { id } = await insertJob();
    const results = await Promise.all(Array.from({ length: 5 }, () => store.claim(id, FIRST)));
    expect(results.filter((r) => r.outcome === 'claimed')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'duplicate')).toHaveLength(4);
  });

  it('treats a fresh RUNNING row on a first delivery as a duplicate copy in progress', async () => {
    const { id } = await insertJob('RUNNING');
    expect(await store.claim(id, FIRST)).toEqual({ outcome: 'duplicate' });
  });

  it('reclaims a RUNNING row on a redelivery (an earlier attempt died)', async () => {
    const { id } = await insertJob('RUNNING');
    expect((await store.claim(id, { ...FIRST, receiveCount: 2 })).outcome).toBe('claimed');
  });

  it('reclaims a RUNNING row older than the visibility timeout even on a first delivery', async () => {
    const { id } = await insertJob('RUNNING', { updatedSecondsAgo: 301 });
    expect((await store.claim(id, FIRST)).outcome).toBe('claimed');
  });

  it.each(['COMPLETED', 'FAILED'])('never reopens a %s row', async (status) => {
    const { id } = await insertJob(status);
    expect(await store.claim(id, { ...FIRST, receiveCount: 3 })).toEqual({ outcome: 'final', status });
    expect((await readPrediction(context.stack, id))?.status).toBe(status);
  });

  it('reports a missing row', async () => {
    expect(await store.claim(randomUUID(), FIRST)).toEqual({ outcome: 'missing' });
  });
});

describe('complete', () => {
  it('writes the result and marks the upload processed in one transaction', async () => {
    const { id, uploadId } = await insertJob('RUNNING');
    await context.stack.db.query(`UPDATE predictions SET error_message = 'old' WHERE id = $1`, [id]);
    const done = await store.complete(id, {
      uploadId,
      outputKey: `predictions/${DEMO_USER_ID}/${id}.csv`,
      rowsProcessed: 2,
      metrics: METRICS,
    });
    expect(done).toBe(true);
    const row = await readPrediction(context.stack, id);
    expect(row).toMatchObject({
      status: 'COMPLETED',
      s3_output_key: `predictions/${DEMO_USER_ID}/${id}.csv`,
      rows_processed: 2,
      error_message: null,
    });
    // json (not jsonb): the key order the API returns is the order written.
    const raw = await context.stack.db.query<{ text: string }>(
      'SELECT metrics_json::text AS text FROM predictions WHERE id = $1',
      [id],
    );
    expect(Object.keys(JSON.parse(raw.rows[0]!.text) as object)).toEqual([
      'rows_processed',
      'original_rows',
      'positive_rate',
      'processing_timestamp',
      'model_version',
    ]);
    expect(await uploadStatus(uploadId)).toBe('processed');
  });

  it('survives its connection reporting an error mid-transaction (a database restart), and never reuses it', async () => {
    const pool = createPool(loadConfig(context.stack.workerEnv()).database, () => undefined);
    const connect = pool.connect.bind(pool);
    // what pg does when the server ends a checked-out connection between two statements (the soak's restart)
    pool.connect = (async () => {
      const client = await connect();
      setImmediate(() =>
        client.emit('error', new Error('terminating connection due to administrator command')),
      );
      return client;
    }) as typeof pool.connect;
    const restarting = createStore(pool);
    const { id, uploadId } = await insertJob('RUNNING');
    try {
      await restarting
        .complete(id, { uploadId, outputKey: 'k', rowsProcessed: 1, metrics: METRICS })
        .catch((error: unknown) => expect(error).toBeInstanceOf(TransientError));
      expect(pool.totalCount).toBe(0);
    } finally {
      await restarting.close();
    }
  });

  it('writes nothing unless the row is RUNNING', async () => {
    for (const status of ['QUEUED', 'COMPLETED', 'FAILED']) {
      const { id, uploadId } = await insertJob(status);
      const done = await store.complete(id, { uploadId, outputKey: 'k', rowsProcessed: 1, metrics: METRICS });
      expect(done).toBe(false);
      expect(await readPrediction(context.stack, id)).toMatchObject({
        status,
        s3_output_key: null,
        rows_processed: 0,
      });
      expect(await uploadStatus(uploadId)).toBe('uploaded');
    }
  });
});

describe('fail', () => {
  it.each(['QUEUED', 'RUNNING'])('fails a %s row with the message', async (status) => {
    const { id } = await insertJob(status);
    expect(await store.fail(id, 'Missing required columns: tenure')).toBe(true);
    expect(await readPrediction(context.stack, id)).toMatchObject({
      status: 'FAILED',
      error_message: 'Missing required columns: tenure',
    });
  });

  it.each(['COMPLETED', 'FAILED'])('never overwrites a %s row (lessons #1)', async (status) => {
    const { id } = await insertJob(status);
    expect(await store.fail(id, 'late failure')).toBe(false);
    expect(await readPrediction(context.stack, id)).toMatchObject({ status, error_message: null });
  });

  it('touches no other row', async () => {
    const bystander = await insertJob('QUEUED');
    const target = await insertJob('RUNNING');
    const before = await readPrediction(context.stack, bystander.id);
    await store.fail(target.id, 'x');
    expect(await readPrediction(context.stack, bystander.id)).toEqual(before);
  });
});

it('turns an unreachable database into a transient error', async () => {
  const config = loadConfig(
    context.stack.workerEnv({ DATABASE_URL: 'postgresql://u:p@127.0.0.1:1/retainwise' }),
  );
  const unreachable = createStore(createPool(config.database, () => undefined));
  await expect(unreachable.claim(randomUUID(), FIRST)).rejects.toBeInstanceOf(TransientError);
  await unreachable.close();
});
