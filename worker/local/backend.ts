import { Upload } from '@aws-sdk/lib-storage';
import { SendMessageCommand, type MessageAttributeValue } from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { backendMessage } from '../src/ops/backend-message.js';
import type { LocalStack } from './stack.js';

/**
 * Submits a prediction job exactly as the existing FastAPI backend does (spec/message-contract.md §1): store the
 * file under uploads/, insert the uploads and predictions rows in one transaction, and only after the commit send
 * the message, with Python's json.dumps spacing and the task_type/user_id attributes.
 */

/** A Clerk-style user id that passes the message contract's `^user_[a-zA-Z0-9_]{20,40}$`. */
export const DEMO_USER_ID = 'user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh';

/** The upload endpoint's file-name sanitising (message-contract.md §3.2). */
export function sanitiseFilename(name: string): string {
  return name
    .replace(/ /g, '_')
    .replace(/[<>|&;`$(){}[\]]/g, '')
    .replace(/[^A-Za-z0-9_.-]/g, '_')
    .replace(/_+/g, '_')
    .replace(/^_+|_+$/g, '');
}

/** `YYYYMMDD_HHMMSS` in UTC, as the backend prefixes upload keys. */
export function uploadStamp(at: Date): string {
  const iso = at.toISOString();
  return `${iso.slice(0, 10).replace(/-/g, '')}_${iso.slice(11, 19).replace(/:/g, '')}`;
}

export interface SubmitOptions {
  csv: string | Uint8Array;
  filename?: string;
  userId?: string;
  /** the publish time written into the message (default: now) */
  publishedAt?: Date;
  /** rewrites the message body before it is sent (tests of the message contract) */
  editBody?: (body: Record<string, unknown>) => Record<string, unknown>;
  /** leave the object out, as if it vanished before the worker read it */
  skipUpload?: boolean;
  /** replaces the message attributes */
  attributes?: Record<string, MessageAttributeValue>;
  /** store the file and the rows but send nothing, as the backend does when its PREDICTIONS_QUEUE_URL is empty */
  withoutMessage?: boolean;
}

export interface SubmittedJob {
  predictionId: string;
  uploadId: number;
  userId: string;
  key: string;
  body: string;
  messageId: string;
}

export async function submitJob(stack: LocalStack, options: SubmitOptions): Promise<SubmittedJob> {
  const userId = options.userId ?? DEMO_USER_ID;
  const filename = options.filename ?? 'customers.csv';
  const now = new Date();
  const key = `uploads/${userId}/${uploadStamp(now)}-${sanitiseFilename(filename)}`;
  const bytes = typeof options.csv === 'string' ? Buffer.from(options.csv, 'utf8') : options.csv;
  if (!options.skipUpload) {
    // one PUT for small files, a multipart upload for large ones, as boto3's upload_fileobj does (and the
    // emulator takes at most 11 MiB in one request)
    await new Upload({
      client: stack.s3,
      params: { Bucket: stack.bucket, Key: key, Body: bytes, ContentType: 'text/csv' },
    }).done();
  }

  const predictionId = randomUUID();
  const client = await stack.db.connect();
  let uploadId: number;
  try {
    await client.query('BEGIN');
    await client.query(
      `INSERT INTO users (id, email, clerk_id, full_name, created_at, updated_at)
       VALUES ($1, $2, $1, 'Local Demo', $3, $3) ON CONFLICT (id) DO NOTHING`,
      [userId, `${userId}@example.com`, now],
    );
    const upload = await client.query<{ id: number }>(
      `INSERT INTO uploads (filename, s3_object_key, file_size, user_id, upload_time, status, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, 'uploaded', $5, $5) RETURNING id`,
      [filename, key, bytes.byteLength, userId, now],
    );
    uploadId = upload.rows[0]!.id;
    await client.query(
      `INSERT INTO predictions (id, upload_id, user_id, status, rows_processed, created_at, updated_at)
       VALUES ($1, $2, $3, 'QUEUED', 0, $4, $4)`,
      [predictionId, uploadId, userId, now],
    );
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK');
    throw error;
  } finally {
    client.release();
  }

  const message = backendMessage(
    {
      predictionId,
      uploadId,
      userId,
      bucket: stack.bucket,
      key,
      publishedAt: options.publishedAt ?? new Date(),
    },
    options.editBody,
  );
  const body = message.MessageBody;
  if (options.withoutMessage) return { predictionId, uploadId, userId, key, body, messageId: '' };
  const sent = await stack.sqs.send(
    new SendMessageCommand({
      QueueUrl: stack.queueUrl,
      MessageBody: body,
      MessageAttributes: options.attributes ?? message.MessageAttributes,
    }),
  );
  return { predictionId, uploadId, userId, key, body, messageId: sent.MessageId ?? '' };
}

export interface PredictionRow {
  id: string;
  upload_id: number;
  user_id: string;
  status: 'QUEUED' | 'RUNNING' | 'COMPLETED' | 'FAILED';
  s3_output_key: string | null;
  rows_processed: number;
  metrics_json: Record<string, unknown> | null;
  error_message: string | null;
  created_at: Date;
  updated_at: Date;
}

export async function readPrediction(
  stack: LocalStack,
  predictionId: string,
): Promise<PredictionRow | undefined> {
  const result = await stack.db.query<PredictionRow>('SELECT * FROM predictions WHERE id = $1', [
    predictionId,
  ]);
  return result.rows[0];
}

/**
 * Polls the row until `done` holds (default: COMPLETED or FAILED); rejects after `timeoutMs`. `onStatus` hears each
 * status the row is seen in (MISSING before it exists), with the time since polling began.
 */
export async function waitForPrediction(
  stack: LocalStack,
  predictionId: string,
  options: {
    timeoutMs?: number;
    intervalMs?: number;
    done?: (row: PredictionRow) => boolean;
    onStatus?: (status: string, elapsedMs: number) => void;
  } = {},
): Promise<PredictionRow> {
  const done = options.done ?? ((row) => row.status === 'COMPLETED' || row.status === 'FAILED');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const started = Date.now();
  let last: string | undefined;
  for (;;) {
    const row = await readPrediction(stack, predictionId);
    const status = row?.status ?? 'MISSING';
    if (status !== last) options.onStatus?.(status, Date.now() - started);
    last = status;
    if (row && done(row)) return row;
    if (Date.now() - started > timeoutMs) {
      throw new Error(`prediction ${predictionId} still ${status} after ${timeoutMs} ms`);
    }
    await new Promise((resolve) => setTimeout(resolve, options.intervalMs ?? 20));
  }
}
