import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { checkLiveness } from '../../src/health.js';
import { DEMO_USER_ID, FAST, spawnWorker, telcoCsv, useStack, waitFor } from '../support/harness.js';

/**
 * The worker as a process: killed mid-job, stopped with SIGTERM, misconfigured, and its health check. Child
 * workers run src/main.ts exactly as the container does.
 */

const context = useStack({ visibilityTimeoutSeconds: 3 });
// Big enough that a job is certainly still running a few seconds after it was claimed (~3 s of scoring on an
// idle machine); the local backend uploads it in parts, as the emulator takes at most 11 MiB per request.
const LARGE_ROWS = 100_000;
const LARGE = telcoCsv(LARGE_ROWS);

const isRunning = (id: string) => async () =>
  (await context.readPrediction(id))?.status === 'RUNNING' ? true : undefined;

function childEnv(overrides: Record<string, string> = {}) {
  return context.stack.workerEnv({
    ...FAST,
    LOG_LEVEL: 'info',
    HEARTBEAT_INTERVAL_SECONDS: '1',
    ...overrides,
  });
}

it('a job whose worker is killed (SIGKILL) mid-job is completed by another, once', async () => {
  const job = await context.submitJob({ csv: LARGE });
  const doomed = spawnWorker(childEnv());
  await waitFor(isRunning(job.predictionId));
  doomed.child.kill('SIGKILL');
  await doomed.exited;
  expect((await context.readPrediction(job.predictionId))?.status).toBe('RUNNING');

  // The message reappears after its visibility timeout (3 s) and the redelivery reclaims the RUNNING row.
  const survivor = await context.startTestWorker();
  try {
    const row = await context.waitForPrediction(job.predictionId);
    expect(row).toMatchObject({ status: 'COMPLETED', rows_processed: LARGE_ROWS });
    expect(await context.listKeys(`predictions/${DEMO_USER_ID}/${job.predictionId}`)).toHaveLength(1);
    await context.stack.fauxqs.spy.waitForMessageWithId(job.messageId, 'consumed', 10_000);
  } finally {
    await survivor.stop();
  }
});

it('runs a job without a warning from its dependencies, writing nothing under its home folder', async () => {
  const home = mkdtempSync(join(tmpdir(), 'retainwise-home-'));
  const worker = spawnWorker({ ...childEnv({ LOG_LEVEL: 'warn' }), HOME: home });
  try {
    const job = await context.submitJob({ csv: telcoCsv(10) });
    expect((await context.waitForPrediction(job.predictionId)).status).toBe('COMPLETED');
  } finally {
    worker.child.kill('SIGTERM');
  }
  expect(await worker.exited).toBe(0);
  expect(worker.output()).toBe('');
  expect(readdirSync(home)).toEqual([]);
});

describe('SIGTERM', () => {
  it('stops receiving, finishes the running job and exits 0', async () => {
    const job = await context.submitJob({ csv: LARGE });
    const worker = spawnWorker(childEnv());
    await waitFor(isRunning(job.predictionId));
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(await context.readPrediction(job.predictionId)).toMatchObject({ status: 'COMPLETED' });
    const output = worker.output();
    // the job was still running when the signal came, and finished after it
    expect(output).toContain('"in_flight":1');
    expect(output.indexOf('"msg":"worker stopping"')).toBeLessThan(output.indexOf('"msg":"job completed"'));
    expect(output).toContain('"msg":"worker stopped"');
    expect(output).toContain('"handed_back":0');
  });

  it('hands an unfinished job straight back (visibility 0) when the drain time is up', async () => {
    // Large enough to outlast the worker's last long poll (1 s here), after which unfinished jobs are handed
    // back, even on an idle machine.
    const job = await context.submitJob({ csv: LARGE });
    const worker = spawnWorker(childEnv({ SHUTDOWN_TIMEOUT_SECONDS: '0' }));
    await waitFor(isRunning(job.predictionId));
    worker.child.kill('SIGTERM');
    expect(await worker.exited).toBe(0);
    expect(worker.output()).toContain('"handed_back":1');
    // visible again at once, long before the 3 s visibility timeout would have run out
    const queued = context.stack.fauxqs.inspectQueue(context.stack.queueName);
    const visibleAgain = [
      ...(queued?.messages.ready ?? []),
      ...(queued?.messages.inflight.filter((m) => m.visibilityDeadline <= Date.now()).map((m) => m.message) ??
        []),
    ];
    expect(visibleAgain.map((m) => m.messageId)).toContain(job.messageId);
    expect((await context.readPrediction(job.predictionId))?.status).toBe('RUNNING');

    const next = await context.startTestWorker();
    try {
      expect(await context.waitForPrediction(job.predictionId)).toMatchObject({ status: 'COMPLETED' });
    } finally {
      await next.stop();
    }
  });
});

