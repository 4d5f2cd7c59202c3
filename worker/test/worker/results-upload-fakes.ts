import { S3Client } from '@aws-sdk/client-s3';
import type { HttpRequest, HttpResponse } from '@smithy/types';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import {
  createPartPool,
  uploadResults,
  type PartPool,
  type ResultsUpload,
} from '../../src/results-upload.js';

/**
 * The results upload's own loop against a fake S3: a real S3Client whose HTTP handler answers as S3 does, so each
 * test sees the calls as they would go on the wire (operation, part number, body, checksum header) and decides
 * when, and how, each one is answered.
 */

export type Operation =
  'PutObject' | 'CreateMultipartUpload' | 'UploadPart' | 'CompleteMultipartUpload' | 'AbortMultipartUpload';

export interface Call {
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

export function answer(call: Call): HttpResponse {
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

export const internalError = (): HttpResponse => ({
  statusCode: 500,
  headers: {},
  body: xml('<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>'),
});

/**
 * `respond` decides each call's answer: by default at once, as S3 would; a test may hold a call (return a promise
 * it settles later) or fail it.
 */
export function fakeS3(respond: (call: Call) => HttpResponse | Promise<HttpResponse> = answer) {
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

export const crc32Base64 = (bytes: Uint8Array): string => {
  const digest = Buffer.alloc(4);
  digest.writeUInt32BE(crc32(bytes));
  return digest.toString('base64');
};

/** printable bytes that repeat only every PATTERN bytes, a prime, so no two parts hold the same bytes */
const PATTERN = 1_000_003;
const pattern = Buffer.alloc(PATTERN);
for (let i = 0; i < PATTERN; i++) pattern[i] = 32 + ((i * 7919) % 95);
export const results = (size: number): Buffer => Buffer.alloc(size, pattern);

export const TARGET = { Bucket: 'results', Key: 'predictions/u/p.csv', ContentType: 'text/csv' };
const BATCH = 1 << 20;

/** writes `bytes` in batch-sized writes, as scoring does, honouring backpressure, until done or destroyed */
export async function write(upload: ResultsUpload, bytes: Buffer): Promise<void> {
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

export async function uploadAll(
  s3: S3Client,
  bytes: Buffer,
  pool: PartPool = createPartPool(5),
): Promise<void> {
  const upload = uploadResults(s3, TARGET, pool, 4);
  await write(upload, bytes);
  upload.sink.end();
  await upload.done();
}

/** a pool that counts the buffers it has had to allocate */
export function countingPool(): PartPool & { allocated: number } {
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

export const tick = () => new Promise((resolve) => setImmediate(resolve));
