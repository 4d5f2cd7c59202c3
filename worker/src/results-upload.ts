import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Writable } from 'node:stream';
import { crc32 } from 'node:zlib';

/**
 * The results object written to S3 as scoring produces it. Each batch the scorer writes is copied into a part
 * buffer taken from a per-process pool; a full buffer goes out as one UploadPart and returns to the pool once S3
 * has it, so a job reuses the same few buffers instead of allocating (and page-faulting, and collecting) a new
 * one per part, as @aws-sdk/lib-storage's Upload does (it Buffer.concat()s every part out of the chunks it read,
 * dist-cjs/index.js getChunkStream). Output that never fills a part, most small jobs, is one PutObject and no
 * multipart calls at all.
 *
 * Memory per upload is bounded by `maxPartsInFlight` + 1 part buffers (the parts S3 is receiving and the one
 * being filled) plus the one batch the sink holds while it waits for a free slot: scoring stalls on the sink's
 * backpressure meanwhile.
 *
 * Integrity: every request carries a CRC32 of its body in the signed `x-amz-checksum-crc32` header, and S3
 * rejects a part or object whose bytes do not match. The CRC32 is taken as each batch is copied into its part,
 * while the batch is still in cache, and given to the SDK (ChecksumCRC32), whose flexible-checksums middleware
 * then computes none (@aws-sdk/checksums: it passes on a request that already has an `x-amz-checksum-*` header):
 * one pass over the bytes instead of a second one over each 5 MiB part once it is full. And
 * CompleteMultipartUpload lists each part's ETag and CRC32 as S3 returned them, in part order, so S3 assembles
 * exactly the parts it verified (AWS S3 User Guide, "Checking object integrity"). Only a sink that was ended
 * after every write succeeded sends CompleteMultipartUpload; any failure or abort() cancels the parts in flight
 * and sends AbortMultipartUpload for the ones already stored, so a partial object is never completed.
 */

/** S3's minimum part size (except the last): the smallest memory per part; 10,000 of them cap an object at ~48.8 GiB */
export const PART_SIZE_BYTES = 5 * 1024 * 1024;

/** S3's most parts per upload */
const MAX_PARTS = 10_000;

/** Part buffers kept for the next upload. A buffer is reused only once S3 has answered for its bytes. */
export interface PartPool {
  take(): Buffer;
  give(buffer: Buffer): void;
}

/** keeps up to `keep` idle buffers; any more are left to the garbage collector */
export function createPartPool(keep: number): PartPool {
  const idle: Buffer[] = [];
  return {
    // Unzeroed: only the bytes written in this upload (a prefix of the buffer) are ever sent.
    take: () => idle.pop() ?? Buffer.allocUnsafeSlow(PART_SIZE_BYTES),
    give(buffer) {
      if (idle.length < keep) idle.push(buffer);
    },
  };
}

export interface ObjectTarget {
  Bucket: string;
  Key: string;
  ContentType: string;
}

export interface ResultsUpload {
  /** write the object here; end() it to store the object */
  readonly sink: Writable;
  /** resolves once S3 has the whole object; rejects with `failure`, or on abort() */
  done(): Promise<void>;
  /** stops the upload, discards what S3 received of it, and resolves once that is done */
  abort(): Promise<void>;
  /** the S3 error that stopped the upload, when it stopped on its own (not through abort()) */
  readonly failure: unknown;
}

/** a CRC32 as S3 writes it: its 4 bytes, big-endian, in base64 */
function base64(crc: number): string {
  const digest = Buffer.alloc(4);
  digest.writeUInt32BE(crc >>> 0);
  return digest.toString('base64');
}

const asError = (error: unknown): Error => (error instanceof Error ? error : new Error(String(error)));

