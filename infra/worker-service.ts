// The worker: its ECR repository and image (built from worker/), the ECS cluster, and the Fargate service whose
// environment is exactly the worker's contract (contracts.md §D, worker/src/config.ts).
import path from 'node:path';
import * as aws from '@pulumi/aws';
import * as dockerBuild from '@pulumi/docker-build';
import * as pulumi from '@pulumi/pulumi';
import {
  FargateService,
  fargateSizeIssues,
  MAX_STOP_TIMEOUT_SECONDS,
  type ContainerSecret,
  type CpuArchitecture,
} from './fargate-service.js';
import { workerEnvDefault, workerEnvProblem, type EnvName } from '../worker/src/config.js';
import { imageTag } from './image-tag.js';
import type { PredictionQueues } from './prediction-queues.js';
import { assertValid, check, inRange, withDefaults, type Issue } from './validation.js';

export type { CpuArchitecture } from './fargate-service.js';
export type DatabaseSsl = 'verify-full' | 'require' | 'disable';

/** The metric namespace the worker emits to and the alarms read (contracts.md §E). */
export const WORKER_METRICS_NAMESPACE = 'RetainWise/Worker';
/** The `node` user of the official Node.js images: the worker never runs as root. */
export const WORKER_CONTAINER_USER = '1000:1000';
/** Relative to the image's working directory (the worker package). */
export const WORKER_HEALTHCHECK = ['node', 'dist/src/healthcheck.js'];
/** The repository root: the Pulumi project directory and the worker image's build context. */
const REPOSITORY_ROOT = path.resolve(import.meta.dirname, '..');
/** The one tag that is pushed again on every build (BuildKit's registry cache): excluded from immutability. */
const BUILD_CACHE_TAG_PREFIX = 'buildcache-';
/** Release tags (see imageTag): immutable, and what the lifecycle policy counts. */
const RELEASE_TAG_PREFIX = 'src-';

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
  // The worker's own defaults (worker/src/config.ts): an unset setting means what an unset variable means.
  workerConcurrency: workerEnvDefault('WORKER_CONCURRENCY'),
  heartbeatIntervalSeconds: workerEnvDefault('HEARTBEAT_INTERVAL_SECONDS'),
  jobTimeoutSeconds: workerEnvDefault('JOB_TIMEOUT_SECONDS'),
  shutdownTimeoutSeconds: workerEnvDefault('SHUTDOWN_TIMEOUT_SECONDS'),
  databaseSsl: workerEnvDefault('DATABASE_SSL'),
  databasePoolSize: workerEnvDefault('DATABASE_POOL_SIZE'),
  logLevel: workerEnvDefault('LOG_LEVEL') as string,
  logRetentionDays: 7,
  /** Release images kept in ECR: the rollback window. */
  imagesToKeep: 30,
  buildContext: '.',
  dockerfile: 'worker/Dockerfile',
};

