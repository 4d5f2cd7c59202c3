import { PutObjectCommand } from '@aws-sdk/client-s3';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { parse } from 'csv-parse/sync';

function records(text: string): Record<string, string>[] {
  return parse<Record<string, string>>(text, { columns: true });
}
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { outputKey } from '../../src/storage.js';
import type { RunningWorker } from '../../src/worker.js';
import {
  DEMO_USER_ID,
  dlqMessages,
  listKeys,
  readObject,
  readPrediction,
  startTestWorker,
  submitJob,
  telcoCsv,
  useStack,
  waitForPrediction,
} from '../support/harness.js';

/** Whole jobs through a real worker: fauxqs for SQS and S3, PostgreSQL, the bundled ONNX model. */

const context = useStack();
let worker: RunningWorker;

beforeAll(async () => {
  worker = await startTestWorker(context.stack, { WORKER_CONCURRENCY: '4' });
});
afterAll(async () => {
  await worker?.stop();
});

const DEMO_CSV = readFileSync(new URL('../../local/demo-customers.csv', import.meta.url), 'utf8');

async function uploadStatus(uploadId: number): Promise<string | undefined> {
  const result = await context.stack.db.query<{ status: string }>(
    'SELECT status FROM uploads WHERE id = $1',
    [uploadId],
  );
  return result.rows[0]?.status;
}

describe('a valid job', () => {
  it('writes the results at the deterministic key, then completes the row and the upload', async () => {
    const job = await submitJob(context.stack, { csv: DEMO_CSV, filename: 'demo customers (Q4).csv' });
    expect(job.key).toMatch(/^uploads\/user_\w+\/\d{8}_\d{6}-demo_customers_Q4.csv$/);
    const row = await waitForPrediction(context.stack, job.predictionId);
    const key = `predictions/${DEMO_USER_ID}/${job.predictionId}.csv`;
    expect(row).toMatchObject({
      status: 'COMPLETED',
      s3_output_key: key,
      rows_processed: 100,
      error_message: null,
    });
    expect(row.updated_at.getTime()).toBeGreaterThan(row.created_at.getTime());
    expect(Object.keys(row.metrics_json ?? {}).slice(0, 4)).toEqual([
      'rows_processed',
      'original_rows',
      'positive_rate',
      'processing_timestamp',
    ]);
    expect(row.metrics_json).toMatchObject({
      rows_processed: 100,
      original_rows: 100,
      input_encoding: 'utf-8',
      input_delimiter: ',',
      decimal_separator: '.',
    });
    expect(row.metrics_json?.positive_rate).toBeGreaterThan(0);
    expect(row.metrics_json?.positive_rate).toBeLessThan(1);
    expect(row.metrics_json?.processing_timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?$/);
    expect(await uploadStatus(job.uploadId)).toBe('processed');

    const output = await readObject(context.stack, key);
    expect(output.contentType).toBe('text/csv');
    const rows = records(output.text);
    expect(rows).toHaveLength(100);
    expect(rows[0]?.customerID).toBe('7590-VHVEG');
    expect(rows[0]?.customer_id).toBe('7590-VHVEG');
    expect(Number(rows[0]?.churn_probability)).toBeGreaterThan(0);
  });

  it('reads BOM, CRLF and quoted fields with commas and newlines', async () => {
    const csv = `\uFEFF${telcoCsv(3, { lineEnd: '\r\n' }).replace('C000001', '"C0,00\n001"')}`;
    const job = await submitJob(context.stack, { csv });
    const row = await waitForPrediction(context.stack, job.predictionId);
    expect(row).toMatchObject({ status: 'COMPLETED', rows_processed: 3 });
    const rows = records((await readObject(context.stack, row.s3_output_key!)).text);
    expect(rows.map((r) => r.customerID)).toEqual(['C000000', 'C0,00\n001', 'C000002']);
  });

  it('neutralises spreadsheet formulas in the results (CSV injection)', async () => {
    const csv = telcoCsv(3)
      .replace('C000000', '=1+2')
      .replace('C000001', '@SUM(A1)')
      .replace('C000002', '+cmd');
    const job = await submitJob(context.stack, { csv });
    const row = await waitForPrediction(context.stack, job.predictionId);
    expect(row.status).toBe('COMPLETED');
    const text = (await readObject(context.stack, row.s3_output_key!)).text;
    const ids = records(text).map((r) => r.customerID ?? '');
    expect(ids).toHaveLength(3);
    ['=1+2', '@SUM(A1)', '+cmd'].forEach((formula, i) => {
      expect(ids[i]).not.toMatch(/^[=+\-@\t\r]/);
      expect(ids[i]).toContain(formula);
    });
  });
});

