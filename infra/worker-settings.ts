// The worker's settings (stack config keys) and the environment they become: the contract with
// worker/src/config.ts, whose schema bounds and defaults every variable the stack sets (contracts.md §D).
import type * as pulumi from '@pulumi/pulumi';
import { workerEnvDefault, workerEnvProblem, type EnvName } from '../worker/src/config.js';
import { fargateSizeIssues, MAX_STOP_TIMEOUT_SECONDS } from './fargate-limits.js';
import type { CpuArchitecture } from './fargate-service.js';
import type { ResolvedQueueSettings } from './prediction-queues.js';
import { environmentName } from './names.js';
import { check, inRange, pick, withDefaults, type Issue } from './validation.js';

export type DatabaseSsl = 'verify-full' | 'require' | 'disable';

/** The metric namespace the worker emits to and the alarms read (contracts.md §E). */
export const WORKER_METRICS_NAMESPACE = 'RetainWise/Worker';

/** The worker settings of the stack config (`retainwise:<key>`). */
export interface WorkerSettings {
  /** @default 'retainwise-cluster' (`-<environment>` outside prod) */
  clusterName?: string | undefined;
  /** Service name and task definition family. @default 'retainwise-worker' (`-<environment>` outside prod) */
  workerServiceName?: string | undefined;
  /** The worker's own ECR repository (not the API's `retainwise-backend`). @default 'retainwise-worker' (`-<environment>` outside prod) */
  workerRepositoryName?: string | undefined;
  /** @default 'retainwise-ecs-task-execution-role' (`-<environment>` outside prod) */
  executionRoleName?: string | undefined;
  /** CPU units (1024 = 1 vCPU). @default 1024 */
  workerCpu?: number | undefined;
  /** MiB; must be a Fargate size for `workerCpu`. @default 2048 */
  workerMemory?: number | undefined;
  /** @default 'ARM64' */
  cpuArchitecture?: CpuArchitecture | undefined;
  /** Full ARN of the secret holding the PostgreSQL URL, injected as DATABASE_URL. */
  databaseUrlSecretArn: string;
  /** Key of a JSON secret holding the URL. @default undefined (the secret string is the URL) */
  databaseUrlSecretJsonKey?: string | undefined;
  /** Customer managed KMS key of that secret. @default undefined (AWS managed key) */
  databaseSecretKmsKeyArn?: string | undefined;
  /** Jobs one task runs at once (WORKER_CONCURRENCY). @default the worker's (2) */
  workerConcurrency?: number | undefined;
  /** Seconds between visibility extensions; at most half the queue's visibility timeout. @default the worker's (60) */
  heartbeatIntervalSeconds?: number | undefined;
  /** Longest a job may run before it is abandoned. @default the worker's (3600) */
  jobTimeoutSeconds?: number | undefined;
  /** Seconds the worker drains after SIGTERM; leaves at least 10 s of the 120 s stopTimeout. @default the worker's (90) */
  shutdownTimeoutSeconds?: number | undefined;
  /** TLS mode towards PostgreSQL. @default the worker's ('verify-full') */
  databaseSsl?: DatabaseSsl | undefined;
  /** @default the worker's (3) */
  databasePoolSize?: number | undefined;
  /** @default the worker's ('info') */
  logLevel?: string | undefined;
  /** Worker and backend log groups. @default 7 */
  logRetentionDays?: number | undefined;
}

export type ResolvedWorkerSettings = Required<
  Omit<WorkerSettings, 'databaseUrlSecretJsonKey' | 'databaseSecretKmsKeyArn'>
> &
  Pick<WorkerSettings, 'databaseUrlSecretJsonKey' | 'databaseSecretKmsKeyArn'>;

/** The worker settings with every default applied (the only place they are). */
export function resolveWorkerSettings(s: WorkerSettings, environment: string): ResolvedWorkerSettings {
  const named = (base: string) => environmentName(base, environment);
  return {
    ...withDefaults(
      {
        clusterName: named('retainwise-cluster'),
        workerServiceName: named('retainwise-worker'),
        workerRepositoryName: named('retainwise-worker'),
        executionRoleName: named('retainwise-ecs-task-execution-role'),
        // 256 CPU / 512 MiB (the existing size) is too small for onnxruntime plus two concurrent CSV streams.
        workerCpu: 1024,
        workerMemory: 2048,
        // Graviton Fargate is about 20 % cheaper per vCPU-hour and onnxruntime-node ships arm64 binaries.
        cpuArchitecture: 'ARM64',
        // The worker's own defaults: an unset setting means what an unset variable means.
        workerConcurrency: workerEnvDefault('WORKER_CONCURRENCY'),
        heartbeatIntervalSeconds: workerEnvDefault('HEARTBEAT_INTERVAL_SECONDS'),
        jobTimeoutSeconds: workerEnvDefault('JOB_TIMEOUT_SECONDS'),
        shutdownTimeoutSeconds: workerEnvDefault('SHUTDOWN_TIMEOUT_SECONDS'),
        databaseSsl: workerEnvDefault('DATABASE_SSL'),
        databasePoolSize: workerEnvDefault('DATABASE_POOL_SIZE'),
        logLevel: workerEnvDefault('LOG_LEVEL'),
        logRetentionDays: 7,
      },
      pick(s, [
        'clusterName',
        'workerServiceName',
        'workerRepositoryName',
        'executionRoleName',
        'workerCpu',
        'workerMemory',
        'cpuArchitecture',
        'workerConcurrency',
        'heartbeatIntervalSeconds',
        'jobTimeoutSeconds',
        'shutdownTimeoutSeconds',
        'databaseSsl',
        'databasePoolSize',
        'logLevel',
        'logRetentionDays',
      ]),
    ),
    databaseUrlSecretArn: s.databaseUrlSecretArn,
    databaseUrlSecretJsonKey: s.databaseUrlSecretJsonKey,
    databaseSecretKmsKeyArn: s.databaseSecretKmsKeyArn,
  };
}

