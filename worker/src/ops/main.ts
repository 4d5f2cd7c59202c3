import { parseArgs } from 'node:util';
import { BadInput, EXIT, parsing, reportFailure, UsageError } from '../cli/command.js';
import type { OpsContext, Outcome } from './context.js';
import { parseDuration } from './duration.js';
import { loadOpsSettings } from './settings.js';

const USAGE = `usage: npm run ops -- <command> [--json] [--stack-outputs <file | ->]
  status [--older-than <duration>]
  dlq list
  dlq redrive (--all | <prediction_id>...) [--dry-run]
  requeue <prediction_id>...
  sweep --older-than <duration> [--requeue | --fail]`;

export const HELP = `${USAGE}

Day-2 operations on the prediction queue, its DLQ and the predictions table (docs/operations.md).
  status            main queue (waiting, in flight, delayed, oldest message age), DLQ depth, worker tasks
                    (running, desired), predictions by status, RUNNING longer than JOB_TIMEOUT_SECONDS, and
                    QUEUED rows older than --older-than (default 10m) that have no message
  dlq list          every dead letter that can be seen: prediction id, its row's status, receive count, age,
                    rejection_reason, and whether it can be redriven; the letters stay in the DLQ
  dlq redrive       sets the rows of the named (or --all) dead letters back to QUEUED, never a COMPLETED one,
                    and moves the letters back to the main queue: --all with an SQS message move task when every
                    letter can go, otherwise one by one. Letters that can never succeed (rejected or invalid
                    messages, missing rows, COMPLETED rows) are reported and stay. --dry-run changes nothing
  requeue           publishes the jobs of QUEUED rows again, exactly as the backend does (body, attributes,
                    a timestamp of now); refuses rows in any other state, and rows whose file never reached S3
  sweep             lists the QUEUED rows older than --older-than that have no message; --requeue publishes
                    them as requeue does, --fail sets them FAILED ("${'please upload the file again'}")
  --json            one JSON document on stdout instead of the tables
  --stack-outputs   the stack's outputs (\`pulumi stack output --json > outputs.json\`, or - for stdin): the
                    queues, the bucket and the worker service, instead of the variables below
  -h, --help        this help
Durations: a whole number and s, m, h or d (90s, 15m, 2h, 1d).

Where it connects: the worker's own variables (worker/src/config.ts), so the lines of \`npm start -s -- --serve\`
drive it as they are: PREDICTIONS_QUEUE_URL, PREDICTIONS_DLQ_URL, S3_BUCKET, DATABASE_URL (the operator's
database role, docs/database-roles.sql), AWS_REGION, AWS_ENDPOINT_URL (local stack only), DATABASE_SSL,
JOB_TIMEOUT_SECONDS, MESSAGE_MAX_AGE_SECONDS; ECS_CLUSTER and ECS_SERVICE for the worker service. AWS
credentials as the SDK finds them (the operator role: infra/README.md, "Operator role").

"No message" is decided by time, because SQS cannot be searched without taking messages from the workers: a
job's message is sent after its row is written, so a row QUEUED before every message now in the main queue
(all counts 0, or older than the oldest message's age from CloudWatch, with a minute of margin) has none.
With messages in the queue and no such age (the local stack has no CloudWatch) such rows are reported as
undecided and never acted on. SQS's counts are approximate and its metrics minutes late: use an --older-than
of several minutes. Dead letters held in flight by another consumer (the worker's DLQ sweeper hides each one it
looks at for 5 minutes) cannot be seen, and are reported as such.

Exit codes: 0 nothing wrong, 1 problems found or a step failed (said on stdout), 2 bad input or usage (one
line on stderr; nothing was changed).`;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function predictionIds(values: string[]): string[] {
  const bad = values.filter((v) => !UUID.test(v));
  if (bad.length > 0) throw new BadInput(`not a prediction id (a UUID): ${bad.join(', ')}`);
  return [...new Set(values.map((v) => v.toLowerCase()))];
}

type Values = {
  json?: boolean;
  'stack-outputs'?: string;
  'older-than'?: string;
  all?: boolean;
  'dry-run'?: boolean;
  requeue?: boolean;
  fail?: boolean;
  help?: boolean;
};

