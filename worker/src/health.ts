import { readFileSync, renameSync, writeFileSync } from 'node:fs';

/**
 * Liveness for the container health check. The consumer loop, on every turn, writes into a file the time until
 * which it vouches for itself (a turn is at most one long poll plus a margin). A wedged loop or a blocked event
 * loop stops writing; the check (`node dist/src/healthcheck.js`) then fails and ECS replaces the task. Busy is not
 * unhealthy: the loop keeps turning while all job slots are in use.
 */
export const DEFAULT_HEALTH_FILE = '/tmp/retainwise-worker.alive';

export interface Liveness {
  /** records that the loop is alive and will turn again within `withinMs` */
  alive(withinMs: number): void;
}

export function createLiveness(file: string, now: () => number = Date.now): Liveness {
  let written = 0;
  return {
    alive(withinMs) {
      const deadline = now() + withinMs;
      // Rewrite only when the recorded deadline is half used up: at hundreds of jobs a second this is a few writes.
      if (deadline - written < withinMs / 2) return;
      const temporary = `${file}.${process.pid}.tmp`;
      writeFileSync(temporary, String(deadline));
      renameSync(temporary, file);
      written = deadline;
    },
  };
}

/** Healthy while the recorded deadline has not passed; a missing or garbled file is unhealthy. */
export function checkLiveness(file: string, now: number = Date.now()): { healthy: boolean; reason: string } {
  let content: string;
  try {
    content = readFileSync(file, 'utf8');
  } catch {
    return { healthy: false, reason: `no liveness file at ${file} (worker not started)` };
  }
  const deadline = Number(content.trim());
  if (!Number.isFinite(deadline)) return { healthy: false, reason: `liveness file ${file} is unreadable` };
  if (now > deadline) {
    return {
      healthy: false,
      reason: `worker loop silent for ${Math.round((now - deadline) / 1000)} s past its deadline`,
    };
  }
  return { healthy: true, reason: 'ok' };
}
