import type { Config } from './config.js';
import { PART_SIZE_BYTES } from './storage.js';

/**
 * How long each AWS call may take before it is abandoned (issue #13: a path that accepts connections and never
 * answers). Two limits per call, both enforced by @smithy/node-http-handler (smithy-lang/smithy-typescript,
 * packages/node-http-handler/src/node-http-handler.ts, set-request-timeout.ts, set-socket-timeout.ts):
 *
 * - `requestTimeoutMs` runs from sending the request to the response's headers. Only with
 *   `throwOnRequestTimeout: true` does it destroy the request and fail the call; without it (the default in
 *   4.x) it merely logs a warning and the call hangs on.
 * - `idleTimeoutMs` (the handler's `socketTimeout`) fails a call whose socket carries nothing for that long,
 *   including while a response body streams, which the request timeout no longer covers.
 *
 * The SDK counts both failures (`TimeoutError`) as transient and retries them within its attempts
 * (@smithy/core, src/submodules/retry/service-error-classification/constants.ts); past those the job sees a transient error.
 */
export interface CallDeadline {
  requestTimeoutMs: number;
  idleTimeoutMs: number;
}

/** the slowest transfer an S3 part is allowed before it counts as hung: 5 MiB parts get 5 s on top */
const MIN_PART_BYTES_PER_SECOND = 1024 * 1024;

export function sqsDeadline(config: Pick<Config, 'waitTimeSeconds' | 'requestTimeoutSeconds'>): CallDeadline {
  // A long poll is silent for up to WaitTimeSeconds by design, so both limits sit that far above the others.
  const ms = (config.waitTimeSeconds + config.requestTimeoutSeconds) * 1000;
  return { requestTimeoutMs: ms, idleTimeoutMs: ms };
}

export function s3Deadline(config: Pick<Config, 'requestTimeoutSeconds'>): CallDeadline {
  const ms = config.requestTimeoutSeconds * 1000;
  // The request timeout covers writing a whole part before the answer can start.
  return {
    requestTimeoutMs: ms + Math.ceil((PART_SIZE_BYTES / MIN_PART_BYTES_PER_SECOND) * 1000),
    idleTimeoutMs: ms,
  };
}
