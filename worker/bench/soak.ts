import type { SubmittedJob } from '../local/backend.js';
import { startLocalStack } from '../local/stack.js';
import { updateResults } from './results-file.js';
import { buildWorker, spawnWorkerChild, waitSettled, type WorkerChild } from './processes.js';
import { check, type SoakResult } from './soak-check.js';
import { kindOf, submit, type Kind } from './soak-jobs.js';

/**
 * `npm run bench -- --soak`: two worker processes take a steady stream of mixed jobs while one of them is killed
 * (SIGKILL) and restarted every few seconds and PostgreSQL restarts once in the middle. It then checks what must
 * hold whatever crashed: no row is left QUEUED or RUNNING, each kind of job ends as it should, no job was
 * completed twice or has more than its one results object, the main queue is empty and the DLQ holds exactly the
 * messages that belong there. It fails (exit 1) with every broken invariant listed, and otherwise reports jobs/s
 * and the worst queue wait. Figures go to results.json under `soak`.
 *
 *   BENCH_SOAK_JOBS (1000)  BENCH_SOAK_RATE (25 jobs/s submitted)  BENCH_SOAK_KILL_SECONDS (10)
 */

// Short enough that a killed worker's jobs come back in seconds; the attempts and their back-off (2, 4, 8, 16 s
// at most) outlast the database restart, so neither the kills nor the restart should use up a job's receives.
const STACK = { visibilityTimeoutSeconds: 5, maxReceiveCount: 5 };
const WORKER_ENV = {
  WORKER_CONCURRENCY: '4',
  DATABASE_POOL_SIZE: '4',
  HEARTBEAT_INTERVAL_SECONDS: '1',
  RETRY_BASE_DELAY_SECONDS: '2',
  REQUEST_TIMEOUT_SECONDS: '5',
  JOB_TIMEOUT_SECONDS: '60',
  SHUTDOWN_TIMEOUT_SECONDS: '5',
};
const POSTGRES_DOWN_MS = 3000;
const MAX_SUBMITTING = 8;

export interface SoakOptions {
  jobs: number;
  submitPerSecond: number;
  killEverySeconds: number;
}

