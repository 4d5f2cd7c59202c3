import { describe, expect, it } from 'vitest';
import { createPartPool, PART_SIZE_BYTES, uploadResults } from '../../src/results-upload.js';
import { answer, fakeS3, internalError, results, TARGET, tick, write } from './results-upload-fakes.js';

// A failed, aborted or destroyed upload never completes and discards what S3 stored (results-upload-fakes.ts).

describe('the results upload, when it stops', () => {
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
