import type { Message } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, vi } from 'vitest';
import { sleep } from '../../src/backoff.js';
import {
  createConsumer,
  type ConsumerOptions,
  type Disposition,
  type JobContext,
} from '../../src/consumer.js';
import { createLogger } from '../../src/logger.js';
import type { Queue } from '../../src/queue.js';

/**
 * The consumer loop against a fake queue on fake timers: every timing rule (heartbeat, time limit, back-off,
 * drain) is checked to the second, without SQS, a process or waiting.
 */

export const WAIT_SECONDS = 20;

/** A queue whose polls, like SQS long polls, last WaitTimeSeconds when nothing is waiting and return at once otherwise. */
export class FakeQueue implements Queue {
  readonly waiting: Message[] = [];
  /** maxMessages of each receive, with the (fake) time it was made */
  readonly receives: { max: number; at: number }[] = [];
  readonly visibility: { id: string | undefined; seconds: number; at: number }[] = [];
  readonly deleted: (string | undefined)[] = [];
  failingReceives = 0;
  private sent = 0;

  send(count = 1): Message[] {
    const messages = Array.from({ length: count }, () => {
      this.sent += 1;
      return { MessageId: `m${this.sent}`, ReceiptHandle: `r${this.sent}`, Body: '{}' };
    });
    this.waiting.push(...messages);
    return messages;
  }

  async receive(max: number, signal?: AbortSignal) {
    this.receives.push({ max, at: Date.now() });
    if (this.failingReceives > 0) {
      this.failingReceives -= 1;
      throw new Error('SQS unavailable');
    }
    if (this.waiting.length === 0) await sleep(WAIT_SECONDS * 1000, signal);
    return this.waiting.splice(0, max);
  }

  delete(message: Message) {
    this.deleted.push(message.MessageId);
    return Promise.resolve();
  }

  changeVisibility(message: Message, seconds: number) {
    this.visibility.push({ id: message.MessageId, seconds, at: Date.now() });
    return Promise.resolve();
  }

  sendToDlq() {
    return Promise.reject(new Error('not used by the consumer'));
  }

  extensions(id: string) {
    return this.visibility.filter((v) => v.id === id && v.seconds === VISIBILITY).map((v) => v.at);
  }
}

/** Jobs that run until the test settles them or their signal aborts (then they hand back, as job.ts does). */
export class FakeJobs {
  readonly started = new Map<string, JobContext & { settle(d: Disposition): void }>();

  readonly handler = (message: Message, context: JobContext) =>
    new Promise<Disposition>((resolve) => {
      context.signal.addEventListener('abort', () => resolve({ action: 'retry', delaySeconds: 0 }));
      this.started.set(message.MessageId ?? '', { ...context, settle: resolve });
    });

  job(id: string) {
    const job = this.started.get(id);
    if (!job) throw new Error(`job ${id} has not started`);
    return job;
  }
}

export const VISIBILITY = 300;
export const HEARTBEAT = 60;
export const JOB_TIMEOUT = 3600;

export let queue: FakeQueue;
export let jobs: FakeJobs;
export let start: number;
export const seconds = (at: number) => (at - start) / 1000;
export const advance = (s: number) => vi.advanceTimersByTimeAsync(s * 1000);

/** Fresh fakes and fake timers for every test of the file that calls this (the bindings above are live). */
export function useFakes(): void {
  beforeEach(() => {
    vi.useFakeTimers();
    start = Date.now();
    queue = new FakeQueue();
    jobs = new FakeJobs();
  });
  afterEach(() => {
    vi.useRealTimers();
    vi.restoreAllMocks();
  });
}

/** a started consumer on the fakes, with these options over the defaults */
export function consumer(options: Partial<ConsumerOptions> = {}) {
  const created = createConsumer({
    queue,
    handler: jobs.handler,
    logger: createLogger({ level: 'silent', environment: 'test', pretty: false }),
    concurrency: 2,
    waitTimeSeconds: WAIT_SECONDS,
    visibilityTimeoutSeconds: VISIBILITY,
    heartbeatIntervalSeconds: HEARTBEAT,
    jobTimeoutSeconds: JOB_TIMEOUT,
    ...options,
  });
  created.start();
  return created;
}
