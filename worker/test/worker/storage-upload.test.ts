import { S3Client } from '@aws-sdk/client-s3';
import { crc32 } from 'node:zlib';
import { describe, expect, it, vi } from 'vitest';
import { createStorage, PART_SIZE_BYTES, payloadNeedsSigning, UNSIGNED_PAYLOAD } from '../../src/storage.js';
import { readObject, useStack } from '../support/harness.js';

/**
 * The results upload's integrity (issue #15): each part's bytes are covered by one checksum, a CRC32 that S3
 * verifies, in a signed header; the SigV4 SHA-256 of the same bytes is skipped only where the transport already
 * protects them (TLS, or loopback).
 */

const context = useStack();

interface Sent {
  command: string;
  headers: Record<string, string>;
  body: Uint8Array;
}

/** An S3 client that records each request as it goes on the wire, signed. */
function recordingClient(): { s3: S3Client; sent: Sent[] } {
  const s3 = new S3Client({
    region: context.stack.region,
    endpoint: context.stack.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const sent: Sent[] = [];
  s3.middlewareStack.add(
    (next, { commandName }) =>
      (args) => {
        const request = args.request as { headers: Record<string, string>; body: unknown };
        if (request.body instanceof Uint8Array)
          sent.push({ command: commandName ?? '', headers: { ...request.headers }, body: request.body });
        return next(args);
      },
    // after signing (finalizeRequest), as the bytes leave
    { step: 'deserialize', name: 'recordSent' },
  );
  return { s3, sent };
}

const crc32Base64 = (bytes: Uint8Array): string => {
  const digest = Buffer.alloc(4);
  digest.writeUInt32BE(crc32(bytes));
  return digest.toString('base64');
};

const signedHeaders = (headers: Record<string, string>): string[] =>
  /SignedHeaders=([^,]+)/.exec(headers.authorization ?? '')?.[1]?.split(';') ?? [];

async function upload(s3: S3Client, key: string, bytes: Buffer): Promise<void> {
  const output = createStorage(s3, context.stack.bucket).createOutput(key);
  // in batch-sized writes, as scoring writes
  for (let at = 0; at < bytes.length; at += 1 << 20) output.sink.write(bytes.subarray(at, at + (1 << 20)));
  output.sink.end();
  await output.done();
}

const results = (size: number): Buffer => {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = 32 + ((i * 7919) % 95);
  return bytes;
};

describe('results upload', () => {
  it.each([
    ['a multipart upload', 2 * PART_SIZE_BYTES + 12_345, 'UploadPartCommand', 3],
    ['a single PutObject', 100_000, 'PutObjectCommand', 1],
  ])(
    'sends every byte of %s once under a signed CRC32, with the payload unsigned on loopback',
    async (_what, size, command, requests) => {
      const { s3, sent } = recordingClient();
      const bytes = results(size);
      await upload(s3, `predictions/integrity-${size}.csv`, bytes);

      expect(sent.map((s) => s.command)).toEqual(Array<string>(requests).fill(command));
      expect(Buffer.concat(sent.map((s) => s.body)).equals(bytes)).toBe(true);
      for (const { headers, body } of sent) {
        expect(headers['x-amz-checksum-crc32']).toBe(crc32Base64(body));
        expect(headers['x-amz-content-sha256']).toBe(UNSIGNED_PAYLOAD);
        expect(signedHeaders(headers)).toEqual(
          expect.arrayContaining(['x-amz-checksum-crc32', 'x-amz-content-sha256']),
        );
      }
      const stored = await readObject(context.stack, `predictions/integrity-${size}.csv`);
      expect(stored.text).toBe(bytes.toString('utf8'));
    },
  );

  it.each([
    [{ protocol: 'https:', hostname: 's3.eu-west-1.amazonaws.com' }, false],
    [{ protocol: 'http:', hostname: 'localhost' }, false],
    [{ protocol: 'http:', hostname: '127.0.0.1' }, false],
    [{ protocol: 'http:', hostname: '[::1]' }, false],
    [{ protocol: 'http:', hostname: 's3.eu-west-1.amazonaws.com' }, true],
    [{ protocol: 'http:', hostname: '10.0.0.12' }, true],
    [{ protocol: 'http:', hostname: 'localhost.example.com' }, true],
  ])('signs the payload of %o: %s', (request, signed) => {
    expect(payloadNeedsSigning(request)).toBe(signed);
  });
});

describe("a failed job's results object", () => {
  // The SDK warns "Are you using a Stream of unknown length as the Body of a PutObject request?" for any
  // PutObject without a Content-Length (@aws-sdk/middleware-sdk-s3, checkContentLengthHeader), which an empty
  // string body is sent without: an operator reading a failed job's logs would chase a stream that is not there.
  it('is emptied by a PutObject that says its length is 0, with nothing for the SDK to warn about', async () => {
    const warn = vi.fn();
    const s3 = new S3Client({
      region: context.stack.region,
      endpoint: context.stack.endpoint,
      forcePathStyle: true,
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      logger: { debug: () => undefined, info: () => undefined, warn, error: () => undefined },
    });
    const lengths: (string | undefined)[] = [];
    s3.middlewareStack.add(
      (next) => (args) => {
        lengths.push((args.request as { headers: Record<string, string> }).headers['content-length']);
        return next(args);
      },
      { step: 'deserialize', name: 'recordLength' },
    );
    const key = 'predictions/discarded.csv';
    await upload(s3, key, results(1000));
    lengths.length = 0;

    await createStorage(s3, context.stack.bucket).discardOutput(key);

    expect(lengths).toEqual(['0']);
    expect(warn).not.toHaveBeenCalled();
    expect((await readObject(context.stack, key)).text).toBe('');
  });
});
