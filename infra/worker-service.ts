// The worker: its ECR repository and image (built from worker/), the ECS cluster, and the Fargate service whose
// environment is exactly the worker's contract (contracts.md §D, worker/src/config.ts).
import * as aws from '@pulumi/aws';
import * as awsx from '@pulumi/awsx';
import * as pulumi from '@pulumi/pulumi';
import {
  FargateService,
  fargateSizeIssues,
  MAX_STOP_TIMEOUT_SECONDS,
  type ContainerSecret,
  type CpuArchitecture,
} from './fargate-service.js';
import type { PredictionQueues } from './queues.js';
import { assertValid, check, inRange, withDefaults, type Issue } from './validation.js';

export type { CpuArchitecture } from './fargate-service.js';
export type DatabaseSsl = 'verify-full' | 'require' | 'disable';

/** The metric namespace the worker emits to and the alarms read (contracts.md §E). */
export const WORKER_METRICS_NAMESPACE = 'RetainWise/Worker';
/** The `node` user of the official Node.js images: the worker never runs as root. */
export const WORKER_CONTAINER_USER = '1000:1000';
/** Relative to the image's working directory (the worker package). */
export const WORKER_HEALTHCHECK = ['node', 'dist/src/healthcheck.js'];

export const WORKER_DEFAULTS = {
  clusterName: 'retainwise-cluster',
  serviceName: 'retainwise-worker',
  repositoryName: 'retainwise-worker',
  executionRoleName: 'retainwise-ecs-task-execution-role',
  // 256 CPU / 512 MiB (the existing size) is too small for onnxruntime plus two concurrent CSV streams.
  cpu: 1024,
  memory: 2048,
  // Graviton Fargate is about 20 % cheaper per vCPU-hour and onnxruntime-node ships arm64 binaries.
  cpuArchitecture: 'ARM64' as CpuArchitecture,
  workerConcurrency: 2,
  heartbeatIntervalSeconds: 60,
  jobTimeoutSeconds: 3600,
  shutdownTimeoutSeconds: 90,
  databaseSsl: 'verify-full' as DatabaseSsl,
  databasePoolSize: 3,
  logLevel: 'info',
  logRetentionDays: 7,
  /** Tagged images kept in ECR: the rollback window. */
  imagesToKeep: 30,
  buildContext: '.',
  dockerfile: 'worker/Dockerfile',
};

export interface WorkerSettings {
  /** @default 'retainwise-cluster' */
  clusterName?: string;
  /** Service name and task definition family. @default 'retainwise-worker' */
  serviceName?: string;
  /** The worker's own ECR repository (not the API's `retainwise-backend`). @default 'retainwise-worker' */
  repositoryName?: string;
  /** @default 'retainwise-ecs-task-execution-role' */
  executionRoleName?: string;
  /** CPU units (1024 = 1 vCPU). @default 1024 */
  cpu?: number;
  /** MiB; must be a Fargate size for `cpu`. @default 2048 */
  memory?: number;
  /** @default 'ARM64' */
  cpuArchitecture?: CpuArchitecture;
  /** Jobs one task runs at once (WORKER_CONCURRENCY). @default 2 */
  workerConcurrency?: number;
  /** Seconds between visibility extensions; at most half the queue's visibility timeout. @default 60 */
  heartbeatIntervalSeconds?: number;
  /** Longest a job may run before it is abandoned. @default 3600 */
  jobTimeoutSeconds?: number;
  /** Seconds the worker drains after SIGTERM; leaves at least 10 s of the 120 s stopTimeout. @default 90 */
  shutdownTimeoutSeconds?: number;
  /** TLS mode towards PostgreSQL. @default 'verify-full' */
  databaseSsl?: DatabaseSsl;
  /** @default 3 */
  databasePoolSize?: number;
  /** @default 'info' */
  logLevel?: string;
  /** @default 7 */
  logRetentionDays?: number;
}

