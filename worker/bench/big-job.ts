import { CopyObjectCommand, DeleteObjectCommand, HeadObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import {
  DEMO_USER_ID,
  readPrediction,
  sanitiseFilename,
  submitJob,
  uploadStamp,
  type SubmittedJob,
} from '../local/backend.js';
import { startLocalStack, type LocalStack } from '../local/stack.js';
import { chunksOf, csvParseRecords } from './parsers.js';
import { median, spawnWorkerChild, waitSettled } from './processes.js';
import { measureSmallJobCpu, type SmallJobCpu } from './small-job-cpu.js';
import { measureSmallJobFloor } from './small-job-floor.js';

/**
 * The big-file case through the whole job path on the local stack: S3 stream -> map -> score -> explain ->
 * multipart upload -> COMPLETED, with the worker in a child process (its peak RSS is the kernel's VmHWM) and the
 * emulator and PostgreSQL here. Each run is paired with a csv-parse parse of the same bytes in this process, the
 * fixed reference, so the ratio compares like with like on a machine whose load changes minute to minute.
 */

export interface BigJobResult {
  rows: number;
  inputBytes: number;
  outputBytes: number;
  runs: number;
  /** the job's own duration_ms (message received -> results uploaded), per run */
  jobMs: number[];
  parseMs: number[];
  rowsPerSecond: number;
  parseOnlyRowsPerSecond: number;
  e2eOverParse: number;
  /** the worker's peak RSS during a big job: the highest of the runs */
  peakRssMb: number;
  /** each run's own peak (the kernel's high-water mark started over before it) */
  peakRssMbRuns: number[];
  /** the worker's peak RSS once ready, before any job (runtime, SDK clients, model) */
  idleRssMb: number;
  workerReadyMs: number;
  /**
   * CPU time per row during the jobs, in microseconds: the worker process (median of the runs, then each run),
   * and this process, which is almost all the emulator receiving the results (PostgreSQL runs in processes of
   * its own).
   */
  workerCpuUsPerRow: number;
  workerCpuUsPerRowRuns: number[];
  emulatorCpuUsPerRow: number;
  /** the load average at the end of each run */
  loadAverage: number[][];
  /** the same worker process on 100-row jobs, before the big ones */
  smallJobs: SmallJobCpu;
  /** CPU per 100-row job of the requests alone, without the worker around them (small-job-floor.ts) */
  smallJobFloorMs: number;
}

const STAGED = 'bench/big-input.csv';

/**
 * Submits the staged input as the backend would. The file is uploaded once (stageInput) rather than per run, and
 * copied, server-side, to the key the backend derives from the current second; starting just after a second
 * begins leaves the whole second for the copy and the submit. On a loaded machine they can take longer: the job
 * then names a key that was never written, fails at once (NoSuchKey), and the submit is tried again.
 */
async function submitStaged(stack: LocalStack, bytes: Buffer, filename: string): Promise<SubmittedJob> {
  for (let attempt = 1; ; attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 1010 - (Date.now() % 1000)));
    const key = `uploads/${DEMO_USER_ID}/${uploadStamp(new Date())}-${sanitiseFilename(filename)}`;
    await stack.s3.send(
      new CopyObjectCommand({ Bucket: stack.bucket, Key: key, CopySource: `${stack.bucket}/${STAGED}` }),
    );
    const job = await submitJob(stack, { csv: bytes, filename, skipUpload: true });
    if (job.key === key) return job;
    await waitSettled(stack, [job.predictionId], 50);
    await stack.s3.send(new DeleteObjectCommand({ Bucket: stack.bucket, Key: key }));
    if (attempt === 5) throw new Error(`the input was staged at ${key} but submitted as ${job.key}`);
  }
}

async function stageInput(stack: LocalStack, bytes: Buffer): Promise<void> {
  await new Upload({ client: stack.s3, params: { Bucket: stack.bucket, Key: STAGED, Body: bytes } }).done();
}

export async function runBigJobBenchmark(
  file: string,
  runs: number,
  smallJobs: number,
): Promise<BigJobResult> {
  const bytes = await readFile(file);
  const chunks = chunksOf(bytes);
  const stack = await startLocalStack();
  await stageInput(stack, bytes);
  const worker = spawnWorkerChild(stack, { WORKER_CONCURRENCY: '1' });
  try {
    const workerReadyMs = await worker.ready;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const idleRssMb = worker.peakRssMb();
    const small = await measureSmallJobCpu(stack, worker, smallJobs);
    const loadAverage: number[][] = [];
    const jobMs: number[] = [];
    const parseMs: number[] = [];
    let rows = 0;
    let outputBytes = 0;
    const workerCpu: number[] = [];
    const peakRssMbRuns: number[] = [];
    let emulatorCpu = 0;
    for (let run = 0; run < runs; run++) {
      const t = performance.now();
      rows = csvParseRecords(chunks);
      parseMs.push(performance.now() - t);

      worker.resetPeakRss();
      const job = await submitStaged(stack, bytes, `big-${run}.csv`);
      const cpuBefore = { worker: worker.cpuSeconds(), here: process.cpuUsage() };
      await waitSettled(stack, [job.predictionId], 200);
      workerCpu.push(worker.cpuSeconds() - cpuBefore.worker);
      peakRssMbRuns.push(worker.peakRssMb());
      const here = process.cpuUsage(cpuBefore.here);
      emulatorCpu += (here.user + here.system) / 1e6;
      loadAverage.push(os.loadavg());
      const row = await readPrediction(stack, job.predictionId);
      if (row?.status !== 'COMPLETED')
        throw new Error(`the big job ended ${row?.status}: ${row?.error_message}`);
      if (row.rows_processed !== rows)
        throw new Error(`the big job scored ${row.rows_processed} of ${rows} rows`);
      jobMs.push(Number(row.metrics_json?.duration_ms));
      const key = { Bucket: stack.bucket, Key: row.s3_output_key ?? '' };
      outputBytes = (await stack.s3.send(new HeadObjectCommand(key))).ContentLength ?? 0;
      // the emulator keeps objects in memory: drop each result once measured
      await stack.s3.send(new DeleteObjectCommand(key));
    }
    // the worker long-polls the queue the floor's jobs go to: it stops first (its peak RSS is read as it stops)
    await worker.stop();
    const smallJobFloorMs = await measureSmallJobFloor(stack, small);
    const job = median(jobMs);
    const parse = median(parseMs);
    return {
      rows,
      inputBytes: bytes.length,
      outputBytes,
      runs,
      jobMs,
      parseMs,
      rowsPerSecond: (rows / job) * 1000,
      parseOnlyRowsPerSecond: (rows / parse) * 1000,
      e2eOverParse: job / parse,
      peakRssMb: Math.max(...peakRssMbRuns),
      peakRssMbRuns,
      idleRssMb,
      workerReadyMs,
      workerCpuUsPerRow: (median(workerCpu) / rows) * 1e6,
      workerCpuUsPerRowRuns: workerCpu.map((seconds) => (seconds / rows) * 1e6),
      emulatorCpuUsPerRow: (emulatorCpu / (rows * runs)) * 1e6,
      loadAverage,
      smallJobs: small,
      smallJobFloorMs,
    };
  } finally {
    await worker.stop();
    await stack.stop();
  }
}
