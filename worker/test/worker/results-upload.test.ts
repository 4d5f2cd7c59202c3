import { describe, expect, it } from 'vitest';
import { createPartPool, PART_SIZE_BYTES, uploadResults } from '../../src/results-upload.js';
import {
  answer,
  countingPool,
  crc32Base64,
  fakeS3,
  results,
  TARGET,
  tick,
  uploadAll,
  write,
} from './results-upload-fakes.js';

// What goes on the wire when the upload succeeds (results-upload-fakes.ts: the fake S3).

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

  // The CRC32 is taken as each batch is copied into its part, while its bytes are in cache: the SDK, given it,
  // computes none of its own (@aws-sdk/checksums flexibleChecksumsMiddleware skips a request that already has an
  // x-amz-checksum-* header), which cost a second pass over every byte sent (the floor's crc32UsPerRow).
  it('gives the SDK the CRC32 of each part, taken as the bytes were copied, so the SDK computes none', async () => {
    const fake = fakeS3();
    const given: { operation: string; checksum: unknown }[] = [];
    fake.s3.middlewareStack.add(
      (next, context) => (args) => {
        const input = args.input as { ChecksumCRC32?: unknown };
        given.push({ operation: context.commandName ?? '', checksum: input.ChecksumCRC32 });
        return next(args);
      },
      { step: 'initialize' },
    );
    await uploadAll(fake.s3, results(2 * PART_SIZE_BYTES + 12_345));
    await uploadAll(fake.s3, results(300_000));

    const sent = fake.calls.filter((c) => c.operation === 'UploadPart' || c.operation === 'PutObject');
    expect(sent).toHaveLength(4);
    expect(
      given.filter((g) => g.operation === 'UploadPartCommand' || g.operation === 'PutObjectCommand'),
    ).toEqual(
      sent.map((c) => ({
        operation: `${c.operation}Command`,
        checksum: crc32Base64(c.body),
      })),
    );
  });

  it('reuses its part buffers, within and across uploads', async () => {
    const fake = fakeS3();
    const pool = countingPool();
    await uploadAll(fake.s3, results(12 * PART_SIZE_BYTES), pool);
    await uploadAll(fake.s3, results(12 * PART_SIZE_BYTES), pool);

    // at most the parts in flight and the one being filled
    expect(pool.allocated).toBeLessThanOrEqual(5);
  });
});
