import { S3Client } from '@aws-sdk/client-s3';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  createPartPool,
  PART_SIZE_BYTES,
  uploadResults,
  type PartPool,
  type ResultsUpload,
} from '../../src/results-upload.js';

/**
 * The results upload's own loop against a fake S3: a real S3Client whose HTTP handler answers as S3 does, so each
 * test sees the calls as they would go on the wire (operation, part number, body, checksum header) and decides
 * when, and how, each one is answered.
 */

type Operation =
  'PutObject' | 'CreateMultipartUpload' | 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload';

interface Call {
  operation: Operation;
  partNumber?: number;
  /** a copy: the upload reuses its buffers */
  body: Buffer;
  checksum?: string;
  /** resolves when the request's abort signal fires */
  aborted: Promise<void>;
}

function operationOf(request: HttpRequest): Operation {
  const query = request.query ?? {};
  if (request.method === 'POST')
    return 'uploads' in query ? 'CreateMultipartUpload' : 'CompleteMultipartUpload';
  if (request.method === 'DELETE') return 'AbortMultipartUpload';
  return 'partNumber' in query ? 'UploadPart' : 'PutObject';
}

const xml = (body: string): Readable =>
  Readable.from([Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>${body}`)]);

function answer(call: Call): HttpResponse {
  const ok = (headers: Record<string, string> = {}, body?: string): HttpResponse => ({
    statusCode: 200,
    headers,
    body: xml(body ?? ''),
  });
  switch (call.operation) {
    case 'CreateMultipartUpload':
      return ok(
        {},
        '<InitiateMultipartUploadResult><UploadId>upload-1</UploadId></InitiateMultipartUploadResult>',
      );
    case 'UploadPart':
    case 'PutObject':
      return ok({ etag: `"etag-${call.partNumber ?? 0}"`, 'x-amz-checksum-crc32': call.checksum ?? '' });
    case 'CompleteMultipartUpload':
      return ok({}, '<CompleteMultipartUploadResult><ETag>"whole"</ETag></CompleteMultipartUploadResult>');
    case 'AbortMultipartUpload':
      return { statusCode: 204, headers: {}, body: xml('') };
  }
}

const internalError = (): HttpResponse => ({
  statusCode: 500,
  headers: {},
  body: xml('<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>'),
});

/**
 * `respond` decides each call's answer: by default at once, as S3 would; a test may hold a call (return a promise
 * it settles later) or fail it.
 */
function fakeS3(respond: (call: Call) => HttpResponse | Promise<HttpResponse> = answer) {
  const calls: Call[] = [];
  let open = 0;
  let mostOpen = 0;
  const s3 = new S3Client({
    region: 'eu-west-1',
    endpoint: 'http://127.0.0.1:1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    maxAttempts: 1,
    requestHandler: {
      async handle(request: HttpRequest, options?: { abortSignal?: AbortSignal }) {
        const signal = options?.abortSignal;
        let onAbort = (): void => undefined;
        const call: Call = {
          operation: operationOf(request),
          partNumber: request.query?.partNumber === undefined ? undefined : Number(request.query.partNumber),
          body: Buffer.from(request.body instanceof Uint8Array ? request.body : String(request.body ?? '')),
          checksum: request.headers['x-amz-checksum-crc32'],
          aborted: new Promise((resolve) => {
            onAbort = resolve;
            signal?.addEventListener('abort', onAbort, { once: true });
          }),
        };
        calls.push(call);
        open += 1;
        mostOpen = Math.max(mostOpen, open);
        try {
          const response = await Promise.race([
            respond(call),
            call.aborted.then(() =>
              Promise.reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
            ),
          ]);
          return { response };
        } finally {
          open -= 1;
          signal?.removeEventListener('abort', onAbort);
        }
      },
    },
  });
  return {
    s3,
    calls,
    operations: () => calls.map((c) => c.operation),
    get mostOpen() {
      return mostOpen;
    },
  };
}

const crc32Base64 = (bytes: Uint8Array): string => {
  const digest = Buffer.alloc(4);
  digest.writeUInt32BE(crc32(bytes));
  return digest.toString('base64');
};

/** printable bytes that repeat only every PATTERN bytes, a prime, so no two parts hold the same bytes */
const PATTERN = 1_000_003;
const pattern = Buffer.alloc(PATTERN);
for (let i = 0; i < PATTERN; i++) pattern[i] = 32 + ((i * 7919) % 95);
const results = (size: number): Buffer => Buffer.alloc(size, pattern);

const TARGET = { Bucket: 'results', Key: 'predictions/u/p.csv', ContentType: 'text/csv' };
const BATCH = 1 << 20;

/** writes `bytes` in batch-sized writes, as scoring does, honouring backpressure, until done or destroyed */
async function write(upload: ResultsUpload, bytes: Buffer): Promise<void> {
  const { sink } = upload;
  for (let at = 0; at < bytes.length && !sink.destroyed; at += BATCH) {
    if (sink.write(bytes.subarray(at, at + BATCH))) continue;
    await new Promise<void>((resolve) => {
      const go = () => {
        sink.off('drain', go).off('close', go);
        resolve();
      };
      sink.on('drain', go).on('close', go);
    });
  }
}

async function uploadAll(s3: S3Client, bytes: Buffer, pool: PartPool = createPartPool(5)): Promise<void> {
  const upload = uploadResults(s3, TARGET, pool, 4);
  await write(upload, bytes);
  upload.sink.end();
  await upload.done();
}

/** a pool that counts the buffers it has had to allocate */
function countingPool(): PartPool & { allocated: number } {
  const pool = createPartPool(5);
  const counted = {
    allocated: 0,
    take() {
      const buffer = pool.take();
      if (!seen.has(buffer)) counted.allocated += 1;
      seen.add(buffer);
      return buffer;
    },
    give: (buffer: Buffer) => pool.give(buffer),
  };
  const seen = new WeakSet<Buffer>();
  return counted;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('the results upload', () => {
  it('stores output smaller than a part with one PutObject under its CRC32, and no multipart calls', async () => {
    const fake = fakeS3();
    const bytes = results(300_000);
    await uploadAll(fake.s3, bytes);

    expect(fake.operations()).toEqual(['PutObject']);
    expect(fake.calls[0]?.body.equals(bytes)).toBe(true);
    expect(fake.calls[0]?.checksum).toBe(crc32Base64(bytes));
  });

  it('sends larger output as parts in order, each under its CRC32, and completes with every part listed', async () => {
    const fake = fakeS3();
    const bytes = results(2 * PART_SIZE_BYTES + 12_345);
    await uploadAll(fake.s3, bytes);

    expect(fake.operations()).toEqual([
      'CreateMultipartUpload',
      'UploadPart',
      'UploadPart',
      'UploadPart',
      'CompleteMultipartUpload',
    ]);
    const parts = fake.calls.filter((c) => c.operation === 'UploadPart');
    expect(parts.map((p) => p.partNumber)).toEqual([1, 2, 3]);
    expect(parts.map((p) => p.body.length)).toEqual([PART_SIZE_BYTES, PART_SIZE_BYTES, 12_345]);
    expect(Buffer.concat(parts.map((p) => p.body)).equals(bytes)).toBe(true);
    for (const part of parts) expect(part.checksum).toBe(crc32Base64(part.body));
    const complete = fake.calls.at(-1)?.body.toString() ?? '';
    for (const part of parts) {
      expect(complete).toContain(`<ETag>&quot;etag-${part.partNumber}&quot;</ETag>`);
      expect(complete).toContain(`<ChecksumCRC32>${part.checksum}</ChecksumCRC32>`);
    }
    expect([...complete.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => m[1])).toEqual([
      '1',
      '2',
      '3',
    ]);
  });

  it('lists the parts in order however S3 happens to answer them', async () => {
    const held: (() => void)[] = [];
    const fake = fakeS3((call) =>
      call.operation === 'UploadPart' && call.partNumber !== 3
        ? new Promise((resolve) => held.push(() => resolve(answer(call))))
        : answer(call),
    );
    const upload = uploadResults(fake.s3, TARGET, createPartPool(5), 4);
    await write(upload, results(3 * PART_SIZE_BYTES - 1));
    upload.sink.end();
    while (held.length < 2) await tick();
    for (const release of held.reverse()) release();
    await upload.done();

    const complete = fake.calls.at(-1)?.body.toString() ?? '';
    expect([...complete.matchAll(/<PartNumber>(\d+)<\/PartNumber>/g)].map((m) => m[1])).toEqual([
      '1',
      '2',
      '3',
    ]);
  });

  it('has at most its bound of parts in flight, holding the writer back meanwhile', async () => {
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fake = fakeS3(async (call) => {
      if (call.operation === 'UploadPart') await gate;
      return answer(call);
    });
    const upload = uploadResults(fake.s3, TARGET, createPartPool(5), 2);
    const writing = write(upload, results(6 * PART_SIZE_BYTES));
    let written = false;
    void writing.then(() => (written = true));
    while (fake.calls.filter((c) => c.operation === 'UploadPart').length < 2) await tick();
    for (let i = 0; i < 20; i++) await tick();

    expect(fake.calls.filter((c) => c.operation === 'UploadPart')).toHaveLength(2);
    expect(written).toBe(false);
    release();
    await writing;
    upload.sink.end();
    await upload.done();
    expect(fake.mostOpen).toBe(2);
    expect(fake.calls.filter((c) => c.operation === 'UploadPart')).toHaveLength(6);
  });

  it('reuses its part buffers, within and across uploads', async () => {
    const fake = fakeS3();
    const pool = countingPool();
    await uploadAll(fake.s3, results(12 * PART_SIZE_BYTES), pool);
    await uploadAll(fake.s3, results(12 * PART_SIZE_BYTES), pool);

    // at most the parts in flight and the one being filled
    expect(pool.allocated).toBeLessThanOrEqual(5);
  });

  it('fails when a part fails: the parts in flight are cancelled, the upload aborted, nothing completed', async () => {
    const fake = fakeS3(async (call) => {
      if (call.operation === 'UploadPart' && call.partNumber === 2) return internalError();
      if (call.operation === 'UploadPart') await new Promise(() => undefined);
      return answer(call);
    });
    const upload = uploadResults(fake.s3, TARGET, createPartPool(5), 4);
    await write(upload, results(3 * PART_SIZE_BYTES));

    await expect(upload.done()).rejects.toMatchObject({ name: 'InternalError' });
    expect(upload.failure).toMatchObject({ name: 'InternalError' });
    expect(upload.sink.destroyed).toBe(true);
    const pending = fake.calls.filter((c) => c.operation === 'UploadPart' && c.partNumber !== 2);
    await Promise.all(pending.map((c) => c.aborted));
    expect(fake.operations()).toContain('AbortMultipartUpload');
    expect(fake.operations()).not.toContain('CompleteMultipartUpload');
    expect(fake.operations().at(-1)).toBe('AbortMultipartUpload');
  });

  it('fails when its single PutObject fails, with no multipart calls', async () => {
    const fake = fakeS3((call) => (call.operation === 'PutObject' ? internalError() : answer(call)));
    const upload = uploadResults(fake.s3, TARGET, createPartPool(5), 4);
    await write(upload, results(1000));
    upload.sink.end();

    await expect(upload.done()).rejects.toMatchObject({ name: 'InternalError' });
    expect(upload.failure).toMatchObject({ name: 'InternalError' });
    expect(fake.operations()).toEqual(['PutObject']);
  });

  it('on abort() cancels the parts in flight and discards the stored ones before it resolves', async () => {
    const fake = fakeS3(async (call) => {
      if (call.operation === 'UploadPart' && call.partNumber !== 1) await new Promise(() => undefined);
      return answer(call);
    });
    const upload = uploadResults(fake.s3, TARGET, createPartPool(5), 4);
    await write(upload, results(3 * PART_SIZE_BYTES + 1));
    while (fake.calls.filter((c) => c.operation === 'UploadPart').length < 3) await tick();
    await upload.abort();

    expect(fake.operations().at(-1)).toBe('AbortMultipartUpload');
    expect(fake.operations()).not.toContain('CompleteMultipartUpload');
    await Promise.all(fake.calls.filter((c) => c.partNumber !== 1 && c.partNumber).map((c) => c.aborted));
    await expect(upload.done()).rejects.toThrow();
    expect(upload.failure).toBeUndefined();
  });

  it('never completes an upload whose writer destroyed the sink before ending it', async () => {
    const fake = fakeS3();
    const upload = uploadResults(fake.s3, TARGET, createPartPool(5), 4);
    await write(upload, results(2 * PART_SIZE_BYTES + 1));
    upload.sink.destroy(new Error('scoring failed'));

    await expect(upload.done()).rejects.toThrow('scoring failed');
    expect(fake.operations()).not.toContain('CompleteMultipartUpload');
    expect(fake.operations().at(-1)).toBe('AbortMultipartUpload');
  });
});
