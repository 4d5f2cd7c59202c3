import { readFileSync } from 'node:fs';
import pg from 'pg';
import type { DatabaseConfig } from './config.js';
import { TransientError } from './errors.js';

/**
 * The worker's only view of PostgreSQL (spec/database.md): the existing `predictions` and `uploads` tables, written
 * exactly as the existing worker writes them, but every write is conditional on the row's status and names one row
 * only: the prediction of the message in hand (existing-system-lessons.md #1, #5). The schema belongs to the
 * backend's Alembic migrations; the worker never changes it.
 *
 * `sqs_message_id` and `sqs_queued_at` are deliberately not written: the grants the worker's role needs
 * (database.md §7) do not include them, and logs already join message id and prediction id.
 */

export type PredictionStatus = 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';

/** The prediction as claimed, with its upload, so the job can check the message against both (lessons #10). */
export interface ClaimedPrediction {
  uploadId: number;
  userId: string;
  /** the upload row's owner and input key; null when the upload row is missing */
  uploadUserId: string | null;
  uploadKey: string | null;
}

export type ClaimResult =
  | { outcome: 'claimed'; prediction: ClaimedPrediction }
  /** no such row: an orphan message */
  | { outcome: 'missing' }
  /** COMPLETED or FAILED already: a duplicate or a late redelivery */
  | { outcome: 'final'; status: PredictionStatus }
  /** RUNNING, freshly claimed, and this is a first delivery: another consumer holds a duplicate copy */
  | { outcome: 'duplicate' };

/** metrics_json as the API reads it (database.md §5): these four keys first, in this order; extras after. */
export interface PredictionMetrics {
  rows_processed: number;
  original_rows: number;
  positive_rate: number;
  processing_timestamp: string;
  [extra: string]: string | number;
}

export interface Store {
  claim(
    predictionId: string,
    options: { receiveCount: number; visibilityTimeoutSeconds: number },
  ): Promise<ClaimResult>;
  /** false when the row is no longer RUNNING (another attempt finished it): nothing was written */
  complete(
    predictionId: string,
    result: { uploadId: number; outputKey: string; rowsProcessed: number; metrics: PredictionMetrics },
  ): Promise<boolean>;
  /** sets FAILED only from QUEUED or RUNNING; false when the row is missing or already final */
  fail(predictionId: string, errorMessage: string): Promise<boolean>;
  /** sets FAILED on every row RUNNING since its last claim more than `olderThanSeconds` ago; resolves to their ids */
  failAbandoned(olderThanSeconds: number, errorMessage: string): Promise<string[]>;
  close(): Promise<void>;
}

/** pg's TLS options for DATABASE_SSL: verify-full checks the chain against the RDS CAs and the host name. */
export function sslOptions(config: Pick<DatabaseConfig, 'ssl' | 'caFile'>): pg.PoolConfig['ssl'] {
  if (config.ssl === 'disable') return false;
  if (config.ssl === 'require') return { rejectUnauthorized: false };
  return { ca: readFileSync(config.caFile, 'utf8'), rejectUnauthorized: true };
}

/**
 * pg-pool's end() resolves once the pool has let go of its clients, not once their connections have closed:
 * `_remove` calls `client.end()` without waiting for it and emits `remove` when it is done (pg-pool index.js,
 * `_pulseQueue` and `_remove`). A server stopping in that gap (the local stack stops PostgreSQL right after the
 * worker) terminates a connection still closing, and the pool reports a lost connection that was never in use.
 */
const enders = new WeakMap<pg.Pool, () => Promise<void>>();

export function createPool(config: DatabaseConfig, onError: (error: Error) => void): pg.Pool {
  const pool = new pg.Pool({
    host: config.host,
    port: config.port,
    user: config.user,
    password: config.password,
    database: config.database,
    ssl: sslOptions(config),
    max: config.poolSize,
    application_name: 'retainwise-worker',
    // Deadlines for a database that accepts connections but never answers (issue #13), each of which fails the
    // call with an error the job retries as transient (brianc/node-postgres, packages/pg-pool/index.js and
    // packages/pg/lib/client.js): connectionTimeoutMillis bounds getting a client, from the pool or a new
    // connection, whose socket is destroyed when it passes; query_timeout is the client's own timer, which
    // fails a query whose answer never arrives (pool.query and a client released with that error then discard
    // the connection); statement_timeout is the server's, for a statement that runs too long on a live one.
    connectionTimeoutMillis: config.timeoutMs,
    query_timeout: config.timeoutMs,
    statement_timeout: config.timeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
  });
  // An idle client losing its connection (failover, restart) must not crash the process; the pool replaces it.
  pool.on('error', onError);
  let open = 0;
  let allClosed: (() => void) | undefined;
  pool.on('connect', () => (open += 1));
  pool.on('remove', () => {
    open -= 1;
    if (open === 0) allClosed?.();
  });
  enders.set(pool, async () => {
    const closed = open === 0 ? Promise.resolve() : new Promise<void>((resolve) => (allClosed = resolve));
    await pool.end();
    await closed;
  });
  return pool;
}

/** Ends a pool made by createPool and waits until every one of its connections has closed. */
export function endPool(pool: pg.Pool): Promise<void> {
  return (enders.get(pool) ?? (() => pool.end()))();
}