/** The worker variable each worker setting becomes (contracts.md §D). */
const WORKER_VARIABLES = {
  workerConcurrency: 'WORKER_CONCURRENCY',
  heartbeatIntervalSeconds: 'HEARTBEAT_INTERVAL_SECONDS',
  jobTimeoutSeconds: 'JOB_TIMEOUT_SECONDS',
  shutdownTimeoutSeconds: 'SHUTDOWN_TIMEOUT_SECONDS',
  databaseSsl: 'DATABASE_SSL',
  databasePoolSize: 'DATABASE_POOL_SIZE',
  logLevel: 'LOG_LEVEL',
} as const;

/** The queue settings the worker repeats, so that it polls and gives up the way the queue does. */
const QUEUE_VARIABLES = {
  receiveWaitTimeSeconds: 'SQS_WAIT_TIME_SECONDS',
  visibilityTimeoutSeconds: 'SQS_VISIBILITY_TIMEOUT_SECONDS',
  // Must equal the redrive policy's, so the worker knows which receive is the last (lessons #2).
  maxReceiveCount: 'MAX_RECEIVE_COUNT',
  // As long as the queue keeps messages: a backlog is never rejected as "too old" (lessons #8).
  messageRetentionSeconds: 'MESSAGE_MAX_AGE_SECONDS',
} as const;

type WorkerVariableSettings = { [K in keyof typeof WORKER_VARIABLES]: number | string };
type QueueVariableSettings = { [K in keyof typeof QUEUE_VARIABLES]: number };

function variables(
  names: Record<string, EnvName>,
  settings: Record<string, number | string>,
): [key: string, variable: EnvName, value: string][] {
  return Object.entries(names).map(([key, variable]) => [key, variable, String(settings[key])]);
}

export function validateWorkerSettings(
  s: ResolvedWorkerSettings,
  queue: Pick<ResolvedQueueSettings, keyof typeof QUEUE_VARIABLES>,
): Issue[] {
  return [
    ...fargateSizeIssues(s.workerCpu, s.workerMemory, { cpu: 'workerCpu', memory: 'workerMemory' }),
    ...check(
      [
        inRange(s.heartbeatIntervalSeconds, 5, Math.floor(queue.visibilityTimeoutSeconds / 2)),
        {
          heartbeatIntervalSeconds: `must be 5-${Math.floor(queue.visibilityTimeoutSeconds / 2)}: at most half of the visibility timeout (${queue.visibilityTimeoutSeconds} s), so one late heartbeat does not let the message reappear`,
          visibilityTimeoutSeconds: `must be at least twice the heartbeat interval (${s.heartbeatIntervalSeconds} s), so one late heartbeat does not let the message reappear`,
        },
      ],
      [inRange(s.jobTimeoutSeconds, 60, 43_200), 'jobTimeoutSeconds', 'must be 60-43200'],
      [
        inRange(s.shutdownTimeoutSeconds, 1, MAX_STOP_TIMEOUT_SECONDS - 10),
        'shutdownTimeoutSeconds',
        `must be 1-${MAX_STOP_TIMEOUT_SECONDS - 10}: the task's stopTimeout is ${MAX_STOP_TIMEOUT_SECONDS} s and the process needs time to exit`,
      ],
    ),
    // The worker's own schema bounds every variable it is given: what it would refuse at start is refused here.
    ...[...variables(WORKER_VARIABLES, s), ...variables(QUEUE_VARIABLES, queue)].flatMap(
      ([key, variable, value]) => {
        const problem = workerEnvProblem(variable, value);
        return problem ? [{ key, message: `${problem} (the worker's ${variable})` }] : [];
      },
    ),
  ];
}

/** The worker's environment (contracts.md §D): everything it needs that is not a secret. */
export function workerEnvironment(a: {
  queueUrl: pulumi.Input<string>;
  dlqUrl: pulumi.Input<string>;
  bucketName: pulumi.Input<string>;
  region: string;
  environment: string;
  queue: QueueVariableSettings;
  worker: WorkerVariableSettings;
}): Record<string, pulumi.Input<string>> {
  return {
    PREDICTIONS_QUEUE_URL: a.queueUrl,
    PREDICTIONS_DLQ_URL: a.dlqUrl,
    S3_BUCKET: a.bucketName,
    AWS_REGION: a.region,
    ENVIRONMENT: a.environment,
    ...Object.fromEntries(
      [...variables(WORKER_VARIABLES, a.worker), ...variables(QUEUE_VARIABLES, a.queue)].map(
        ([, variable, value]) => [variable, value],
      ),
    ),
    METRICS_NAMESPACE: WORKER_METRICS_NAMESPACE,
  };
}