/** A gate submissions wait at while PostgreSQL restarts, so no upload half-happens against a stopped database. */
function gate() {
  let opened: Promise<void> = Promise.resolve();
  let release: () => void = () => undefined;
  return {
    wait: () => opened,
    close() {
      opened = new Promise((resolve) => (release = resolve));
    },
    open: () => release(),
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const stack = await startLocalStack(STACK);
  const children: WorkerChild[] = [];
  const killed = new Set<WorkerChild>();
  // A worker that exits by itself (not our SIGKILL) ends the soak at once, with what it said last.
  let onCrash: (error: Error) => void = () => undefined;
  const crashed = new Promise<never>((_resolve, reject) => (onCrash = reject));
  crashed.catch(() => undefined);
  const spawn = () => {
    const child = spawnWorkerChild(stack, WORKER_ENV);
    let stderr = '';
    child.child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    child.child.once('exit', (code, signal) => {
      if (killed.has(child)) return;
      const last = child
        .logs()
        .slice(-5)
        .map((line) => JSON.stringify(line))
        .join('\n');
      onCrash(new Error(`a worker exited by itself (${signal ?? code}):\n${last}\n${stderr}`));
    });
    children.push(child);
    return child;
  };
  try {
    const workers = [spawn(), spawn()];
    await Promise.all(workers.map((w) => w.ready));
    const started = performance.now();
    const elapsedS = () => (performance.now() - started) / 1000;

    const jobs = new Map<string, { kind: Kind; job: SubmittedJob }>();
    const submissions = gate();
    const submitFailures: string[] = [];
    let inFlightSubmissions = 0;
    let soaking = true;
    const submitter = (async () => {
      for (let i = 0; i < options.jobs; i++) {
        await submissions.wait();
        // paced from the start, so a pause (the restart) is followed by a catch-up burst, as a backlog would be
        const due = started + (i * 1000) / options.submitPerSecond;
        await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - performance.now())));
        await submissions.wait();
        // as a backend's few request handlers would: a machine that cannot keep up falls behind the pace
        while (inFlightSubmissions >= MAX_SUBMITTING) await new Promise((resolve) => setTimeout(resolve, 5));
        inFlightSubmissions += 1;
        const kind = kindOf(i);
        void submit(stack, kind, i)
          .then(
            (job) => void jobs.set(job.predictionId, { kind, job }),
            (error: unknown) => void submitFailures.push(`${kind} job ${i}: ${String(error)}`),
          )
          .finally(() => (inFlightSubmissions -= 1));
      }
      while (inFlightSubmissions > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    })();

    let kills = 0;
    const killer = (async () => {
      while (soaking) {
        await new Promise((resolve) => setTimeout(resolve, options.killEverySeconds * 1000));
        const victim = workers[0];
        if (!victim || !soaking) break;
        killed.add(victim);
        victim.child.kill('SIGKILL');
        await new Promise((resolve) => victim.child.once('exit', resolve));
        kills += 1;
        workers[0] = spawn();
        await workers[0].ready;
      }
    })();
    killer.catch(() => undefined); // observed here, rethrown where it is awaited

    const restartAfterMs = ((options.jobs / options.submitPerSecond) * 1000) / 2;
    await new Promise((resolve) => setTimeout(resolve, restartAfterMs));
    submissions.close();
    while (inFlightSubmissions > 0) await new Promise((resolve) => setTimeout(resolve, 10));
    const restartAt = elapsedS();
    await stack.stopPostgres();
    await new Promise((resolve) => setTimeout(resolve, POSTGRES_DOWN_MS));
    await stack.startPostgres();
    submissions.open();

    await submitter;
    // the kills go on until every row has settled, so the backlog's last jobs are interrupted too
    await Promise.race([waitSettled(stack, [...jobs.keys()], 100, 600_000), crashed]).finally(
      () => (soaking = false),
    );
    await killer;
    const queueLeft = () => {
      const queue = stack.fauxqs.inspectQueue(stack.queueName);
      return (
        (queue?.messages.ready.length ?? 0) +
        (queue?.messages.inflight.length ?? 0) +
        (queue?.messages.delayed.length ?? 0)
      );
    };
    // Messages of jobs failed on their last attempt are moved to the DLQ by the next receive after they
    // reappear; duplicates and late copies are deleted once received.
    const drainDeadline = Date.now() + 120_000;
    while (queueLeft() > 0 && Date.now() < drainDeadline) {
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = elapsedS();

    return await check(stack, jobs, children, {
      kills,
      restartAt,
      seconds,
      mainQueueLeft: queueLeft(),
      submitFailures,
      options,
    });
  } finally {
    const running = children.filter((c) => c.child.exitCode === null && c.child.signalCode === null);
    for (const child of running) killed.add(child);
    await Promise.all(running.map((c) => c.stop()));
    await stack.stop();
  }
}

/** The --soak entry point of run.ts: runs, prints, and records the figures under `soak` in `resultsFile`. */
export async function runSoakBench(resultsFile: string): Promise<void> {
  const options: SoakOptions = {
    jobs: Number(process.env.BENCH_SOAK_JOBS ?? 1000),
    submitPerSecond: Number(process.env.BENCH_SOAK_RATE ?? 25),
    killEverySeconds: Number(process.env.BENCH_SOAK_KILL_SECONDS ?? 10),
  };
  process.stdout.write('building the worker as the image does...\n');
  buildWorker();
  process.stdout.write(
    `soak: ${options.jobs} jobs at ${options.submitPerSecond}/s, a worker killed every ${options.killEverySeconds} s, one PostgreSQL restart...\n`,
  );
  const soak = await runSoak(options);
  await updateResults(resultsFile, { soak: { generatedAt: new Date().toISOString(), ...soak } });
  process.stdout.write(
    `${soak.jobs} jobs (${soak.messages} messages) in ${soak.seconds.toFixed(1)} s: ${soak.jobs_per_s.toFixed(1)} jobs/s; ` +
      `${soak.kills} kills, PostgreSQL restarted at ${soak.postgres_restart_at_s.toFixed(1)} s\n` +
      `queue wait p50 ${soak.queue_wait_s.p50.toFixed(2)} s, p99 ${soak.queue_wait_s.p99.toFixed(2)} s, worst ${soak.queue_wait_s.max.toFixed(2)} s\n` +
      `${soak.completed} COMPLETED, ${soak.failed} FAILED (${soak.exhausted} after every attempt); ` +
      `DLQ ${soak.dlq.messages} messages as expected (${soak.dlq.copies} copies)\n` +
      `wrote ${resultsFile}\n`,
  );
}
