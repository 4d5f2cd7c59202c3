// `main.js --self-check`: what the deploy workflow's smoke task runs with the task definition it just registered
// (.github/scripts/verify-deploy.sh). It must prove the task can work — its configuration, model, database grants,
// queues and scratch space — and exit, without ever taking a job.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { expect, it } from 'vitest';
import { FAST, spawnWorker, telcoCsv, useStack, type WorkerProcess } from '../support/harness.js';

const context = useStack();

/** The exit code, or 'still running' (and the process is killed) after `ms`: a self-check must end by itself. */
async function exitCode(check: WorkerProcess, ms = 30_000): Promise<number | null | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  try {
    return await Promise.race([check.exited, timeout]);
  } finally {
    clearTimeout(timer);
    check.child.kill('SIGKILL');
  }
}

const env = (overrides: Record<string, string> = {}) =>
  context.stack.workerEnv({
    ...FAST,
    LOG_LEVEL: 'info',
    HEALTH_FILE: path.join(mkdtempSync(path.join(tmpdir(), 'self-check-')), 'worker.alive'),
    ...overrides,
  });

it('checks model, database, both queues and scratch space, exits 0 and leaves queued jobs alone', async () => {
  const job = await context.submitJob({ csv: telcoCsv(5) });
  const check = spawnWorker(env(), ['--self-check']);
  expect(await exitCode(check), check.output()).toBe(0);
  for (const part of ['model', 'database', 'queue', 'dead-letter queue', 'scratch space']) {
    expect(check.output()).toContain(`ok: ${part}`);
  }
  expect((await context.readPrediction(job.predictionId))?.status).toBe('QUEUED');
});

it('exits 1 naming what failed, in one line each, when the database cannot be reached', async () => {
  const check = spawnWorker(env({ DATABASE_URL: 'postgresql://nobody:wrong@127.0.0.1:1/none' }), [
    '--self-check',
  ]);
  expect(await exitCode(check), check.output()).toBe(1);
  expect(check.output()).toMatch(/^failed: database: .+$/m);
  expect(check.output()).toContain('ok: model');
  expect(check.output()).not.toMatch(/\n\s+at /);
});
