import { fileURLToPath } from 'node:url';
import { submitJob } from '../local/backend.js';
import type { LocalStack } from '../local/stack.js';
import { runJsonChild, waitSettled } from './processes.js';
import type { SmallJobCpu } from './small-job-cpu.js';
import { smallCsv } from './small-csv.js';

/**
 * The floor for a small job's CPU: what the worker's own SQS, S3 and PostgreSQL requests for one job cost, with
 * no scoring around them (small-job-floor-child.ts), in a process of its own on the same stack and the same
 * 100-row jobs as small-job-cpu.ts, and the same results size. The worker's CPU per small job is read against it
 * as the 1M-row job's is against floor.ts.
 */

const CHILD = fileURLToPath(new URL('small-job-floor-child.ts', import.meta.url));
const WARM_JOBS = 5;

/** the floor of the jobs `worker` measured: as many, as large, with results as large */
export async function measureSmallJobFloor(stack: LocalStack, worker: SmallJobCpu): Promise<number> {
  const { jobs, rows, resultBytes } = worker;
  const csv = smallCsv(rows);
  const ids: string[] = [];
  for (let i = 0; i < jobs + WARM_JOBS; i++)
    ids.push((await submitJob(stack, { csv, filename: `floor-${i}.csv` })).predictionId);
  const { cpuMsPerJob } = await runJsonChild<{ cpuMsPerJob: number }>('the small-job floor', CHILD, [], {
    ...stack.workerEnv({ SQS_WAIT_TIME_SECONDS: '1' }),
    FLOOR_JOBS: String(jobs),
    FLOOR_ROWS: String(rows),
    WARM_JOBS: String(WARM_JOBS),
    RESULT_BYTES: String(resultBytes),
  });
  await waitSettled(stack, ids, 2, 60_000);
  return cpuMsPerJob;
}
