import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DEMO_USER_ID, submitJob } from '../local/backend.js';
import { startLocalStack } from '../local/stack.js';
import { spawnWorkerChild, statuses, waitSettled } from './processes.js';
import { smallCsv } from './small-csv.js';

/**
 * A burst of small jobs queued at once and drained by two worker processes, as two Fargate tasks would: every
 * job must end COMPLETED, with exactly one results object each and exactly one `job completed` across both
 * workers (a duplicate would mean a job was scored twice).
 */

export interface DrainResult {
  jobs: number;
  workers: number;
  concurrencyPerWorker: number;
  /** first worker ready -> every job settled */
  seconds: number;
  jobsPerSecond: number;
  completed: number;
  outputs: number;
  duplicateCompletions: number;
}

const WORKERS = 2;
const CONCURRENCY = 4;

export async function runDrainBenchmark(jobs: number): Promise<DrainResult> {
  const stack = await startLocalStack();
  try {
    const ids: string[] = [];
    const next = { i: 0 };
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let i = next.i++; i < jobs; i = next.i++) {
          const job = await submitJob(stack, { csv: smallCsv(10, i * 10), filename: `drain-${i}.csv` });
          ids.push(job.predictionId);
        }
      }),
    );
    const workers = Array.from({ length: WORKERS }, () =>
      spawnWorkerChild(stack, {
        WORKER_CONCURRENCY: String(CONCURRENCY),
        DATABASE_POOL_SIZE: String(CONCURRENCY),
      }),
    );
    try {
      await Promise.race(workers.map((w) => w.ready));
      const t = performance.now();
      await waitSettled(stack, ids, 20);
      const seconds = (performance.now() - t) / 1000;
      const completed = [...(await statuses(stack, ids)).values()].filter((s) => s === 'COMPLETED').length;
      const outputs = await countKeys(stack, `predictions/${DEMO_USER_ID}/`);
      const completions = workers
        .flatMap((w) => w.logs())
        .filter((line) => line.msg === 'job completed')
        .map((line) => String(line.prediction_id));
      return {
        jobs,
        workers: WORKERS,
        concurrencyPerWorker: CONCURRENCY,
        seconds,
        jobsPerSecond: jobs / seconds,
        completed,
        outputs,
        duplicateCompletions: completions.length - new Set(completions).size,
      };
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
  } finally {
    await stack.stop();
  }
}

async function countKeys(
  stack: Awaited<ReturnType<typeof startLocalStack>>,
  prefix: string,
): Promise<number> {
  let count = 0;
  let token: string | undefined;
  do {
    const page = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    count += page.KeyCount ?? 0;
    token = page.NextContinuationToken;
  } while (token);
  return count;
}
