import { HeadObjectCommand } from '@aws-sdk/client-s3';
import os from 'node:os';
import { readPrediction, submitJob } from '../local/backend.js';
import type { LocalStack } from '../local/stack.js';
import { median, waitSettled, type WorkerChild } from './processes.js';
import { smallCsv } from './small-csv.js';

/**
 * What a small job costs the worker: `jobs` 100-row jobs, one at a time, through a worker in its own process,
 * its CPU (the kernel's accounting of that process) over the whole series divided by the jobs. The series is long
 * enough that the clock tick (10 ms) is a few per cent of the total, and it includes the receive polls between
 * jobs, which a real worker pays too.
 */

export interface SmallJobCpu {
  jobs: number;
  rows: number;
  workerCpuMsPerJob: number;
  /** submitted -> settled, as seen by polling the row every 2 ms */
  latencyMsP50: number;
  /** the size of one job's results object */
  resultBytes: number;
  loadAverage: number[];
}

export async function measureSmallJobCpu(
  stack: LocalStack,
  worker: WorkerChild,
  jobs: number,
): Promise<SmallJobCpu> {
  const rows = 100;
  const csv = smallCsv(rows);
  // the first jobs warm the path up (JIT, connections), as any long-lived worker is warm
  for (let i = 0; i < 5; i++)
    await waitSettled(stack, [(await submitJob(stack, { csv, filename: `warm-${i}.csv` })).predictionId], 2);
  const latencies: number[] = [];
  const before = worker.cpuSeconds();
  let predictionId = '';
  for (let i = 0; i < jobs; i++) {
    const started = performance.now();
    ({ predictionId } = await submitJob(stack, { csv, filename: `small-${i}.csv` }));
    await waitSettled(stack, [predictionId], 2);
    latencies.push(performance.now() - started);
  }
  const cpuSeconds = worker.cpuSeconds() - before;
  const output = (await readPrediction(stack, predictionId))?.s3_output_key ?? '';
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.bucket, Key: output }));
  return {
    jobs,
    rows,
    workerCpuMsPerJob: (cpuSeconds / jobs) * 1000,
    latencyMsP50: median(latencies),
    resultBytes: head.ContentLength ?? 0,
    loadAverage: os.loadavg(),
  };
}
