import type { Message } from '@aws-sdk/client-sqs';
import { fullJitterDelay, sleep } from './backoff.js';
import { describeError, JobAborted } from './errors.js';
import type { Logger } from './logger.js';
import { receiveCount, type Queue } from './queue.js';

/**
 * The SQS consumer loop: long-poll for as many messages as there are free job slots, run each job with a visibility
 * heartbeat and a time limit, then delete the message or hand it back as the job decided.
 *
 * Why not sqs-consumer (v14 runs on Node 20 and was the preferred choice): it receives a batch and awaits the whole
 * batch before polling again, so one hour-long job idles every other slot; its receive-error pause is a fixed
 * interval, not an exponential back-off with jitter (lessons #12); stop() waits for polling but neither drains
 * in-flight handlers within a deadline nor hands unfinished messages back with visibility 0 (lessons #13); its
 * heartbeat has no cap and its handler timeout does not abort the handler. Each of those is a requirement here,
 * and together they are most of a consumer, so this small loop is clearer than wrapping the library.
 */

export type Disposition =
  /** done with it (succeeded, failed permanently, duplicate, orphan): remove it from the queue */
  | { action: 'delete' }
  /** keep it: visible again after `delaySeconds` (a transient failure's back-off; 0 on the last attempt) */
  | { action: 'retry'; delaySeconds: number };

export interface JobContext {
  /** aborts with a JobAborted reason when the job times out or the worker stops before the job finishes */
  signal: AbortSignal;
  /** ApproximateReceiveCount (at least 2 for a message the worker re-sent itself) */
  receiveCount: number;
}

export type Handler = (message: Message, context: JobContext) => Promise<Disposition>;

export interface ConsumerOptions {
  queue: Queue;
  handler: Handler;
  logger: Logger;
  concurrency: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  heartbeatIntervalSeconds: number;
  jobTimeoutSeconds: number;
  /** called with true whenever a job starts and with false when the last one ends (task scale-in protection) */
  onBusyChange?: (busy: boolean) => void;
  /** called on every turn of the loop with the time within which the loop promises to turn again */
  onAlive?: (withinMs: number) => void;
  receiveBackoff?: { baseMs: number; capMs: number };
}

export interface Consumer {
  start(): void;
  /**
   * Stops receiving, lets running jobs finish within `drainMs` (or until hurry()), then hands the rest back to SQS
   * at once (visibility 0). A hand-back costs the job one of its MAX_RECEIVE_COUNT receives, because SQS counts
   * every receive and only a re-send would start a fresh count, which the consume-only role may not do: a job
   * handed back on its last attempt goes to the DLQ, where the sweeper fails its row and an operator can redrive
   * it (README, Operations). Resolves when every job has settled.
   */
  stop(drainMs: number): Promise<{ handedBack: number }>;
  /** ends a running stop()'s drain now: unfinished jobs are handed back at once (an operator's second signal) */
  hurry(): void;
  readonly inFlight: number;
}

interface Running {
  message: Message;
  controller: AbortController;
  handedBack: boolean;
  done: Promise<void>;
}

const IDLE_CHECK_MS = 5000;
const SETTLE_AFTER_ABORT_MS = 10_000;
/** how long after its WaitTimeSeconds a poll may take to answer before stop() counts it as hung */
const POLL_GRACE_MS = 2000;
/** a hand-back SQS does not confirm by then is given up: the message reappears after its visibility timeout */
const HAND_BACK_TIMEOUT_MS = 5000;