export interface WorkerServiceArgs extends WorkerSettings {
  /** Full ARN of the secret holding the PostgreSQL URL, injected as DATABASE_URL. */
  databaseUrlSecretArn: string;
  /** Key of a JSON secret holding the URL. @default undefined (the secret string is the URL) */
  databaseUrlSecretJsonKey?: string | undefined;
  /** Customer managed KMS key of that secret. @default undefined (AWS managed key) */
  databaseSecretKmsKeyArn?: string | undefined;
  queues: PredictionQueues;
  taskRole: aws.iam.Role;
  /** What grants the task role its permissions (e.g. the TaskRoles component). @default [] */
  taskRoleGrants?: pulumi.Resource[];
  bucketName: pulumi.Input<string>;
  /** Sets ENVIRONMENT, which is also the metrics' only dimension. */
  environment: string;
  subnetIds: pulumi.Input<string[]>;
  securityGroupIds: pulumi.Input<string>[];
  /** Initial task count; autoscaling owns it afterwards. @default 0 */
  desiredCount?: number;
  /** Tag of the image build (immutable in ECR): see workerImageTag(). */
  imageTag: string;
  /** Docker build context, relative to the Pulumi project directory. @default '.' */
  buildContext?: string;
  /** @default 'worker/Dockerfile' */
  dockerfile?: string;
  region: string;
  accountId: pulumi.Input<string>;
}

export function validateWorkerSettings(
  s: Required<Omit<WorkerSettings, 'executionRoleName'>> & { visibilityTimeoutSeconds: number },
): Issue[] {
  return [
    ...fargateSizeIssues(s.cpu, s.memory),
    ...check(
      [inRange(s.workerConcurrency, 1, 16), 'workerConcurrency', 'must be 1-16'],
      [
        inRange(s.heartbeatIntervalSeconds, 5, Math.floor(s.visibilityTimeoutSeconds / 2)),
        'heartbeatIntervalSeconds',
        `must be 5-${Math.floor(s.visibilityTimeoutSeconds / 2)}: at most half of visibilityTimeoutSeconds (${s.visibilityTimeoutSeconds}), so one late heartbeat does not let the message reappear`,
      ],
      [inRange(s.jobTimeoutSeconds, 60, 43_200), 'jobTimeoutSeconds', 'must be 60-43200'],
      [
        inRange(s.shutdownTimeoutSeconds, 1, MAX_STOP_TIMEOUT_SECONDS - 10),
        'shutdownTimeoutSeconds',
        `must be 1-${MAX_STOP_TIMEOUT_SECONDS - 10}: the task's stopTimeout is ${MAX_STOP_TIMEOUT_SECONDS} s and the process needs time to exit`,
      ],
      [inRange(s.databasePoolSize, 1, 20), 'databasePoolSize', 'must be 1-20'],
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
  queue: {
    receiveWaitTimeSeconds: number;
    visibilityTimeoutSeconds: number;
    maxReceiveCount: number;
    messageRetentionSeconds: number;
  };
  worker: Required<
    Pick<
      WorkerSettings,
      | 'workerConcurrency'
      | 'heartbeatIntervalSeconds'
      | 'jobTimeoutSeconds'
      | 'shutdownTimeoutSeconds'
      | 'databaseSsl'
      | 'databasePoolSize'
      | 'logLevel'
    >
  >;
}): Record<string, pulumi.Input<string>> {
  return {
    PREDICTIONS_QUEUE_URL: a.queueUrl,
    PREDICTIONS_DLQ_URL: a.dlqUrl,
    S3_BUCKET: a.bucketName,
    AWS_REGION: a.region,
    ENVIRONMENT: a.environment,
    WORKER_CONCURRENCY: String(a.worker.workerConcurrency),
    SQS_WAIT_TIME_SECONDS: String(a.queue.receiveWaitTimeSeconds),
    SQS_VISIBILITY_TIMEOUT_SECONDS: String(a.queue.visibilityTimeoutSeconds),
    HEARTBEAT_INTERVAL_SECONDS: String(a.worker.heartbeatIntervalSeconds),
    // Must equal the redrive policy's, so the worker knows which receive is the last (lessons #2).
    MAX_RECEIVE_COUNT: String(a.queue.maxReceiveCount),
    // As long as the queue keeps messages: a backlog is never rejected as "too old" (lessons #8).
    MESSAGE_MAX_AGE_SECONDS: String(a.queue.messageRetentionSeconds),
    JOB_TIMEOUT_SECONDS: String(a.worker.jobTimeoutSeconds),
    SHUTDOWN_TIMEOUT_SECONDS: String(a.worker.shutdownTimeoutSeconds),
    DATABASE_SSL: a.worker.databaseSsl,
    DATABASE_POOL_SIZE: String(a.worker.databasePoolSize),
    LOG_LEVEL: a.worker.logLevel,
    METRICS_NAMESPACE: WORKER_METRICS_NAMESPACE,
  };
}

/** ECR lifecycle: drop untagged leftovers after a week, keep the newest tagged images as rollback targets. */
export function ecrLifecyclePolicy(imagesToKeep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: 'Expire untagged images (failed or superseded pushes) after 7 days',
        selection: {
          tagStatus: 'untagged',
          countType: 'sinceImagePushed',
          countUnit: 'days',
          countNumber: 7,
        },
        action: { type: 'expire' },
      },
      {
        rulePriority: 2,
        description: `Keep the ${imagesToKeep} newest images`,
        selection: { tagStatus: 'any', countType: 'imageCountMoreThan', countNumber: imagesToKeep },
        action: { type: 'expire' },
      },
    ],
  });
}

