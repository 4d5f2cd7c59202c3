import '../src/cli/quiet.js';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { constants } from 'node:os';
import { basename, dirname, resolve } from 'node:path';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config.js';
import { BadInput, EXIT, EXIT_CODES, parsing, reportFailure, UsageError } from '../src/cli/command.js';
import { describeMapping, progressLine } from '../src/cli/progress.js';
import type { JobObserver } from '../src/job.js';
import { createLogger } from '../src/logger.js';
import { startWorker } from '../src/worker.js';
import { submitJob, waitForPrediction, type PredictionRow } from './backend.js';
import { saveResults } from './results.js';
import { onStopSignal } from './signals.js';
import { startLocalStack, type LocalStack } from './stack.js';

/**
 * `npm start`: the whole pipeline on this machine. Starts fauxqs (SQS + S3) and PostgreSQL with the backend's
 * tables, the worker, submits a job the way the backend does, follows it to the end, prints the row and saves the
 * results CSV.
 *   npm start                     the bundled 100-customer Telco sample
 *   npm start -- --file my.csv    your own file
 *   npm start -- --serve          keep the stack up and print the backend's environment (NAME=value lines),
 *                                 also written to .local/serve.env
 */

const cwd = process.env.INIT_CWD ?? process.cwd();

const USAGE = 'usage: npm start [-- --file <customers.csv | ->] [-- --serve [--host <address>]]';

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
  --file <csv>   the same with your file; - reads it from stdin (on a terminal, a progress line while it runs)
  --serve        keeps the stack up on free ports and prints the backend's environment as NAME=value lines
                 on stdout (use npm start -s, or npm adds its own lines), also written to .local/serve.env
                 (logs on stderr); Ctrl-C stops it
  --host <addr>  where the emulator and PostgreSQL listen (default 127.0.0.1, this machine only; 0.0.0.0 lets
                 a backend in a container reach them)
  -h, --help     this help
${EXIT_CODES} (1: the job FAILED or the stack could not start)`;

/** The one job's scoring as the worker reports it: a progress line on a terminal, its column mapping after. */
const progress = progressLine(process.stdout);
let columns: string | undefined;
const observer: JobObserver = {
  progress: (_id, rows) => progress.update(rows),
  scored: (_id, summary) => (columns = describeMapping(summary.mappedColumns)),
};

function follow(stack: LocalStack, predictionId: string): Promise<PredictionRow> {
  return waitForPrediction(stack, predictionId, {
    timeoutMs: 600_000,
    intervalMs: 25,
    onStatus: (status, elapsedMs) => {
      progress.clear();
      process.stdout.write(`  ${String(elapsedMs).padStart(5)} ms  ${status}\n`);
    },
  });
}

async function downloadResults(stack: LocalStack, row: PredictionRow): Promise<string> {
  const object = await stack.s3.send(
    new GetObjectCommand({ Bucket: stack.bucket, Key: row.s3_output_key ?? '' }),
  );
  const target = resolve(cwd, '.local', 'results', `prediction_results_${row.id}.csv`);
  mkdirSync(resolve(target, '..'), { recursive: true });
  await saveResults(object.Body as Readable, target, (step) => undo.push(step));
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
          host: { type: 'string', default: '127.0.0.1' },
          help: { type: 'boolean', short: 'h' },
        },
      }).values,
  );
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return EXIT.ok;
  }
  if (args.serve && args.file !== undefined) {
    throw new UsageError('--serve runs the stack for a backend and --file runs one job: pick one');
  }
  const file = args.file === undefined || args.file === '-' ? args.file : resolve(cwd, args.file);
  const csv = readInput(file);

  // With --serve, stdout carries only the NAME=value lines (a script may read them); everything else is on stderr.
  (args.serve ? process.stderr : process.stdout).write(
    'Starting the local stack (SQS + S3 emulator, PostgreSQL)...\n',
  );
  const starting = startLocalStack({ host: args.host });
  // a stack still starting is stopped once it is up (it cleans up after itself if it fails)
  undo.push(async () => (await starting).stop());
  const stack = await starting;
  const logger = createLogger({
    level: args.serve ? 'info' : 'warn',
    environment: 'local',
    fd: args.serve ? 2 : 1,
  });
  const worker = await startWorker(loadConfig(stack.workerEnv({ SQS_WAIT_TIME_SECONDS: '1' })), {
    logger,
    ...(args.serve ? {} : { observer }),
  });
  undo.push(() => worker.stop());

  if (args.serve) {
    const lines = stack.serveEnv();
    const env = Object.entries(lines)
      .map(([k, v]) => `${k}=${v}\n`)
      .join('');
    // The ports are new on every start: a backend started with --env-file (or dotenv) picks them up from here.
    const envFile = resolve(cwd, '.local', 'serve.env');
    mkdirSync(dirname(envFile), { recursive: true });
    writeFileSync(envFile, env, { mode: 0o600 });
    process.stdout.write(env);
    const exposed =
      args.host === '0.0.0.0'
        ? "Listening on every interface: from a container, use this machine's address (e.g. host.docker.internal) for 127.0.0.1.\n"
        : '';
    process.stderr.write(
      `${exposed}The stack and a worker are running; point the backend at the values above (also in ${envFile}). Ctrl-C stops.\n`,
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
  if (columns !== undefined) process.stdout.write(`${columns}\n`);
  if (row.status === 'COMPLETED') process.stdout.write(`Results: ${await downloadResults(stack, row)}\n`);
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