async function transient<T>(what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    // The statements are fixed and the values validated, so any database error is the database's state
    // (unreachable, failover, permissions being changed): worth retrying, never the customer's fault.
    throw new TransientError('The database was unavailable', {
      cause: error,
      detail: `database ${what} failed`,
    });
  }
}

const CLAIM = `
UPDATE predictions
   SET status = 'RUNNING', updated_at = now()
 WHERE id = $1
   AND (status = 'QUEUED'
        OR (status = 'RUNNING' AND ($2::int > 1 OR updated_at < now() - make_interval(secs => $3::int))))
RETURNING upload_id, user_id,
          (SELECT u.user_id FROM uploads u WHERE u.id = predictions.upload_id) AS upload_user_id,
          (SELECT u.s3_object_key FROM uploads u WHERE u.id = predictions.upload_id) AS upload_key`;

/**
 * The result and the upload's status in one statement, so one round trip instead of a four-statement transaction
 * (BEGIN, two UPDATEs, COMMIT): a statement is its own transaction, so both rows change or neither does, and the
 * upload changes only when the prediction did. Data-modifying WITH queries run to completion whether or not the
 * outer query reads them, on the same snapshot (PostgreSQL manual, 7.8.4); a concurrent attempt's UPDATE waits
 * on the prediction's row lock and re-checks status = 'RUNNING' as before.
 */
const COMPLETE = `
WITH completed AS (
  UPDATE predictions
     SET status = 'COMPLETED', s3_output_key = $2, rows_processed = $3, metrics_json = $4::json,
         error_message = NULL, updated_at = now()
   WHERE id = $1 AND status = 'RUNNING'
  RETURNING id
), processed AS (
  UPDATE uploads SET status = 'processed', updated_at = now()
   WHERE id = $5 AND EXISTS (SELECT 1 FROM completed)
)
SELECT EXISTS (SELECT 1 FROM completed) AS completed`;

export function createStore(pool: pg.Pool): Store {
  return {
    claim: (predictionId, { receiveCount, visibilityTimeoutSeconds }) =>
      transient('claim', async () => {
        // One conditional UPDATE (database.md §6): concurrent claims serialise on the row lock and the loser
        // re-evaluates the condition against the winner's RUNNING row. A RUNNING row is reclaimable on a
        // redelivery (an earlier attempt died); on a first delivery only once it is older than the visibility
        // timeout, because a younger one means a duplicate copy of this message is being worked on right now.
        const claimed = await pool.query<{
          upload_id: number;
          user_id: string;
          upload_user_id: string | null;
          upload_key: string | null;
        }>(CLAIM, [predictionId, receiveCount, visibilityTimeoutSeconds]);
        const row = claimed.rows[0];
        if (row) {
          return {
            outcome: 'claimed',
            prediction: {
              uploadId: row.upload_id,
              userId: row.user_id,
              uploadUserId: row.upload_user_id,
              uploadKey: row.upload_key,
            },
          };
        }
        const current = await pool.query<{ status: PredictionStatus }>(
          'SELECT status FROM predictions WHERE id = $1',
          [predictionId],
        );
        const status = current.rows[0]?.status;
        if (status === undefined) return { outcome: 'missing' };
        if (status === 'RUNNING') return { outcome: 'duplicate' };
        // QUEUED yet unclaimable can only be a concurrent change: let SQS hand the message out again.
        if (status === 'QUEUED') throw new Error('prediction changed while being claimed');
        return { outcome: 'final', status };
      }),

    complete: (predictionId, { uploadId, outputKey, rowsProcessed, metrics }) =>
      transient('complete', async () => {
        const client = await pool.connect();
        let broken: Error | undefined;
        // pg emits 'error' on a checked-out client whose server ends the connection (a restart, a failover);
        // unheard, that event would crash the process. The statement then fails.
        const lost = (error: Error) => (broken ??= error);
        client.on('error', lost);
        try {
          const completed = await client.query<{ completed: boolean }>(COMPLETE, [
            predictionId,
            outputKey,
            rowsProcessed,
            JSON.stringify(metrics),
            uploadId,
          ]);
          return completed.rows[0]?.completed === true;
        } catch (error) {
          broken ??= error instanceof Error ? error : new Error(String(error));
          throw error;
        } finally {
          // A client whose statement failed is discarded rather than handed to the next job in an unknown state.
          client.off('error', lost);
          client.release(broken);
        }
      }),

    fail: (predictionId, errorMessage) =>
      transient('fail', async () => {
        const updated = await pool.query(
          `UPDATE predictions SET status = 'FAILED', error_message = $2, updated_at = now()
            WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')`,
          [predictionId, errorMessage],
        );
        return updated.rowCount === 1;
      }),

    failAbandoned: (olderThanSeconds, errorMessage) =>
      transient('fail abandoned', async () => {
        // Conditional on the age being re-checked under the row lock: a claim that commits first makes the row
        // young again, and PostgreSQL re-evaluates the WHERE clause on the row it waited for.
        const updated = await pool.query<{ id: string }>(
          `UPDATE predictions SET status = 'FAILED', error_message = $2, updated_at = now()
            WHERE status = 'RUNNING' AND updated_at < now() - make_interval(secs => $1::int)
            RETURNING id`,
          [olderThanSeconds, errorMessage],
        );
        return updated.rows.map((row) => row.id);
      }),

    close: () => endPool(pool),
  };
}