export const dockerPlatform = (architecture: CpuArchitecture): string =>
  architecture === 'ARM64' ? 'linux/arm64' : 'linux/amd64';

export class WorkerService extends pulumi.ComponentResource {
  readonly cluster: aws.ecs.Cluster;
  readonly repository: aws.ecr.Repository;
  /** `<repository URL>@sha256:<digest>` of the pushed build. */
  readonly imageUri: pulumi.Output<string>;
  readonly fargate: FargateService;

  constructor(name: string, args: WorkerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = withDefaults(WORKER_DEFAULTS, args);
    const queueSettings = args.queues.settings;
    assertValid(
      `WorkerService '${name}' arguments`,
      validateWorkerSettings({ ...s, visibilityTimeoutSeconds: queueSettings.visibilityTimeoutSeconds }),
    );
    super('retainwise:worker:WorkerService', name, {}, opts);
    const parent = { parent: this };

    this.cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      // Container Insights publishes RunningTaskCount/DesiredTaskCount, which scaling and alarms read.
      { name: s.clusterName, settings: [{ name: 'containerInsights', value: 'enabled' }] },
      parent,
    );
    this.repository = new aws.ecr.Repository(
      `${name}-repository`,
      {
        name: s.repositoryName,
        imageTagMutability: 'IMMUTABLE',
        imageScanningConfiguration: { scanOnPush: true },
        encryptionConfigurations: [{ encryptionType: 'AES256' }],
      },
      parent,
    );
    new aws.ecr.LifecyclePolicy(
      `${name}-repository-lifecycle`,
      { repository: this.repository.name, policy: ecrLifecyclePolicy(s.imagesToKeep) },
      parent,
    );
    const image = new awsx.ecr.Image(
      `${name}-image`,
      {
        repositoryUrl: this.repository.repositoryUrl,
        context: s.buildContext,
        dockerfile: s.dockerfile,
        platform: dockerPlatform(s.cpuArchitecture),
        imageTag: args.imageTag,
      },
      parent,
    );
    this.imageUri = image.imageUri;

    const secrets: ContainerSecret[] = [
      { name: 'DATABASE_URL', secretArn: args.databaseUrlSecretArn, jsonKey: args.databaseUrlSecretJsonKey },
    ];
    this.fargate = new FargateService(
      `${name}`,
      {
        cluster: this.cluster,
        serviceName: s.serviceName,
        containerName: 'worker',
        image: this.imageUri,
        repositoryArn: this.repository.arn,
        cpu: s.cpu,
        memory: s.memory,
        cpuArchitecture: s.cpuArchitecture,
        taskRole: args.taskRole,
        taskRoleGrants: args.taskRoleGrants ?? [],
        executionRoleName: s.executionRoleName,
        environment: workerEnvironment({
          queueUrl: args.queues.queue.url,
          dlqUrl: args.queues.deadLetterQueue.url,
          bucketName: args.bucketName,
          region: args.region,
          environment: args.environment,
          queue: queueSettings,
          worker: s,
        }),
        secrets,
        secretKmsKeyArns: args.databaseSecretKmsKeyArn ? [args.databaseSecretKmsKeyArn] : [],
        logGroupName: `/ecs/${s.serviceName}`,
        logRetentionDays: s.logRetentionDays,
        subnetIds: args.subnetIds,
        securityGroupIds: args.securityGroupIds,
        desiredCount: args.desiredCount ?? 0,
        autoscaled: true,
        readonlyRootFilesystem: true,
        user: WORKER_CONTAINER_USER,
        healthCheckCommand: WORKER_HEALTHCHECK,
        stopTimeoutSeconds: MAX_STOP_TIMEOUT_SECONDS,
        region: args.region,
        accountId: args.accountId,
      },
      parent,
    );
    this.registerOutputs({
      imageUri: this.imageUri,
      serviceName: this.fargate.service.name,
      clusterName: this.cluster.name,
    });
  }
}
