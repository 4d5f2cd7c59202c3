import type { Message } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { sleep } from '../../src/backoff.js';
import {
  createConsumer,
  type ConsumerOptions,
  type Disposition,
  type JobContext,
} from '../../src/consumer.js';
import { JobAborted } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import type { Queue } from '../../src/queue.js';

/**
 * The consumer loop against a fake queue on fake timers: every timing rule (heartbeat, time limit, back-off,
 * drain) is checked to the second, without SQS, a process or waiting.
 */

const WAIT_SECONDS = 20;

/** A queue whose polls, like SQS long polls, last WaitTimeSeconds when nothing is waiting and return at once otherwise. */
class FakeQueue implements Queue {
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
class FakeJobs {
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

const VISIBILITY = 300;
const HEARTBEAT = 60;
const JOB_TIMEOUT = 3600;

let queue: FakeQueue;
let jobs: FakeJobs;
let start: number;
const seconds = (at: number) => (at - start) / 1000;
const advance = (s: number) => vi.advanceTimersByTimeAsync(s * 1000);

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

function consumer(options: Partial<ConsumerOptions> = {}) {
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

describe('receiving', () => {
  it('asks for as many messages as there are free slots, and polls not at all while every slot is busy', async () => {
    queue.send(1);
    const running = consumer({ concurrency: 3 });
    await advance(0);
    queue.send(2);
    await advance(WAIT_SECONDS);
    expect(queue.receives.map((r) => r.max)).toEqual([3, 2]);
    expect(running.inFlight).toBe(3);

    await advance(600);
    expect(queue.receives).toHaveLength(2);

    jobs.job('m2').settle({ action: 'delete' });
    await advance(0);
    expect(queue.receives.map((r) => r.max)).toEqual([3, 2, 1]);
  });

  it('backs off exponentially with full jitter after failed receives, and starts over after a success', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    queue.failingReceives = 3;
    consumer({ receiveBackoff: { baseMs: 1000, capMs: 60_000 } });
    await advance(10);
    // half of 2, 4 and 8 s; then a successful (empty) 20 s poll
    expect(queue.receives.map((r) => seconds(r.at))).toEqual([0, 1, 3, 7]);

    queue.failingReceives = 1;
    await advance(WAIT_SECONDS + 5);
    expect(queue.receives.map((r) => seconds(r.at))).toEqual([0, 1, 3, 7, 27, 28]);
  });

  it('never waits longer than the cap between failed receives', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.999);
    queue.failingReceives = 20;
    consumer({ receiveBackoff: { baseMs: 1000, capMs: 5000 } });
    await advance(60);
    const at = queue.receives.map((r) => r.at);
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? t));
    expect(Math.max(...gaps)).toBe(4995);
  });
});

describe('a running job', () => {
  it('is kept invisible with a heartbeat every interval, which stops when the job ends', async () => {
    const [message] = queue.send(1);
    consumer();
    await advance(HEARTBEAT * 3 + 1);
    expect(queue.extensions('m1').map(seconds)).toEqual([60, 120, 180]);

    jobs.job('m1').settle({ action: 'delete' });
    await advance(HEARTBEAT * 3);
    expect(queue.extensions('m1')).toHaveLength(3);
    expect(queue.deleted).toEqual([message?.MessageId]);
  });

  it('is aborted at its time limit with a timeout reason, which also ends its heartbeat', async () => {
    queue.send(1);
    consumer();
    await advance(JOB_TIMEOUT - 1);
    const { signal } = jobs.job('m1');
    expect(signal.aborted).toBe(false);

    await advance(1);
    expect(signal.reason).toEqual(new JobAborted('timeout'));
    await advance(HEARTBEAT * 2);
    expect(queue.extensions('m1')).toHaveLength(JOB_TIMEOUT / HEARTBEAT - 1);
  });

  it('is settled as its handler decided: deleted, or visible again after the retry delay', async () => {
    queue.send(2);
    consumer();
    await advance(0);
    jobs.job('m1').settle({ action: 'delete' });
    jobs.job('m2').settle({ action: 'retry', delaySeconds: 45 });
    await advance(0);
    expect(queue.deleted).toEqual(['m1']);
    expect(queue.visibility).toEqual([{ id: 'm2', seconds: 45, at: start }]);
  });

  it('is told its receive count', async () => {
    queue.waiting.push({
      MessageId: 'again',
      ReceiptHandle: 'r',
      Attributes: { ApproximateReceiveCount: '3' },
    });
    consumer();
    await advance(0);
    expect(jobs.job('again').receiveCount).toBe(3);
  });

  it('marks the worker busy from the first job started to the last one finished', async () => {
    const busy: boolean[] = [];
    queue.send(2);
    consumer({ onBusyChange: (b) => busy.push(b) });
    await advance(0);
    jobs.job('m1').settle({ action: 'delete' });
    await advance(0);
    expect(busy.at(-1)).toBe(true);
    jobs.job('m2').settle({ action: 'delete' });
    await advance(0);
    expect(busy.at(-1)).toBe(false);
  });
});

