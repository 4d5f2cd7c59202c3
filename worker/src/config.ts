import { accessSync, constants } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_HEALTH_FILE } from './health.js';
import { packageRoot } from './package-root.js';

/**
 * The worker's environment contract (contracts.md §D). Everything is validated once at start, and every bad or
 * missing variable is reported in one error, so a broken task definition fails its first deployment with a
 * readable message instead of the first job failing an hour later.
 */

/** The RDS global CA bundle shipped with the worker (see worker/certs/README.md for its provenance). */
export const BUNDLED_RDS_CA_FILE = join(packageRoot(), 'certs', 'rds-global-bundle.pem');

const SQS_URL = /^https?:\/\/\S+\/\d{12}\/[\w-]{1,80}$/;

const text = z.string().trim().min(1);
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const queueUrl = httpUrl.regex(
  SQS_URL,
  'must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<name>)',
);

function int(defaultValue: number, min: number, max: number) {
  return z
    .string()
    .default(String(defaultValue))
    .pipe(
      z
        .string()
        .regex(/^\d+$/, `must be a whole number between ${min} and ${max}`)
        .transform(Number)
        .pipe(
          z
            .number()
            .min(min, `must be between ${min} and ${max}`)
            .max(max, `must be between ${min} and ${max}`),
        ),
    );
}

/**
 * `postgresql://`, `postgres://` and SQLAlchemy-style `postgresql+asyncpg://` all name the same database; the driver
 * suffix is the Python backend's business, so it is stripped rather than rejected.
 */
export function normaliseDatabaseUrl(raw: string): URL | undefined {
  const match = /^(postgres(?:ql)?)(\+[a-z0-9_]+)?:\/\//i.exec(raw);
  if (!match) return undefined;
  try {
    const url = new URL(`postgresql://${raw.slice(match[0].length)}`);
    return url.hostname && url.pathname.length > 1 ? url : undefined;
  } catch {
    return undefined;
  }
}

const databaseUrl = text
  .refine((v) => normaliseDatabaseUrl(v) !== undefined, {
    error:
      'must be postgresql://user:password@host:port/database (postgres:// and +driver suffixes are accepted)',
  })
  .transform((v) => normaliseDatabaseUrl(v) as URL);