describe('input the customer must fix: FAILED at once with a clear reason, message deleted', () => {
  const header = telcoCsv(0).trim();
  it.each([
    ['an empty file', '', /empty/i],
    ['a header without rows', `${header}\n`, /no data rows/i],
    ['missing required columns', 'customerID,gender\nA,Male\n', /Missing required columns: .*tenure/],
    [
      'binary garbage',
      Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0xff, 0xfe, 0x00, 0x81]),
      /./,
    ],
    ['a 1 MB line', `${header}\n${'x'.repeat(1024 * 1024)}\n`, /./],
    ['an unterminated quote', `${header}\n"C1,Male,0\n`, /./],
  ])('%s', async (_what, csv, reason) => {
    const job = await submitJob(context.stack, { csv });
    const row = await waitForPrediction(context.stack, job.predictionId);
    expect(row.status).toBe('FAILED');
    expect(row.error_message).toMatch(reason);
    expect(row.error_message!.length, row.error_message!).toBeLessThan(1000);
    expect(row.error_message).not.toMatch(/Error:|\bat \w+ \(|undefined|NaN/);
    expect(row.s3_output_key).toBeNull();
    expect(await listKeys(context.stack, `predictions/${DEMO_USER_ID}/${job.predictionId}`)).toEqual([]);
    expect(await uploadStatus(job.uploadId)).toBe('uploaded');
  });

  it('scores ragged rows and non-numeric numbers where the data allows, or fails with a reason', async () => {
    const csv = `${telcoCsv(3).trim()}\nC9,Male,0,Yes\nC10,Female,0,No,No,abc,Yes,No,DSL,No,No,No,No,No,No,One year,No,Mailed check,n/a,$1,234.50\n`;
    const job = await submitJob(context.stack, { csv });
    const row = await waitForPrediction(context.stack, job.predictionId);
    if (row.status === 'COMPLETED') expect(row.rows_processed).toBeGreaterThanOrEqual(3);
    else expect(row.error_message).toMatch(/row|column|field/i);
  });

  it('fails with an actionable message when the uploaded object is missing', async () => {
    const job = await submitJob(context.stack, { csv: DEMO_CSV, skipUpload: true });
    const row = await waitForPrediction(context.stack, job.predictionId);
    expect(row).toMatchObject({
      status: 'FAILED',
      error_message: 'The uploaded file could not be found - please upload it again',
    });
  });
});

