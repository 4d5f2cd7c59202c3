import { describeError } from './errors.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { REJECTION_REASON_ATTRIBUTE, type Queue } from './queue.js';
import type { Store } from './store.js';

/**
 * Closes the last gap of existing-system-lessons.md #6: a job whose worker dies on every attempt (out of memory,
 * killed) reaches the DLQ through the redrive policy while its row still says RUNNING, and the UI would poll it
 * forever. Every few minutes the worker looks at the DLQ (without removing anything: the messages stay there for
 * an operator) and fails the row each one names, if that row is still QUEUED or RUNNING. Rows of messages the
 * worker rejected or failed itself are already FAILED, so for them this changes nothing.
 */
export const DLQ_FAILURE_MESSAGE = 'Processing failed repeatedly - please upload the file again';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function namedPrediction(body: string | undefined): string | undefined {
  try {
    const parsed = JSON.parse(body ?? '') as { prediction_id?: unknown };
    return typeof parsed.prediction_id === 'string' && UUID.test(parsed.prediction_id)
      ? parsed.prediction_id.toLowerCase()
      : undefined;
  } catch {
    return undefined;
  }
}

export interface DlqSweeper {
  /** one look at the DLQ; resolves to the number of rows it failed */
  sweep(): Promise<number>;
  start(intervalMs: number): void;
  stop(): void;
}

export function createDlqSweeper(deps: {
  queue: Pick<Queue, 'peekDlq'>;
  store: Pick<Store, 'fail'>;
  metrics: Pick<Metrics, 'jobFailed'>;
  logger: Logger;
  /** how long a looked-at DLQ message stays hidden, so the next sweeps see the others */
  hideSeconds: number;
}): DlqSweeper {
  let timer: NodeJS.Timeout | undefined;
  const sweeper: DlqSweeper = {
    async sweep() {
      let failed = 0;
      for (const message of await deps.queue.peekDlq(deps.hideSeconds)) {
        if (message.MessageAttributes?.[REJECTION_REASON_ATTRIBUTE]) continue; // settled when it was rejected
        const predictionId = namedPrediction(message.Body);
        if (predictionId === undefined || !(await deps.store.fail(predictionId, DLQ_FAILURE_MESSAGE)))
          continue;
        failed += 1;
        await deps.metrics.jobFailed({ durationMs: 0, reason: 'dead_letter', predictionId });
        deps.logger.warn(
          { prediction_id: predictionId, message_id: message.MessageId },
          'failed a dead-lettered job',
        );
      }
      return failed;
    },
    start(intervalMs) {
      timer ??= setInterval(() => {
        sweeper
          .sweep()
          .catch((error: unknown) => deps.logger.warn({ err: describeError(error) }, 'DLQ sweep failed'));
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