const schema = z.object({
  PREDICTIONS_QUEUE_URL: queueUrl,
  PREDICTIONS_DLQ_URL: queueUrl,
  S3_BUCKET: text.regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name'),
  DATABASE_URL: databaseUrl,
  AWS_REGION: text
    .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must be an AWS region such as us-east-1')
    .default('us-east-1'),
  ENVIRONMENT: text
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'must be a short lower-case name such as prod')
    .default('local'),
  WORKER_CONCURRENCY: int(2, 1, 10),
  SQS_WAIT_TIME_SECONDS: int(20, 0, 20),
  SQS_VISIBILITY_TIMEOUT_SECONDS: int(300, 1, 43_200),
  HEARTBEAT_INTERVAL_SECONDS: int(60, 1, 43_200),
  MAX_RECEIVE_COUNT: int(3, 1, 1000),
  MESSAGE_MAX_AGE_SECONDS: int(345_600, 60, 1_209_600),
  JOB_TIMEOUT_SECONDS: int(3600, 1, 43_200),
  SHUTDOWN_TIMEOUT_SECONDS: int(90, 0, 3600),
  RETRY_BASE_DELAY_SECONDS: int(30, 0, 900),
  REQUEST_TIMEOUT_SECONDS: int(30, 1, 300),
  DATABASE_SSL: z.enum(['verify-full', 'require', 'disable']).default('verify-full'),
  DATABASE_CA_FILE: text.default(BUNDLED_RDS_CA_FILE),
  DATABASE_POOL_SIZE: int(3, 1, 20),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  METRICS_NAMESPACE: text
    .regex(/^[\w./#:-]{1,255}$/, 'must be a CloudWatch namespace')
    .default('RetainWise/Worker'),
  MODEL_DIR: text.optional(),
  AWS_ENDPOINT_URL: httpUrl.optional(),
  ECS_AGENT_URI: httpUrl.optional(),
  HEALTH_FILE: text.default(DEFAULT_HEALTH_FILE),
});

/** The name of a variable the worker reads. */
export type EnvName = keyof typeof schema.shape;
type Schema = typeof schema.shape;

/**
 * The default of a variable, as the worker applies it. infra/ takes its worker settings' defaults from here, so the
 * task definition and an unset variable mean the same thing.
 */
export function workerEnvDefault<N extends EnvName>(name: N): z.output<Schema[N]> {
  return schema.shape[name].parse(undefined) as z.output<Schema[N]>;
}

/**
 * What the worker says about one value of a variable (undefined: accepted). infra/ checks every value it sets with
 * this, so a setting the stack accepts can never stop the worker at start.
 */
export function workerEnvProblem(name: EnvName, value: string): string | undefined {
  const result = schema.shape[name].safeParse(value);
  return result.success ? undefined : result.error.issues[0]?.message;
}

const REQUIRED: readonly EnvName[] = [
  'PREDICTIONS_QUEUE_URL',
  'PREDICTIONS_DLQ_URL',
  'S3_BUCKET',
  'DATABASE_URL',
];
const SECRET: readonly EnvName[] = ['DATABASE_URL'];

/** Every variable the worker reads, for the infrastructure test that checks the task definition against it. */
export const WORKER_ENV_VARS: readonly { name: EnvName; required: boolean; secret: boolean }[] = (
  Object.keys(schema.shape) as EnvName[]
).map((name) => ({ name, required: REQUIRED.includes(name), secret: SECRET.includes(name) }));

export interface DatabaseConfig {
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  ssl: 'verify-full' | 'require' | 'disable';
  caFile: string;
  poolSize: number;
  /** statement, query and connection deadline */
  timeoutMs: number;
}

export interface Config {
  queueUrl: string;
  dlqUrl: string;
  bucket: string;
  region: string;
  environment: string;
  /** set only outside AWS (local stack, tests): a single endpoint for SQS and S3 */
  endpoint: string | undefined;
  concurrency: number;
  waitTimeSeconds: number;
  visibilityTimeoutSeconds: number;
  heartbeatIntervalSeconds: number;
  maxReceiveCount: number;
  messageMaxAgeSeconds: number;
  jobTimeoutSeconds: number;
  shutdownTimeoutSeconds: number;
  /** first back-off after a transient failure; doubles per attempt (capped at 15 min) */
  retryBaseDelaySeconds: number;
  /**
   * the deadline of one SQS or S3 request (a long poll gets SQS_WAIT_TIME_SECONDS on top, an S3 part a transfer
   * allowance), one database statement and one database connection attempt
   */
  requestTimeoutSeconds: number;
  database: DatabaseConfig;
  logLevel: string;
  metricsNamespace: string;
  modelDir: string | undefined;
  ecsAgentUri: string | undefined;
  healthFile: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid worker configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Parsed = z.infer<typeof schema>;

/**
 * Checks across variables, on the variables that parsed (a malformed one is already reported). Each goes to a
 * variable that was set, in its own words, so the message names nothing the operator did not set.
 */
function crossFieldProblems(env: Partial<Parsed>, present: Record<string, string>): string[] {
  const problems: string[] = [];
  const heartbeat = env.HEARTBEAT_INTERVAL_SECONDS;
  const visibility = env.SQS_VISIBILITY_TIMEOUT_SECONDS;
  if (heartbeat !== undefined && visibility !== undefined && heartbeat >= visibility) {
    problems.push(
      present['HEARTBEAT_INTERVAL_SECONDS'] !== undefined
        ? `HEARTBEAT_INTERVAL_SECONDS: must be shorter than the visibility timeout (${visibility} s), or messages reappear mid-job`
        : `SQS_VISIBILITY_TIMEOUT_SECONDS: must be longer than the heartbeat interval (${heartbeat} s), or messages reappear mid-job`,
    );
  }
  if (
    env.DATABASE_SSL !== undefined &&
    env.DATABASE_SSL !== 'disable' &&
    env.DATABASE_CA_FILE !== undefined
  ) {
    try {
      accessSync(env.DATABASE_CA_FILE, constants.R_OK);
    } catch {
      problems.push(`DATABASE_CA_FILE: cannot read ${env.DATABASE_CA_FILE}`);
    }
  }
  return problems;
}

/** Parses the environment; throws one ConfigError naming every problem (never echoing a secret's value). */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable means "not set": task definitions and shells often export empty strings.
  const present = Object.fromEntries(
    Object.keys(schema.shape).flatMap((name) => {
      const value = environment[name];
      return value === undefined || value.trim() === '' ? [] : [[name, value]];
    }),
  );
  // One variable at a time, in the contract's order: one line per variable (its first problem).
  const parsed: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, field] of Object.entries(schema.shape) as [EnvName, z.ZodType][]) {
    const result = field.safeParse(present[name]);
    if (result.success) parsed[name] = result.data;
    else
      problems.push(
        present[name] === undefined
          ? `${name}: required but not set`
          : `${name}: ${result.error.issues[0]?.message ?? 'is invalid'}`,
      );
  }
  problems.push(...crossFieldProblems(parsed, present));
  if (problems.length > 0) throw new ConfigError(problems);
  const env = parsed as Parsed;
  const db = env.DATABASE_URL;
  return {
    queueUrl: env.PREDICTIONS_QUEUE_URL,
    dlqUrl: env.PREDICTIONS_DLQ_URL,
    bucket: env.S3_BUCKET,
    region: env.AWS_REGION,
    environment: env.ENVIRONMENT,
    endpoint: env.AWS_ENDPOINT_URL,
    concurrency: env.WORKER_CONCURRENCY,
    waitTimeSeconds: env.SQS_WAIT_TIME_SECONDS,
    visibilityTimeoutSeconds: env.SQS_VISIBILITY_TIMEOUT_SECONDS,
    heartbeatIntervalSeconds: env.HEARTBEAT_INTERVAL_SECONDS,
    maxReceiveCount: env.MAX_RECEIVE_COUNT,
    messageMaxAgeSeconds: env.MESSAGE_MAX_AGE_SECONDS,
    jobTimeoutSeconds: env.JOB_TIMEOUT_SECONDS,
    shutdownTimeoutSeconds: env.SHUTDOWN_TIMEOUT_SECONDS,
    retryBaseDelaySeconds: env.RETRY_BASE_DELAY_SECONDS,
    requestTimeoutSeconds: env.REQUEST_TIMEOUT_SECONDS,
    database: {
      host: db.hostname.replace(/^\[(.*)\]$/, '$1'),
      port: db.port === '' ? 5432 : Number(db.port),
      user: decodeURIComponent(db.username),
      password: decodeURIComponent(db.password),
      database: decodeURIComponent(db.pathname.slice(1)),
      ssl: env.DATABASE_SSL,
      caFile: env.DATABASE_CA_FILE,
      poolSize: env.DATABASE_POOL_SIZE,
      timeoutMs: env.REQUEST_TIMEOUT_SECONDS * 1000,
    },
    logLevel: env.LOG_LEVEL,
    metricsNamespace: env.METRICS_NAMESPACE,
    modelDir: env.MODEL_DIR,
    ecsAgentUri: env.ECS_AGENT_URI,
    healthFile: env.HEALTH_FILE,
  };
}
