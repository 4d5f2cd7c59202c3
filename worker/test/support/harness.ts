import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import {
  readPrediction,
  submitJob as submitLikeBackend,
  waitForPrediction,
  type PredictionRow,
  type SubmitOptions,
  type SubmittedJob,
} from '../../local/backend.js';
import { startLocalStack, type LocalStack, type LocalStackOptions } from '../../local/stack.js';
import type { RunningWorker } from '../../src/worker.js';

export { DEMO_USER_ID, readPrediction, waitForPrediction } from '../../local/backend.js';
export type { PredictionRow, SubmittedJob } from '../../local/backend.js';

/** A test file's stack, and the helpers below bound to it (`context.submitJob(…)` for `submitJob(stack, …)`). */
export interface StackContext {
  readonly stack: LocalStack;
  submitJob(options: SubmitOptions): Promise<SubmittedJob>;
  readPrediction(predictionId: string): Promise<PredictionRow | undefined>;
  waitForPrediction(
    predictionId: string,
    options?: Parameters<typeof waitForPrediction>[2],
  ): Promise<PredictionRow>;
  startTestWorker(env?: Record<string, string>): Promise<RunningWorker>;
  listKeys(prefix: string): Promise<string[]>;
  dlqMessages(): Promise<Message[]>;
}

/**
 * One local stack (fauxqs + embedded PostgreSQL + the backend's schema) per test file, started once in beforeAll
 * and shared by the file's tests: each test submits its own jobs with fresh ids, so they do not interfere.
 */
export function useStack(options: LocalStackOptions = {}): StackContext {
  const holder: { stack?: LocalStack } = {};
  beforeAll(async () => {
    holder.stack = await startLocalStack(options);
  });
  afterAll(async () => {
    await holder.stack?.stop();
  });
  const context: StackContext = {
    get stack() {
      if (!holder.stack) throw new Error('stack not started (use inside a test)');
      return holder.stack;
    },
    submitJob: (job) => submitJob(context.stack, job),
    readPrediction: (predictionId) => readPrediction(context.stack, predictionId),
    waitForPrediction: (predictionId, wait) => waitForPrediction(context.stack, predictionId, wait),
    startTestWorker: (env) => startTestWorker(context.stack, env),
    listKeys: (prefix) => listKeys(context.stack, prefix),
    dlqMessages: () => dlqMessages(context.stack),
  };
  return context;
}

let uploads = 0;

/**
 * Submits like the backend, with a distinct file name per job: the backend's keys only have one-second resolution,
 * so two uploads of `customers.csv` within a second share a key (the later overwrites the earlier).
 */
export function submitJob(stack: LocalStack, options: SubmitOptions): Promise<SubmittedJob> {
  uploads += 1;
  return submitLikeBackend(stack, { filename: `customers-${process.pid}-${uploads}.csv`, ...options });
}

/** Quick-turnaround settings for tests: short polls and back-offs so retries happen in seconds, not minutes. */
export const FAST = {
  SQS_WAIT_TIME_SECONDS: '1',
  RETRY_BASE_DELAY_SECONDS: '0',
  LOG_LEVEL: 'silent',
} as const;

/** Starts a worker in this process against the stack. */
export async function startTestWorker(
  stack: LocalStack,
  env: Record<string, string> = {},
): Promise<RunningWorker> {
  const config = loadConfig(stack.workerEnv({ ...FAST, ...env }));
  // Imported on use so tests of the edges (store, queue) load without the model.
  const { startWorker } = await import('../../src/worker.js');
  return startWorker(config, {
    logger: createLogger({ level: config.logLevel, environment: 'test', pretty: false }),
  });
}

const MAIN = fileURLToPath(new URL('../../src/main.ts', import.meta.url));

export interface WorkerProcess {
  child: ChildProcess;
  /** stdout + stderr so far */
  output(): string;
  exited: Promise<number | null>;
}

/** Runs `src/main.ts` in a child process (through tsx), as the container runs the worker. */
export function spawnWorker(env: Record<string, string>, args: string[] = []): WorkerProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

export async function waitFor<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function listKeys(stack: LocalStack, prefix: string): Promise<string[]> {
  const listed = await stack.s3.send(new ListObjectsV2Command({ Bucket: stack.bucket, Prefix: prefix }));
  return (listed.Contents ?? []).map((object) => object.Key ?? '');
}

export async function readObject(
  stack: LocalStack,
  key: string,
): Promise<{ text: string; contentType?: string }> {
  const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.bucket, Key: key }));
  return { text: (await object.Body?.transformToString('utf8')) ?? '', contentType: object.ContentType };
}

/** Receives (and leaves) every message currently on the DLQ. */
export async function dlqMessages(stack: LocalStack): Promise<Message[]> {
  const result = await stack.sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: stack.dlqUrl,
      MaxNumberOfMessages: 10,
      MessageAttributeNames: ['All'],
      VisibilityTimeout: 0,
      WaitTimeSeconds: 0,
    }),
  );
  return result.Messages ?? [];
}

/** Telco-style rows (the demo sample's columns) for a CSV of any size. */
export function telcoCsv(rows: number, options: { header?: string; lineEnd?: string } = {}): string {
  const header =
    options.header ??
    'customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges';
  const contracts = ['Month-to-month', 'One year', 'Two year'];
  const lines = [header];
  for (let i = 0; i < rows; i += 1) {
    const tenure = (i * 7) % 72;
    const monthly = 20 + ((i * 13) % 90);
    lines.push(
      `C${String(i).padStart(6, '0')},${i % 2 ? 'Male' : 'Female'},${i % 5 === 0 ? 1 : 0},Yes,No,${tenure},Yes,No,Fiber optic,No,Yes,No,No,Yes,No,${contracts[i % 3]},Yes,Electronic check,${monthly}.5,${(monthly * tenure).toFixed(2)}`,
    );
  }
  return lines.join(options.lineEnd ?? '\n') + (options.lineEnd ?? '\n');
}