describe('a second SIGTERM or SIGINT', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'after SIGTERM, %s ends the drain at once but still hands the job back and exits 0',
    async (second) => {
      const job = await context.submitJob({ csv: LARGE });
      // a drain far longer than the test: only the second signal can end it
      const worker = spawnWorker(childEnv({ SHUTDOWN_TIMEOUT_SECONDS: '600' }));
      await waitFor(isRunning(job.predictionId));
      worker.child.kill('SIGTERM');
      await waitFor(() => (worker.output().includes('"msg":"worker stopping"') ? true : undefined), 10_000);
      worker.child.kill(second);
      expect(await worker.exited).toBe(0);
      expect(worker.output()).toContain('"handed_back":1');
      expect((await context.readPrediction(job.predictionId))?.status).toBe('RUNNING');
      const next = await context.startTestWorker();
      try {
        expect(await context.waitForPrediction(job.predictionId)).toMatchObject({
          status: 'COMPLETED',
        });
      } finally {
        await next.stop();
      }
    },
  );
});

describe('start-up', () => {
  it('refuses to start on a bad environment, listing every problem, exit 78', async () => {
    const worker = spawnWorker({ WORKER_CONCURRENCY: 'many', DATABASE_URL: 'mysql://u:secret@h/d' });
    expect(await worker.exited).toBe(78);
    const output = worker.output();
    expect(output).toContain('Invalid worker configuration:');
    for (const name of [
      'PREDICTIONS_QUEUE_URL',
      'PREDICTIONS_DLQ_URL',
      'S3_BUCKET',
      'DATABASE_URL',
      'WORKER_CONCURRENCY',
    ]) {
      expect(output).toContain(`  - ${name}: `);
    }
    expect(output).not.toContain('secret');
  });

  it('logs "worker ready" and keeps its liveness file fresh', async () => {
    const healthFile = join(mkdtempSync(join(tmpdir(), 'retainwise-health-')), 'alive');
    const worker = spawnWorker(childEnv({ HEALTH_FILE: healthFile }));
    try {
      await waitFor(() => (worker.output().includes('"msg":"worker ready"') ? true : undefined), 20_000);
      const ready = JSON.parse(
        worker
          .output()
          .split('\n')
          .find((l) => l.includes('"worker ready"')) ?? '{}',
      ) as {
        ready_ms?: number;
      };
      expect(ready.ready_ms).toBeTypeOf('number');
      await waitFor(() => (checkLiveness(healthFile).healthy ? true : undefined), 5000);
      expect(runHealthcheck(healthFile).status).toBe(0);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.exited;
    }
  });
});

const HEALTHCHECK = fileURLToPath(new URL('../../src/healthcheck.ts', import.meta.url));
function runHealthcheck(file: string) {
  return spawnSync(process.execPath, ['--import', 'tsx', HEALTHCHECK], {
    env: { PATH: process.env.PATH ?? '', HEALTH_FILE: file },
    encoding: 'utf8',
  });
}

describe('health check contract', () => {
  it('fails without a liveness file, with a stale one, or a garbled one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'retainwise-health-'));
    const file = join(dir, 'alive');
    const missing = runHealthcheck(file);
    expect(missing.status).toBe(1);
    expect(missing.stderr).toContain('no liveness file');

    writeFileSync(file, String(Date.now() - 1000));
    expect(runHealthcheck(file).status).toBe(1);
    writeFileSync(file, 'not a number');
    expect(checkLiveness(file)).toEqual({ healthy: false, reason: `liveness file ${file} is unreadable` });
    writeFileSync(file, String(Date.now() + 60_000));
    expect(checkLiveness(file).healthy).toBe(true);
    expect(checkLiveness(file, Date.now() + 61_000).healthy).toBe(false);
  });
});