describe('stop()', () => {
  it('lets a job that finishes within the drain time finish, handing nothing back', async () => {
    queue.send(1);
    const running = consumer();
    await advance(1);
    const stopped = running.stop(30_000);
    await advance(10);
    jobs.job('m1').settle({ action: 'delete' });
    await advance(WAIT_SECONDS);

    await expect(stopped).resolves.toEqual({ handedBack: 0 });
    expect(queue.deleted).toEqual(['m1']);
    expect(jobs.job('m1').signal.aborted).toBe(false);
  });

  it('hands an unfinished job back (visibility 0) once the drain time is up, but only after the last poll ended', async () => {
    queue.send(1);
    const running = consumer();
    await advance(1); // the job runs, and a poll for the free slot is open until second 21
    let result: { handedBack: number } | undefined;
    void running.stop(5000).then((r) => (result = r));

    await advance(15);
    expect(queue.visibility.filter((v) => v.seconds === 0)).toEqual([]);
    expect(jobs.job('m1').signal.aborted).toBe(false);

    await advance(WAIT_SECONDS);
    expect(queue.visibility.filter((v) => v.seconds === 0)).toEqual([
      { id: 'm1', seconds: 0, at: start + 20_000 },
    ]);
    expect(jobs.job('m1').signal.reason).toEqual(new JobAborted('shutdown'));
    expect(result).toEqual({ handedBack: 1 });
    expect(queue.receives).toHaveLength(2);
  });

  it('gives messages its last poll brings straight back instead of starting them', async () => {
    const running = consumer();
    await advance(1);
    const stopped = running.stop(5000);
    queue.send(1);
    await advance(WAIT_SECONDS);

    await expect(stopped).resolves.toEqual({ handedBack: 0 });
    expect(queue.visibility).toEqual([{ id: 'm1', seconds: 0, at: start + 20_000 }]);
    expect(jobs.started.size).toBe(0);
  });

  it('abandons a poll still open well after its wait time (a stalled connection)', async () => {
    const stalled = vi
      .spyOn(queue, 'receive')
      .mockImplementation(
        (_, signal) =>
          new Promise((_resolve, reject) =>
            signal?.addEventListener('abort', () => reject(new Error('aborted'))),
          ),
      );
    const running = consumer();
    await advance(1);
    let stoppedAt: number | undefined;
    void running.stop(0).then(() => (stoppedAt = Date.now()));
    await advance(WAIT_SECONDS + 5);
    expect(stalled).toHaveBeenCalledTimes(1);
    expect(seconds(stoppedAt ?? Number.NaN)).toBe(1 + WAIT_SECONDS + 2);
  });
});

describe('hurry() (a second signal)', () => {
  it('ends the drain at once: the job is handed back when the last poll ends, not when the drain time is up', async () => {
    queue.send(1);
    const running = consumer();
    await advance(1);
    let result: { handedBack: number } | undefined;
    void running.stop(600_000).then((r) => (result = r));
    await advance(4);
    running.hurry();
    await advance(WAIT_SECONDS);

    expect(result).toEqual({ handedBack: 1 });
    expect(queue.visibility).toEqual([{ id: 'm1', seconds: 0, at: start + 20_000 }]);
    expect(jobs.job('m1').signal.reason).toEqual(new JobAborted('shutdown'));
  });
});
