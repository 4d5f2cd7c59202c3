import { retryDelaySeconds } from './backoff.js';
import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import type { Store } from './store.js';

/**
 * Closes the last gap of existing-system-lessons.md #6: a job whose worker dies on every attempt (out of memory,
 * killed) reaches the DLQ through the redrive policy while its row still says RUNNING, and the UI would poll it
 * forever. The sweeper finds those rows in the database, not in the DLQ: reading the DLQ takes ten messages per
 * receive and hides each one it reads, so with many dead letters a row waited one sweep per ten of them, and the
 * hidden messages left the DLQ's visible count (what an operator and the console look at) near zero. A row is
 * abandoned once it has been RUNNING since its last claim for longer than any attempt can live plus the time a
 * redelivery takes to claim it again (`abandonedAfterSeconds`); one conditional UPDATE fails all of them, so
 * workers sweeping at once, and a claim or completion racing a sweep, serialise on the row lock and each row is
 * failed at most once, by whoever gets there first.
 */
export const DLQ_FAILURE_MESSAGE = 'Processing failed repeatedly - please upload the file again';

/** calls an attempt may still make after its time limit aborts it, each within REQUEST_TIMEOUT_SECONDS */
const CALLS_AFTER_ABORT = 10;

export interface AbandonmentSettings {
  jobTimeoutSeconds: number;
  requestTimeoutSeconds: number;
  visibilityTimeoutSeconds: number;
  maxReceiveCount: number;
  retryBaseDelaySeconds: number;
}

/**
 * How long after its last claim (the row's updated_at) a RUNNING row can only belong to a job nobody will finish.
 * A claim is the only write that keeps a row RUNNING, so the bound is the longest a row can legitimately go
 * without one:
 *  - a live attempt, however slow and however faithfully it heartbeats, is aborted at JOB_TIMEOUT_SECONDS, and
 *    what it still does then (abort the upload, write FAILED or COMPLETED, settle the message) is a handful of
 *    calls that each give up within REQUEST_TIMEOUT_SECONDS;
 *  - an attempt that ends without finishing the job leaves its message invisible for at most the larger of the
 *    visibility timeout (it died: the last heartbeat extended visibility by that much) and the retry delay of a
 *    transient failure before the last attempt (capped at 15 min);
 *  - one more visibility timeout lets a worker receive the redelivered message and claim the row again.
 * With the defaults (3600 s, 30 s, 300 s, 3 receives, 30 s) that is 3600 + 300 + 300 + 300 = 4500 s. A row past
 * it is one whose last attempt died, was handed back by a shutdown, or could not record its failure. A redelivery
 * that waits in a backlog longer than one visibility timeout would find its row failed and be dropped as
 * finished; the oldest-job-age alarm (30 min) fires well before that.
 */
export function abandonedAfterSeconds(s: AbandonmentSettings): number {
  const attempt = s.jobTimeoutSeconds + CALLS_AFTER_ABORT * s.requestTimeoutSeconds;
  const longestRetryDelay =
    s.maxReceiveCount > 1
      ? retryDelaySeconds(s.maxReceiveCount - 1, s.retryBaseDelaySeconds, undefined, () => 1)
      : 0;
  return attempt + Math.max(s.visibilityTimeoutSeconds, longestRetryDelay) + s.visibilityTimeoutSeconds;
}

export interface DeadLetterSweeper {
  /** fails every abandoned row; resolves to the number it failed */
  sweep(): Promise<number>;
  start(intervalMs: number): void;
  stop(): void;
}

export function createDeadLetterSweeper(deps: {
  store: Pick<Store, 'failAbandoned'>;
  metrics: Pick<Metrics, 'jobFailed'>;
  logger: Logger;
  abandonedAfterSeconds: number;
}): DeadLetterSweeper {
  let timer: NodeJS.Timeout | undefined;
  const sweeper: DeadLetterSweeper = {
    async sweep() {
      const failed = await deps.store.failAbandoned(deps.abandonedAfterSeconds, DLQ_FAILURE_MESSAGE);
      for (const predictionId of failed) {
        await deps.metrics.jobFailed({ durationMs: 0, reason: 'dead_letter', predictionId });
        deps.logger.warn(
          { prediction_id: predictionId, abandoned_after_s: deps.abandonedAfterSeconds },
          'failed a job no attempt will finish',
        );
      }
      return failed.length;
    },
    start(intervalMs) {
      timer ??= setInterval(() => {
        sweeper
          .sweep()
          .catch((error: unknown) =>
            deps.logger.warn({ err: describeError(error) }, 'dead-letter sweep failed'),
          );
      }, intervalMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
  return sweeper;
}
