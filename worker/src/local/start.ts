import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { constants } from 'node:os';
import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { BadInput, EXIT, EXIT_CODES, parsing, reportFailure } from '../cli/command.js';
import { createLogger } from '../logger.js';
import { startWorker } from '../worker.js';
import { readPrediction, submitJob, type PredictionRow } from './backend.js';
import { onStopSignal } from './signals.js';
import { startLocalStack, type LocalStack } from './stack.js';

/**
 * `npm start`: the whole pipeline on this machine. Starts fauxqs (SQS + S3) and PostgreSQL with the backend's
 * tables, the worker, submits a job the way the backend does, follows it to the end, prints the row and saves the
 * results CSV.
 *   npm start                     the bundled 100-customer Telco sample
 *   npm start -- --file my.csv    your own file
 *   npm start -- --serve          keep the stack up and print the backend's environment (NAME=value lines)
 */

const SERVE_PORTS = { fauxqs: 4566, postgres: 54320 };
const cwd = process.env.INIT_CWD ?? process.cwd();

const USAGE = 'usage: npm start [-- --file <customers.csv | ->] [-- --serve]';

/** The CSV to submit: the bundled sample, a file or (`-`) stdin; an unreadable one is the user's to fix. */
function readInput(file: string | undefined): Buffer {
  if (file === undefined) return readFileSync(new URL('./demo-customers.csv', import.meta.url));
  try {
    return readFileSync(file === '-' ? process.stdin.fd : file);
  } catch (error) {
    throw new BadInput(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
}

const HELP = `${USAGE}
Runs the whole pipeline on this machine: an SQS/S3 emulator, PostgreSQL with the backend's tables and a worker.
  (no flags)     submits the bundled 100-customer sample, follows it to the end, prints the predictions row
                 and saves the results CSV under .local/results/
  --file <csv>   the same with your file; - reads it from stdin
  --serve        keeps the stack up and prints the backend's environment as NAME=value lines on stdout
                 (logs on stderr); Ctrl-C stops it
  -h, --help     this help
${EXIT_CODES} (1: the job FAILED or the stack could not start)`;

async function follow(stack: LocalStack, predictionId: string): Promise<PredictionRow> {
  const started = Date.now();
  let last = '';
  for (;;) {
    const row = await readPrediction(stack, predictionId);
    const status = row?.status ?? 'MISSING';
    if (status !== last) {
      process.stdout.write(`  ${String(Date.now() - started).padStart(5)} ms  ${status}\n`);
      last = status;
    }
    if (row && (row.status === 'COMPLETED' || row.status === 'FAILED')) return row;
    if (Date.now() - started > 600_000) throw new Error('the job did not finish within 10 minutes');
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function saveResults(stack: LocalStack, row: PredictionRow): Promise<string> {
  const object = await stack.s3.send(
    new GetObjectCommand({ Bucket: stack.bucket, Key: row.s3_output_key ?? '' }),
  );
  const target = resolve(cwd, '.local', 'results', `prediction_results_${row.id}.csv`);
  mkdirSync(resolve(target, '..'), { recursive: true });
  // under its final name only once complete: an interrupted save leaves no file that looks finished
  const partial = `${target}.partial`;
  undo.push(() => rm(partial, { force: true }));
  writeFileSync(partial, await object.Body!.transformToByteArray());
  renameSync(partial, target);
  return target;
}

/** What to undo, newest first, however the command ends: a signal, a failure or success. */
const undo: (() => Promise<unknown>)[] = [];
let interrupted = false;

async function cleanUp(): Promise<void> {
  for (let step = undo.pop(); step; step = undo.pop()) await step().catch(() => undefined);
}

async function run(): Promise<number> {
  const args = parsing(
    () =>
      parseArgs({
        options: {
          file: { type: 'string' },
          serve: { type: 'boolean', default: false },
          help: { type: 'boolean', short: 'h' },
        },
      }).values,
  );
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  const file = args.file === undefined || args.file === '-' ? args.file : resolve(cwd, args.file);
  const csv = readInput(file);

  // With --serve, stdout carries only the NAME=value lines (a script may read them); everything else is on stderr.
  (args.serve ? process.stderr : process.stdout).write(
    'Starting the local stack (SQS + S3 emulator, PostgreSQL)...\n',
  );
  const starting = startLocalStack(
    args.serve ? { fauxqsPort: SERVE_PORTS.fauxqs, postgresPort: SERVE_PORTS.postgres } : {},
  );
  // a stack still starting is stopped once it is up (it cleans up after itself if it fails)
  undo.push(async () => (await starting).stop());
  const stack = await starting;
  const logger = createLogger({
    level: args.serve ? 'info' : 'warn',
    environment: 'local',
    fd: args.serve ? 2 : 1,
  });
  const worker = await startWorker(loadConfig(stack.workerEnv({ SQS_WAIT_TIME_SECONDS: '1' })), { logger });
  undo.push(() => worker.stop());

  if (args.serve) {
    const lines = stack.serveEnv();
    process.stdout.write(
      Object.entries(lines)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    process.stderr.write(
      'The stack and a worker are running; point the backend at the values above. Ctrl-C stops.\n',
    );
    // runs until a signal, which cleans up and exits
    return new Promise<never>(() => undefined);
  }

  const filename = file && file !== '-' ? basename(file) : file ? 'stdin.csv' : 'demo-customers.csv';
  const job = await submitJob(stack, { csv, filename });
  process.stdout.write(`Submitted prediction ${job.predictionId} for s3://${stack.bucket}/${job.key}\n`);
  const row = await follow(stack, job.predictionId);
  process.stdout.write(
    `${JSON.stringify(
      {
        id: row.id,
        status: row.status,
        rows_processed: row.rows_processed,
        s3_output_key: row.s3_output_key,
        metrics_json: row.metrics_json,
        error_message: row.error_message,
        updated_at: row.updated_at,
      },
      null,
      2,
    )}\n`,
  );
  if (row.status === 'COMPLETED') process.stdout.write(`Results: ${await saveResults(stack, row)}\n`);
  return row.status === 'COMPLETED' ? EXIT.ok : EXIT.failed;
}

onStopSignal((signal) => {
  interrupted = true;
  void cleanUp().then(() => process.exit(128 + constants.signals[signal]));
});

// After a signal, the cleanup owns the exit: whatever the interrupted run does next is moot.
run().then(
  async (code) => {
    if (interrupted) return;
    await cleanUp();
    process.exit(code);
  },
  async (error: unknown) => {
    if (interrupted) return;
    await cleanUp();
    process.exit(reportFailure(error instanceof BadInput ? 'start' : 'npm start failed', USAGE, error));
  },
);