/** The flags each command takes besides --json and --stack-outputs. */
const COMMAND_FLAGS: Record<string, (keyof Values)[]> = {
  status: ['older-than'],
  'dlq list': [],
  'dlq redrive': ['all', 'dry-run'],
  requeue: [],
  sweep: ['older-than', 'requeue', 'fail'],
};

type Run = (ctx: OpsContext) => Promise<Outcome>;

// The commands (and through them the worker's SDK clients and job checks) load only once the command line
// parses: --help and a usage error answer at once.
const commands = {
  status: () => import('./status.js'),
  dlq: () => import('./dlq.js'),
  requeue: () => import('./requeue.js'),
};

function plan(command: string, rest: string[], values: Values): Run {
  const extra = (Object.keys(values) as (keyof Values)[]).filter(
    (flag) => !['json', 'stack-outputs', ...(COMMAND_FLAGS[command] ?? [])].includes(flag),
  );
  if (extra.length > 0) throw new UsageError(`${command} takes no --${extra.join(', --')}`);
  const olderThan = (fallback?: string) => {
    const text = values['older-than'] ?? fallback;
    if (text === undefined) throw new UsageError(`${command} needs --older-than <duration>`);
    return parseDuration(text, '--older-than');
  };
  switch (command) {
    case 'status': {
      if (rest.length > 0) throw new UsageError('status takes no arguments');
      const olderThanSeconds = olderThan('10m');
      return async (ctx) => (await commands.status()).status(ctx, { olderThanSeconds });
    }
    case 'dlq list':
      if (rest.length > 0) throw new UsageError('dlq list takes no arguments');
      return async (ctx) => (await commands.dlq()).dlqList(ctx);
    case 'dlq redrive': {
      const all = values.all === true;
      if (all === rest.length > 0) throw new UsageError('dlq redrive needs either --all or prediction ids');
      const ids = predictionIds(rest);
      return async (ctx) =>
        (await commands.dlq()).dlqRedrive(ctx, { all, ids, dryRun: values['dry-run'] === true });
    }
    case 'requeue': {
      if (rest.length === 0) throw new UsageError('requeue needs at least one prediction id');
      const ids = predictionIds(rest);
      return async (ctx) => (await commands.requeue()).requeue(ctx, ids);
    }
    case 'sweep': {
      if (rest.length > 0) throw new UsageError('sweep takes no arguments');
      if (values.requeue && values.fail) throw new UsageError('sweep takes --requeue or --fail, not both');
      const olderThanSeconds = olderThan();
      const action = values.requeue ? 'requeue' : values.fail ? 'fail' : undefined;
      return async (ctx) => (await commands.requeue()).sweep(ctx, { olderThanSeconds, action });
    }
    default:
      throw new UsageError(`unknown command: ${command || '(none)'}`);
  }
}

export interface OpsIo {
  env: NodeJS.ProcessEnv;
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  now?: () => Date;
}

/** `npm run ops -- …`; resolves to the exit code. Bad input or usage changes nothing and exits 2. */
export async function runOps(argv: string[], io: OpsIo): Promise<number> {
  try {
    const { values, positionals } = parsing(() =>
      parseArgs({
        args: argv,
        allowPositionals: true,
        options: {
          json: { type: 'boolean' },
          'stack-outputs': { type: 'string' },
          'older-than': { type: 'string' },
          all: { type: 'boolean' },
          'dry-run': { type: 'boolean' },
          requeue: { type: 'boolean' },
          fail: { type: 'boolean' },
          help: { type: 'boolean', short: 'h' },
        },
      }),
    );
    if (values.help) {
      io.stdout(`${HELP}\n`);
      return EXIT.ok;
    }
    const words = positionals[0] === 'dlq' ? 2 : 1;
    const command = positionals.slice(0, words).join(' ');
    const run = plan(command, positionals.slice(words), values);
    const settings = loadOpsSettings(io.env, values['stack-outputs']);
    const { createClients } = await import('./clients.js');
    const clients = createClients(settings);
    try {
      const outcome = await run({ settings, clients, now: io.now ?? (() => new Date()) });
      io.stdout(values.json ? `${JSON.stringify(outcome.json, null, 2)}\n` : `${outcome.text}\n`);
      return outcome.exitCode;
    } finally {
      await clients.close();
    }
  } catch (error) {
    return reportFailure('ops', USAGE, error, false, io.stderr);
  }
}