export function uploadResults(
  s3: Pick<S3Client, 'send'>,
  target: ObjectTarget,
  pool: PartPool,
  maxPartsInFlight: number,
): ResultsUpload {
  const { Bucket, Key } = target;
  // cancels the requests in flight when the upload stops
  const requests = new AbortController();
  const inFlight = new Set<Promise<void>>();
  const parts: CompletedPart[] = [];
  let partCount = 0;
  let uploadId: Promise<string> | undefined;
  // taken when the first byte for it arrives, so an upload ending on a part boundary holds no empty one
  let buffer: Buffer | undefined;
  let filled = 0;
  /** CRC32 of the `filled` bytes */
  let checksum = 0;
  let state: 'open' | 'stored' | 'stopped' = 'open';
  let failure: unknown;
  let stopReason: Error | undefined;
  const stoppedBy = (): Error => stopReason ?? new Error('the results upload was aborted');

  function createUpload(): Promise<string> {
    uploadId ??= s3
      .send(new CreateMultipartUploadCommand({ ...target, ChecksumAlgorithm: 'CRC32' }))
      .then(
        ({ UploadId }) => UploadId ?? Promise.reject(new Error('CreateMultipartUpload returned no UploadId')),
      );
    return uploadId;
  }

  function sendPart(body: Buffer, length: number, crc: number): void {
    const PartNumber = ++partCount;
    const task = (async () => {
      if (PartNumber > MAX_PARTS) throw new Error(`the results need more than ${MAX_PARTS} parts`);
      const UploadId = await createUpload();
      const { ETag, ChecksumCRC32 } = await s3.send(
        new UploadPartCommand({
          Bucket,
          Key,
          UploadId,
          PartNumber,
          Body: body.subarray(0, length),
          ChecksumAlgorithm: 'CRC32',
          ChecksumCRC32: base64(crc),
        }),
        { abortSignal: requests.signal },
      );
      if (!ETag) throw new Error(`UploadPart ${PartNumber} returned no ETag`);
      parts.push({ PartNumber, ETag, ...(ChecksumCRC32 ? { ChecksumCRC32 } : {}) });
      pool.give(body);
    })().then(
      () => void inFlight.delete(task),
      (error: unknown) => {
        // A failed or cancelled request's buffer is dropped, not reused: its socket may still be sending it.
        inFlight.delete(task);
        fail(error);
      },
    );
    inFlight.add(task);
  }

  async function freeSlot(): Promise<void> {
    while (inFlight.size >= maxPartsInFlight) await Promise.race(inFlight);
    if (state !== 'open') throw stoppedBy();
  }

  async function accept(chunk: Buffer): Promise<void> {
    for (let at = 0; at < chunk.length;) {
      const part = (buffer ??= pool.take());
      const copied = chunk.copy(part, filled, at);
      checksum = crc32(chunk.subarray(at, at + copied), checksum);
      filled += copied;
      at += copied;
      if (filled === PART_SIZE_BYTES) {
        await freeSlot();
        sendPart(part, filled, checksum);
        buffer = undefined;
        filled = 0;
        checksum = 0;
      }
    }
  }

  async function store(): Promise<void> {
    if (partCount === 0) {
      await s3.send(
        new PutObjectCommand({
          ...target,
          Body: buffer?.subarray(0, filled) ?? new Uint8Array(0),
          ChecksumAlgorithm: 'CRC32',
          ChecksumCRC32: base64(checksum),
        }),
        { abortSignal: requests.signal },
      );
      if (buffer) pool.give(buffer);
      return;
    }
    if (buffer) {
      await freeSlot();
      sendPart(buffer, filled, checksum);
    }
    while (inFlight.size > 0) await Promise.all(inFlight);
    if (state !== 'open') throw stoppedBy();
    parts.sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket,
        Key,
        UploadId: await uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
  }

  /** after a failure or abort(): lets the cancelled parts settle, then removes the ones S3 stored */
  async function discard(): Promise<void> {
    while (inFlight.size > 0) await Promise.allSettled(inFlight);
    const id = await uploadId?.catch(() => undefined);
    if (id !== undefined)
      await s3.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId: id })).catch(() => undefined);
  }

  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      accept(chunk).then(() => callback(), callback);
    },
    final(callback) {
      store().then(
        () => {
          state = 'stored';
          callback();
        },
        (error: unknown) => {
          fail(error);
          callback(asError(error));
        },
      );
    },
    // Every way the upload stops ends here: its own failure, abort(), or the writer destroying the sink. The
    // sink closes once what S3 received is discarded, so done() settles only then.
    destroy(error, callback) {
      if (state !== 'open') return callback(error);
      state = 'stopped';
      stopReason = failure !== undefined ? asError(failure) : (error ?? undefined);
      requests.abort();
      void discard().then(() => callback(error));
    },
  });
  // The failure reaches the writer through done() and `failure`: an 'error' event nobody happens to be listening
  // for (the writer is between writes, or waiting on done()) would otherwise crash the process.
  sink.on('error', () => undefined);
  const finished = new Promise<void>((resolve, reject) => {
    sink.once('finish', resolve);
    // after 'finish' too (the sink then closes itself), when this no longer changes anything
    sink.once('close', () => reject(stoppedBy()));
  });
  // Observed here so that an upload nobody awaits never becomes an unhandled rejection.
  finished.catch(() => undefined);

  function fail(error: unknown): void {
    if (state !== 'open') return;
    failure = error;
    // Also stops the writer: scoring waits on this sink and would otherwise wait forever.
    sink.destroy(asError(error));
  }

  return {
    sink,
    done: () => finished,
    get failure() {
      return failure;
    },
    async abort() {
      sink.destroy();
      await finished.catch(() => undefined);
    },
  };
}
