import { describe, expect, it, vi } from 'vitest';
import { JobAborted } from '../../src/errors.js';
import { advance, consumer, jobs, queue, seconds, start, useFakes, WAIT_SECONDS } from './consumer-fakes.js';

// Shutting the consumer down: the drain, the hand-back and a second signal (consumer-fakes.ts: the fakes).

useFakes();

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