/** An image ECR holds: `ListImages` of the worker repository (aws.ecr.getImages). */
export interface PushedImage {
  imageTag?: string | undefined;
  imageDigest?: string | undefined;
}

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
  /**
   * What the worker repository already holds (see {@link pushedImages}): a build whose tag is among them is run
   * from ECR instead of being built and pushed again, which an immutable tag would refuse.
   */
  pushedImages: PushedImage[];
  /** Docker build context, relative to the repository root (the Pulumi project directory). @default '.' */
  buildContext?: string;
  /** Relative to the repository root. @default 'worker/Dockerfile' */
  dockerfile?: string;
  region: string;
  accountId: pulumi.Input<string>;
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
  s: Required<Omit<WorkerSettings, 'executionRoleName'>> & QueueVariableSettings,
): Issue[] {
  return [
    ...fargateSizeIssues(s.cpu, s.memory),
    ...check(
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
    ),
    // The worker's own schema bounds every variable it is given: what it would refuse at start is refused here.
    ...[...variables(WORKER_VARIABLES, s), ...variables(QUEUE_VARIABLES, s)].flatMap(
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

/**
 * The images in the worker repository, looked up before the build is planned. A repository that does not exist yet
 * (the first preview) holds none; any other failure (permissions, throttling) stops the run.
 */
export async function pushedImages(repositoryName: string): Promise<PushedImage[]> {
  try {
    return (await aws.ecr.getImages({ repositoryName })).imageIds;
  } catch (error) {
    if (/RepositoryNotFoundException/.test(String(error))) return [];
    throw error;
  }
}

/**
 * ECR lifecycle: untagged leftovers (superseded build-cache manifests, failed pushes) go after a week; the newest
 * release images are kept as rollback targets. It is the only thing that ever removes a pushed image.
 */
export function ecrLifecyclePolicy(imagesToKeep: number): string {
  return JSON.stringify({
    rules: [
      {
        rulePriority: 1,
        description: 'Expire untagged images (superseded build caches, failed pushes) after 7 days',
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
        description: `Keep the ${imagesToKeep} newest release images`,
        selection: {
          tagStatus: 'tagged',
          tagPrefixList: [RELEASE_TAG_PREFIX],
          countType: 'imageCountMoreThan',
          countNumber: imagesToKeep,
        },
        action: { type: 'expire' },
      },
    ],
  });
}

export const dockerPlatform = (architecture: CpuArchitecture): dockerBuild.Platform =>
  architecture === 'ARM64' ? 'linux/arm64' : 'linux/amd64';

interface WorkerImageBuild {
  /** Absolute paths. */
  context: string;
  dockerfile: string;
  platform: dockerBuild.Platform;
  cacheTag: string;
  /** `src-<hash of all the above and the context's files>-<cpu>`. */
  tag: string;
}

function workerImageBuild(s: {
  buildContext: string;
  dockerfile: string;
  cpuArchitecture: CpuArchitecture;
}): WorkerImageBuild {
  const arch = s.cpuArchitecture.toLowerCase();
  const context = path.resolve(REPOSITORY_ROOT, s.buildContext);
  const dockerfile = path.resolve(REPOSITORY_ROOT, s.dockerfile);
  const platform = dockerPlatform(s.cpuArchitecture);
  const cacheTag = `${BUILD_CACHE_TAG_PREFIX}${arch}`;
  const tag = `${imageTag({ context, dockerfile, settings: { platform, cacheTag } })}-${arch}`;
  return { context, dockerfile, platform, cacheTag, tag };
}

export class WorkerService extends pulumi.ComponentResource {
  readonly cluster: aws.ecs.Cluster;
  readonly repository: aws.ecr.Repository;
  /** `<repository URL>@sha256:<digest>` of the pushed build. */
  readonly imageUri: pulumi.Output<string>;
  /** The release tag of this build (see imageTag). */
  readonly imageTag: string;
  readonly fargate: FargateService;

  constructor(name: string, args: WorkerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = withDefaults(WORKER_DEFAULTS, args);
    const queueSettings = args.queues.settings;
    assertValid(`WorkerService '${name}' arguments`, validateWorkerSettings({ ...s, ...queueSettings }));
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
        // Release tags never move; only BuildKit's cache tag, which nothing runs, is rewritten by every build.
        imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
        imageTagMutabilityExclusionFilters: [
          { filter: `${BUILD_CACHE_TAG_PREFIX}*`, filterType: 'WILDCARD' },
        ],
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
    const build = workerImageBuild(s);
    this.imageTag = build.tag;
    this.imageUri = this.buildAndPush(name, build, args.pushedImages);

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
        // An old task stays until its job ends (scale-in protection for up to JOB_TIMEOUT_SECONDS), then drains
        // for the stopTimeout; 10 minutes more for the new tasks' image pull and health check start period.
        deploymentTimeoutMinutes: Math.ceil((s.jobTimeoutSeconds + MAX_STOP_TIMEOUT_SECONDS) / 60) + 10,
        region: args.region,
        accountId: args.accountId,
      },
      parent,
    );
    this.registerOutputs({
      imageTag: this.imageTag,
      imageUri: this.imageUri,
      serviceName: this.fargate.service.name,
      clusterName: this.cluster.name,
    });
  }

  /**
   * Builds and pushes the worker image, or runs the one ECR already holds for the same build. docker-build
   * directly, not awsx.ecr.Image: awsx names its docker-build child after the tag, so every new tag deleted the
   * previous child, and docker-build's Delete removes the pushed manifests (pulumi-docker-build
   * provider/internal/image.go Delete) that a rollback, or the deployment circuit breaker, would pull.
   */
  private buildAndPush(name: string, build: WorkerImageBuild, pushed: PushedImage[]): pulumi.Output<string> {
    const { tag, context, dockerfile, platform, cacheTag } = build;
    const repositoryUrl = this.repository.repositoryUrl;
    const existing = pushed.find((p) => p.imageTag === tag)?.imageDigest;
    if (existing) return pulumi.interpolate`${repositoryUrl}@${existing}`;

    const token = aws.ecr.getAuthorizationTokenOutput(
      { registryId: this.repository.registryId },
      { parent: this },
    );
    const cache = pulumi.interpolate`${repositoryUrl}:${cacheTag}`;
    const image = new dockerBuild.Image(
      `${name}-image`,
      {
        tags: [pulumi.interpolate`${repositoryUrl}:${tag}`],
        push: true,
        // Previews need no Docker, no QEMU and no registry write; `pulumi up` builds.
        buildOnPreview: false,
        platforms: [platform],
        // Relative to the working directory the engine gives the program and the provider (Pulumi.yaml's main),
        // where docker-build resolves them; relative, so that a laptop and CI pass the same inputs.
        context: { location: path.relative(process.cwd(), context) || '.' },
        dockerfile: { location: path.relative(process.cwd(), dockerfile) },
        // ECR's BuildKit cache support needs the image-manifest form with OCI media types
        // (https://aws.amazon.com/blogs/containers/announcing-remote-cache-support-in-amazon-ecr-for-buildkit-clients/).
        cacheFrom: [{ registry: { ref: cache } }],
        cacheTo: [{ registry: { ref: cache, mode: 'max', imageManifest: true, ociMediaTypes: true } }],
        registries: [
          {
            address: repositoryUrl.apply((url) => url.split('/')[0] ?? url),
            username: token.userName,
            password: pulumi.secret(token.password),
          },
        ],
      },
      { parent: this, retainOnDelete: true },
    );
    return pulumi.interpolate`${repositoryUrl}@${image.digest}`;
  }
}
