import type pg from 'pg';
import type { PredictionStatus } from '../store.js';

/**
 * The operator's reads and writes of `predictions` (and the `uploads` row a requeue names), within the grants of
 * docs/database-roles.sql: named columns only, every write conditional on the status it expects, so nothing an
 * operator runs can regress a row a worker has just finished.
 */

export interface OpsRow {
  id: string;
  uploadId: number;
  userId: string;
  status: PredictionStatus;
  /** when the row last changed: a QUEUED row's publish time (the backend's insert, or our redrive and requeue) */
  updatedAt: Date;
  /** the upload's input key; null when the upload row is gone */
  uploadKey: string | null;
  uploadUserId: string | null;
}

const SELECT_ROWS = `
SELECT p.id, p.upload_id, p.user_id, p.status, p.updated_at, u.s3_object_key, u.user_id AS upload_user_id
  FROM predictions p LEFT JOIN uploads u ON u.id = p.upload_id`;

interface RawRow {
  id: string;
  upload_id: number;
  user_id: string;
  status: PredictionStatus;
  updated_at: Date;
  s3_object_key: string | null;
  upload_user_id: string | null;
}

const toRow = (r: RawRow): OpsRow => ({
  id: r.id,
  uploadId: r.upload_id,
  userId: r.user_id,
  status: r.status,
  updatedAt: r.updated_at,
  uploadKey: r.s3_object_key,
  uploadUserId: r.upload_user_id,
});

export async function rowsById(db: pg.Pool, ids: string[]): Promise<Map<string, OpsRow>> {
  if (ids.length === 0) return new Map();
  const result = await db.query<RawRow>(`${SELECT_ROWS} WHERE p.id = ANY($1::uuid[])`, [ids]);
  return new Map(result.rows.map((r) => [r.id, toRow(r)]));
}

/** QUEUED rows unchanged for longer than `seconds`, oldest first */
export async function queuedSince(db: pg.Pool, seconds: number): Promise<OpsRow[]> {
  const result = await db.query<RawRow>(
    `${SELECT_ROWS} WHERE p.status = 'QUEUED' AND p.updated_at < now() - make_interval(secs => $1)
      ORDER BY p.updated_at`,
    [seconds],
  );
  return result.rows.map(toRow);
}

export interface StatusCounts {
  byStatus: Record<PredictionStatus, number>;
  /** RUNNING rows claimed longer ago than the job timeout: their worker died or lost them */
  runningTooLong: { id: string; since: Date }[];
}

export async function statusCounts(db: pg.Pool, jobTimeoutSeconds: number): Promise<StatusCounts> {
  const counts = await db.query<{ status: PredictionStatus; n: string }>(
    'SELECT status, count(*) AS n FROM predictions GROUP BY status',
  );
  const byStatus: Record<PredictionStatus, number> = { QUEUED: 0, RUNNING: 0, COMPLETED: 0, FAILED: 0 };
  for (const { status, n } of counts.rows) byStatus[status] = Number(n);
  const stuck = await db.query<{ id: string; updated_at: Date }>(
    `SELECT id, updated_at FROM predictions
      WHERE status = 'RUNNING' AND updated_at < now() - make_interval(secs => $1) ORDER BY updated_at`,
    [jobTimeoutSeconds],
  );
  return { byStatus, runningTooLong: stuck.rows.map((r) => ({ id: r.id, since: r.updated_at })) };
}

/**
 * Back to QUEUED for a redrive, from any status but COMPLETED, with the old error cleared (the UI shows it only
 * for FAILED). Returns the status it had, or undefined when the row is gone or COMPLETED by now.
 */
export async function requeueRow(db: pg.Pool, id: string): Promise<PredictionStatus | undefined> {
  const result = await db.query<{ previous: PredictionStatus }>(
    `UPDATE predictions p SET status = 'QUEUED', error_message = NULL, updated_at = now()
       FROM (SELECT id, status FROM predictions WHERE id = $1 FOR UPDATE) old
      WHERE p.id = old.id AND old.status IN ('QUEUED', 'RUNNING', 'FAILED')
      RETURNING old.status AS previous`,
    [id],
  );
  return result.rows[0]?.previous;
}

/** Marks a QUEUED row as published now (a requeue), so it is not taken for an orphan again; false if not QUEUED. */
export async function touchQueued(db: pg.Pool, id: string): Promise<boolean> {
  const result = await db.query(
    `UPDATE predictions SET updated_at = now() WHERE id = $1 AND status = 'QUEUED'`,
    [id],
  );
  return result.rowCount === 1;
}

/** Fails a row still QUEUED and unchanged for longer than `seconds`; false when it has moved on meanwhile. */
export async function failQueued(
  db: pg.Pool,
  id: string,
  seconds: number,
  message: string,
): Promise<boolean> {
  const result = await db.query(
    `UPDATE predictions SET status = 'FAILED', error_message = $3, updated_at = now()
      WHERE id = $1 AND status = 'QUEUED' AND updated_at < now() - make_interval(secs => $2)`,
    [id, seconds, message],
  );
  return result.rowCount === 1;
}