describe('messages the worker must not act on', () => {
  it('deletes a message for a prediction that does not exist, touching nothing', async () => {
    const before = await context.stack.db.query('SELECT id, status, updated_at FROM predictions ORDER BY id');
    const body = JSON.stringify({
      prediction_id: randomUUID(),
      upload_id: '999999',
      user_id: DEMO_USER_ID,
      s3_file_path: `s3://${context.stack.bucket}/uploads/${DEMO_USER_ID}/x.csv`,
      timestamp: new Date().toISOString(),
      priority: 'normal',
    });
    const sent = await context.stack.sqs.send(
      new SendMessageCommand({ QueueUrl: context.stack.queueUrl, MessageBody: body }),
    );
    await context.stack.fauxqs.spy.waitForMessageWithId(sent.MessageId!, 'consumed', 10_000);
    const after = await context.stack.db.query('SELECT id, status, updated_at FROM predictions ORDER BY id');
    expect(after.rows).toEqual(before.rows);
  });

  it('rejects an invalid message: DLQ copy with the reason, only the named row FAILED, deleted from the queue', async () => {
    const bystander = await submitJob(context.stack, { csv: DEMO_CSV });
    await waitForPrediction(context.stack, bystander.predictionId);
    const finished = await readPrediction(context.stack, bystander.predictionId);

    const job = await submitJob(context.stack, {
      csv: DEMO_CSV,
      editBody: (body) => ({ ...body, timestamp: '2020-01-01T00:00:00' }),
    });
    const row = await waitForPrediction(context.stack, job.predictionId);
    expect(row).toMatchObject({
      status: 'FAILED',
      error_message: 'Invalid job message: timestamp older than 96h - please re-upload',
    });
    await context.stack.fauxqs.spy.waitForMessageWithId(job.messageId, 'consumed', 10_000);
    const copies = (await dlqMessages(context.stack)).filter((m) => m.Body === job.body);
    expect(copies).toHaveLength(1);
    expect(copies[0]?.MessageAttributes).toMatchObject({
      rejection_reason: { StringValue: 'timestamp older than 96h' },
      task_type: { StringValue: 'ml_prediction' },
      user_id: { StringValue: DEMO_USER_ID },
      original_message_id: { StringValue: job.messageId },
    });
    // the previous job's finished row is untouched (lessons #1)
    expect(await readPrediction(context.stack, bystander.predictionId)).toEqual(finished);
  });

  it('rejects a message whose bucket is not ours without reading it', async () => {
    const job = await submitJob(context.stack, {
      csv: DEMO_CSV,
      editBody: (body) => ({
        ...body,
        s3_file_path: String(body.s3_file_path).replace(context.stack.bucket, 'retainwise-elsewhere'),
      }),
    });
    const row = await waitForPrediction(context.stack, job.predictionId);
    expect(row.error_message).toBe(
      "Invalid job message: s3_file_path bucket is not the worker's S3_BUCKET - please re-upload",
    );
  });

  it('fails a job whose message does not match its upload row', async () => {
    const other = await submitJob(context.stack, { csv: DEMO_CSV, filename: 'other.csv' });
    await waitForPrediction(context.stack, other.predictionId);
    const job = await submitJob(context.stack, {
      csv: DEMO_CSV,
      editBody: (body) => ({ ...body, s3_file_path: `s3://${context.stack.bucket}/${other.key}` }),
    });
    const row = await waitForPrediction(context.stack, job.predictionId);
    expect(row).toMatchObject({
      status: 'FAILED',
      error_message: 'The job does not match its upload - please upload the file again',
    });
  });
});

describe('duplicate delivery', () => {
  it('produces one output and never regresses a finished row', async () => {
    const job = await submitJob(context.stack, { csv: DEMO_CSV });
    // a second copy of the same message, as a standard queue may deliver
    await context.stack.sqs.send(
      new SendMessageCommand({
        QueueUrl: context.stack.queueUrl,
        MessageBody: job.body,
        MessageAttributes: { task_type: { DataType: 'String', StringValue: 'ml_prediction' } },
      }),
    );
    const row = await waitForPrediction(context.stack, job.predictionId);
    expect(row.status).toBe('COMPLETED');
    await context.stack.fauxqs.spy.waitForMessages(
      { service: 'sqs', queueName: context.stack.queueName, body: job.body },
      { count: 2, status: 'consumed', timeout: 10_000 },
    );
    expect(await readPrediction(context.stack, job.predictionId)).toEqual(row);
    expect(await listKeys(context.stack, `predictions/${DEMO_USER_ID}/`)).toContain(
      outputKey(DEMO_USER_ID, job.predictionId),
    );
    expect((await listKeys(context.stack, `predictions/${DEMO_USER_ID}/${job.predictionId}`)).length).toBe(1);

    // a late redelivery after completion changes nothing
    await context.stack.sqs.send(
      new SendMessageCommand({ QueueUrl: context.stack.queueUrl, MessageBody: job.body }),
    );
    await context.stack.fauxqs.spy.waitForMessages(
      { service: 'sqs', queueName: context.stack.queueName, body: job.body },
      { count: 3, status: 'consumed', timeout: 10_000 },
    );
    expect(await readPrediction(context.stack, job.predictionId)).toEqual(row);
  });
});

it('keeps input and output apart: results never land under uploads/', async () => {
  const job = await submitJob(context.stack, { csv: DEMO_CSV });
  await waitForPrediction(context.stack, job.predictionId);
  const uploads = await listKeys(context.stack, `uploads/${DEMO_USER_ID}/`);
  expect(uploads.some((key) => key.includes(job.predictionId))).toBe(false);
  await context.stack.s3.send(
    new PutObjectCommand({ Bucket: context.stack.bucket, Key: 'uploads/marker.csv', Body: 'x' }),
  );
});