export function createConsumer(options: ConsumerOptions): Consumer {
  const { queue, handler, logger } = options;
  const running = new Set<Running>();
  const stopController = new AbortController();
  const pollController = new AbortController();
  const hurryController = new AbortController();
  const backoff = options.receiveBackoff ?? { baseMs: 1000, capMs: 60_000 };
  // A turn is at most one long poll, one back-off or one idle check; a minute on top absorbs slow responses.
  const turnWithinMs = Math.max(options.waitTimeSeconds * 1000, backoff.capMs, IDLE_CHECK_MS) + 60_000;
  let loop: Promise<void> | undefined;
  let slotFreed: (() => void) | undefined;

  const alive = () => {
    try {
      options.onAlive?.(turnWithinMs);
    } catch (error) {
      logger.warn({ err: describeError(error) }, 'could not record liveness');
    }
  };

  function track(message: Message): void {
    const controller = new AbortController();
    const entry: Running = { message, controller, handedBack: false, done: Promise.resolve() };
    running.add(entry);
    options.onBusyChange?.(true);
    entry.done = execute(entry).finally(() => {
      running.delete(entry);
      if (running.size === 0) options.onBusyChange?.(false);
      slotFreed?.();
    });
  }

  async function execute(entry: Running): Promise<void> {
    const { message, controller } = entry;
    const log = logger.child({ message_id: message.MessageId });
    const jobTimeout = setTimeout(
      () => controller.abort(new JobAborted('timeout')),
      options.jobTimeoutSeconds * 1000,
    );
    // Keep the message invisible while the job runs (lessons #4); the job's own time limit caps this, because the
    // heartbeat stops with the job.
    const heartbeat = setInterval(() => {
      queue
        .changeVisibility(message, options.visibilityTimeoutSeconds)
        .catch((error: unknown) => log.warn({ err: describeError(error) }, 'visibility heartbeat failed'));
    }, options.heartbeatIntervalSeconds * 1000);
    try {
      const disposition = await handler(message, {
        signal: controller.signal,
        receiveCount: receiveCount(message),
      });
      if (entry.handedBack) return;
      if (disposition.action === 'delete') await queue.delete(message);
      else await queue.changeVisibility(message, disposition.delaySeconds);
    } catch (error) {
      // The handler classifies every failure itself; reaching here means SQS refused the delete or the visibility
      // change. The message then reappears after its visibility timeout and the row's status settles it.
      log.error({ err: describeError(error) }, 'could not settle message with SQS');
    } finally {
      clearTimeout(jobTimeout);
      clearInterval(heartbeat);
    }
  }

  async function handBack(entry: Running): Promise<void> {
    entry.handedBack = true;
    // Visibility 0, never a re-send (see stop()); scale-in protection and the drain time make a hand-back on a
    // job's last attempt rare.
    try {
      await queue.changeVisibility(entry.message, 0, AbortSignal.timeout(HAND_BACK_TIMEOUT_MS));
    } catch (error) {
      logger.warn(
        { message_id: entry.message.MessageId, err: describeError(error) },
        'could not hand message back; it reappears after its visibility timeout',
      );
    }
    entry.controller.abort(new JobAborted('shutdown'));
  }

  async function receiveLoop(): Promise<void> {
    let failures = 0;
    while (!stopController.signal.aborted) {
      alive();
      const free = options.concurrency - running.size;
      if (free <= 0) {
        await Promise.race([new Promise<void>((resolve) => (slotFreed = resolve)), sleep(IDLE_CHECK_MS)]);
        continue;
      }
      let messages: Message[];
      try {
        // Not aborted when stopping begins: SQS would still hand messages to a poll whose client has gone, hiding
        // them for a whole visibility timeout (a hand-back included). A poll ends within WaitTimeSeconds and
        // anything it brings is handed back; only a poll still open well after that (a stalled connection) is.
        messages = await queue.receive(free, pollController.signal);
        failures = 0;
      } catch (error) {
        if (stopController.signal.aborted) break;
        failures += 1;
        const delayMs = fullJitterDelay(failures, backoff.baseMs, backoff.capMs);
        logger.warn({ err: describeError(error), attempt: failures, retry_in_ms: delayMs }, 'receive failed');
        await sleep(delayMs, stopController.signal);
        continue;
      }
      if (stopController.signal.aborted) {
        // Received while stopping: give them straight back rather than start work we may not finish.
        await Promise.all(messages.map((m) => queue.changeVisibility(m, 0).catch(() => undefined)));
        break;
      }
      for (const message of messages) track(message);
    }
  }

  return {
    start() {
      // Not rethrown: a dead loop stops recording liveness, so the health check fails and ECS replaces the task.
      loop ??= receiveLoop().catch((error: unknown) => {
        logger.fatal({ err: describeError(error) }, 'consumer loop crashed');
      });
    },

    async stop(drainMs) {
      stopController.abort();
      slotFreed?.();
      const pollDeadline = setTimeout(
        () => pollController.abort(),
        options.waitTimeSeconds * 1000 + POLL_GRACE_MS,
      );
      try {
        return await drain(drainMs);
      } finally {
        await loop;
        clearTimeout(pollDeadline);
      }
    },

    hurry() {
      hurryController.abort();
    },

    get inFlight() {
      return running.size;
    },
  };

  async function drain(drainMs: number): Promise<{ handedBack: number }> {
    const settled = Promise.all([...running].map((entry) => entry.done));
    const keepAlive = setInterval(alive, IDLE_CHECK_MS);
    try {
      const drained = await Promise.race([
        settled.then(() => true),
        sleep(drainMs, hurryController.signal).then(() => false),
      ]);
      if (drained) return { handedBack: 0 };
      // Hand back only once our own last poll has ended, or that poll could pick the message straight up again.
      await loop;
      const unfinished = [...running];
      await Promise.all(unfinished.map(handBack));
      await Promise.race([settled, sleep(SETTLE_AFTER_ABORT_MS)]);
      return { handedBack: unfinished.length };
    } finally {
      clearInterval(keepAlive);
    }
  }
}
