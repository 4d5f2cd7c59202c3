import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { PermanentError, TransientError } from './errors.js';
import { createPartPool, uploadResults } from './results-upload.js';

/**
 * S3 at the edge of a job: one streamed read of the input, one streamed (multipart when large) write of the
 * results. Errors leave this module already classified: a missing or forbidden object is permanent (retrying will
 * not make it appear), anything else (throttling, 5xx, network) is transient.
 */

/** The deterministic results key (existing-system-lessons.md #27): a retry overwrites, never adds, an object. */
export function outputKey(userId: string, predictionId: string): string {
  return `predictions/${userId}/${predictionId}.csv`;
}

const PERMANENT_S3_ERRORS: Record<string, string> = {
  NoSuchKey: 'The uploaded file could not be found - please upload it again',
  NotFound: 'The uploaded file could not be found - please upload it again',
  NoSuchBucket: 'The uploaded file could not be found - please upload it again',
  AccessDenied: 'The uploaded file could not be read - please upload it again or contact support',
  InvalidObjectState: 'The uploaded file could not be read - please upload it again or contact support',
};

export function classifyS3Error(error: unknown, what: 'read' | 'write'): PermanentError | TransientError {
  const name = error instanceof Error ? error.name : '';
  const detail = `S3 ${what} failed`;
  // Only the input is the customer's: a results write refused for any reason is our storage's fault.
  if (what === 'write') {
    return new TransientError(RESULTS_NOT_SAVED, { cause: error, detail, reason: 'results_not_saved' });
  }
  const permanent = PERMANENT_S3_ERRORS[name];
  if (permanent) return new PermanentError(permanent, { cause: error, detail: `S3 ${what}: ${name}` });
  return new TransientError('File storage was unavailable', { cause: error, detail });
}

export const RESULTS_NOT_SAVED = 'The results could not be saved';

// the part size bounds each part request's deadline (deadlines.ts)
export { PART_SIZE_BYTES } from './results-upload.js';

/**
 * Parts S3 receives at once per upload. Scoring stalls whenever every one is busy: 4 (up to ~25 MB per upload
 * with the part being filled) kept the 1M-row job ~15% faster than 2 on the emulator, within the memory target.
 */
const PARTS_IN_FLIGHT = 4;

/**
 * The object's body as the job reads it. A transfer that breaks after the response began (a reset, the idle
 * deadline) fails the body stream with the SDK's raw error; it is storage's fault, not the file's, so the reader
 * sees it classified like any other S3 failure.
 */
function classifiedStream(body: Readable): Readable {
  const input = new PassThrough();
  body.once('error', (error) => input.destroy(classifyS3Error(error, 'read')));
  input.once('close', () => body.destroy());
  return body.pipe(input);
}

export interface OutputUpload {
  /** write the results CSV here; it is streamed to S3 as it is written */
  sink: Writable;
  /** resolves once S3 has the whole object (it exists before the row may become COMPLETED) */
  done(): Promise<void>;
  /** stops the upload and discards any uploaded parts */
  abort(): Promise<void>;
  /**
   * why the upload failed, when it failed on its own (not through abort()): the writer then only sees its sink
   * destroyed, which says nothing about the cause
   */
  readonly failure: TransientError | PermanentError | undefined;
}

export interface Storage {
  openInput(key: string, signal?: AbortSignal): Promise<Readable>;
  createOutput(key: string): OutputUpload;
  /**
   * Empties the results object of a job that has FAILED. The role may not delete (infra/task-roles.ts), but it may
   * overwrite: the customer's data is then only in a noncurrent version, and the bucket's lifecycle rule on
   * predictions/ removes noncurrent versions and empty objects (README, Operations).
   */
  discardOutput(key: string): Promise<void>;
}

/**
 * Results bytes are checksummed once, not twice. Every part (and a single-part PutObject) goes with a CRC32 of
 * its bytes in `x-amz-checksum-crc32` (taken by results-upload.ts as it fills the part), which S3 verifies before it
 * stores the part and CompleteMultipartUpload combines per part; SigV4 would also hash the same bytes with
 * SHA-256 for `x-amz-content-sha256`, which S3 checks the same way. The header is signed, so the CRC cannot be
 * changed in flight, and over TLS neither can the body: there the SHA-256 adds no integrity, only ~1.5 µs of CPU
 * per results row. So, as the AWS SDK for Java does (AWS4UnsignedPayloadSigner: unsigned over HTTPS only) and as
 * this SDK does itself for streamed bodies (STREAMING-UNSIGNED-PAYLOAD-TRAILER), the payload is declared
 * UNSIGNED-PAYLOAD, which S3 accepts in place of the hash (sig-v4-header-based-auth) - but only over TLS or
 * loopback (the local stack); over any other plain-HTTP hop the payload stays signed.
 */
export const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';

interface OutgoingRequest {
  readonly protocol?: string;
  readonly hostname?: string;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
}

const LOOPBACK = /^(?:localhost|127(?:\.\d{1,3}){3}|\[?::1\]?)$/;

export function payloadNeedsSigning(request: OutgoingRequest): boolean {
  return request.protocol !== 'https:' && !LOOPBACK.test(request.hostname ?? '');
}

const signsOnlyTheChecksum = new WeakSet<S3Client>();

function signOnlyTheChecksum(s3: S3Client): void {
  if (signsOnlyTheChecksum.has(s3)) return;
  signsOnlyTheChecksum.add(s3);
  s3.middlewareStack.add(
    (next, { commandName }) =>
      (args) => {
        const request = args.request as OutgoingRequest;
        if (
          (commandName === 'UploadPartCommand' || commandName === 'PutObjectCommand') &&
          request.body instanceof Uint8Array &&
          request.headers &&
          !payloadNeedsSigning(request)
        )
          request.headers['x-amz-content-sha256'] = UNSIGNED_PAYLOAD;
        return next(args);
      },
    { step: 'build', name: 'retainwiseUnsignedPayload' },
  );
}

export function createStorage(s3: S3Client, bucket: string): Storage {
  signOnlyTheChecksum(s3);
  // shared by this process's uploads, so a job reuses the buffers of the jobs before it
  const parts = createPartPool(PARTS_IN_FLIGHT + 1);
  return {
    async openInput(key, signal) {
      try {
        const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), {
          abortSignal: signal,
        });
        return classifiedStream(object.Body as Readable);
      } catch (error) {
        throw classifyS3Error(error, 'read');
      }
    },

    async discardOutput(key) {
      try {
        // bytes, not '': the SDK sends no Content-Length for an empty string and warns of a stream of unknown length
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: key,
            Body: new Uint8Array(0),
            ContentType: 'text/csv',
          }),
        );
      } catch (error) {
        throw classifyS3Error(error, 'write');
      }
    },

    createOutput(key) {
      const upload = uploadResults(
        s3,
        { Bucket: bucket, Key: key, ContentType: 'text/csv' },
        parts,
        PARTS_IN_FLIGHT,
      );
      const finished = upload.done().catch((error: unknown) => {
        throw classifyS3Error(error, 'write');
      });
      // Observed here so a failure is never an unhandled rejection; callers still see it through done().
      finished.catch(() => undefined);
      return {
        sink: upload.sink,
        done: () => finished,
        abort: () => upload.abort(),
        get failure() {
          return upload.failure === undefined ? undefined : classifyS3Error(upload.failure, 'write');
        },
      };
    },
  };
}
