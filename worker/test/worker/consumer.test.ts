import { describe, expect, it, vi } from 'vitest';
import { JobAborted } from '../../src/errors.js';
import {
  advance,
  consumer,
  HEARTBEAT,
  JOB_TIMEOUT,
  jobs,
  queue,
  seconds,
  start,
  useFakes,
  WAIT_SECONDS,
} from './consumer-fakes.js';

// The consumer's receive loop and each job's heartbeat, time limit and settling (consumer-fakes.ts: the fakes).

useFakes();

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
