/**
 * Exponential back-off with "full jitter" (AWS Architecture Blog, "Exponential Backoff and Jitter"): a random delay
 * between 0 and min(cap, base x 2^attempt), so many workers failing together do not retry in lockstep
 * (existing-system-lessons.md #12).
 */
export function fullJitterDelay(
  attempt: number,
  baseMs: number,
  capMs: number,
  random: () => number = Math.random,
) {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

/**
 * How long a message that failed transiently stays invisible before SQS hands it out again: base x 2^(attempt-1),
 * capped, with the upper half jittered so the retries of a burst of failed jobs spread out. At least 1 s after the
 * first attempt, so a retry never races the failure it follows.
 */
export function retryDelaySeconds(
  receiveCount: number,
  baseSeconds: number,
  capSeconds = 900,
  random = Math.random,
) {
  const ceiling = Math.min(capSeconds, baseSeconds * 2 ** Math.max(0, receiveCount - 1));
  return Math.max(1, Math.round(ceiling / 2 + random() * (ceiling / 2)));
}

/** Resolves after `ms`, or at once when `signal` aborts; never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
