// The worker: its ECR repository and image (built from worker/), the ECS cluster, and the Fargate service whose
// environment is exactly the worker's contract (contracts.md §D, worker/src/config.ts).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { ContainerSecret } from './container-definition.js';
import { MAX_STOP_TIMEOUT_SECONDS } from './fargate-limits.js';
import { FargateService } from './fargate-service.js';
import type { Network } from './network.js';
import type { PredictionQueues } from './prediction-queues.js';
import type { TaskRoles } from './task-roles.js';
import { assertValid } from './validation.js';
import {
  BUILD_CACHE_TAG_PREFIX,
  buildAndPush,
  ecrLifecyclePolicy,
  workerImageBuild,
  type PushedImage,
} from './worker-image.js';
import {
  resolveWorkerSettings,
  validateWorkerSettings,
  workerEnvironment,
  type ResolvedWorkerSettings,
  type WorkerSettings,
} from './worker-settings.js';

/** The `node` user of the official Node.js images: the worker never runs as root. */
export const WORKER_CONTAINER_USER = '1000:1000';
/** Relative to the image's working directory (the worker package). */
export const WORKER_HEALTHCHECK = ['node', 'dist/src/healthcheck.js'];

export interface WorkerServiceArgs extends WorkerSettings {
  /** Sets ENVIRONMENT, which is also the metrics' only dimension. */
  environment: string;
  queues: PredictionQueues;
  /** The worker task role and what grants it its permissions. */
  taskRoles: TaskRoles;
  /** Private subnets and the tasks' security group. */
  network: Network;
  bucketName: pulumi.Input<string>;
  /** Initial task count; autoscaling owns it afterwards. @default 0 */
  desiredCount?: number;
  /**
   * What the worker repository already holds (see {@link pushedImages}): a build whose tag is among them is run
   * from ECR instead of being built and pushed again, which an immutable tag would refuse.
   */
  pushedImages: PushedImage[];
  /** Release images kept in ECR: the rollback window. @default 30 */
  imagesToKeep?: number;
  /** Docker build context, relative to the repository root (the Pulumi project directory). @default '.' */
  buildContext?: string;
  /** Relative to the repository root. @default 'worker/Dockerfile' */
  dockerfile?: string;
  region: string;
  accountId: pulumi.Input<string>;
}

export class WorkerService extends pulumi.ComponentResource {
  readonly settings: ResolvedWorkerSettings;
  readonly queues: PredictionQueues;
  readonly cluster: aws.ecs.Cluster;
  readonly repository: aws.ecr.Repository;
  /** `<repository URL>@sha256:<digest>` of the pushed build. */
  readonly imageUri: pulumi.Output<string>;
  /** The release tag of this build (see imageTag). */
  readonly imageTag: string;
  readonly fargate: FargateService;
  /** The PostgreSQL URL, injected as DATABASE_URL: the backend API reads the same secret. */
  readonly databaseUrlSecret: ContainerSecret;
  readonly secretKmsKeyArns: string[];

  constructor(name: string, args: WorkerServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = resolveWorkerSettings(args, args.environment);
    assertValid(`WorkerService '${name}' arguments`, validateWorkerSettings(s, args.queues.settings));
    super('retainwise:worker:WorkerService', name, {}, opts);
    const parent = { parent: this };
    this.settings = s;
    this.queues = args.queues;
    this.databaseUrlSecret = {
      name: 'DATABASE_URL',
      secretArn: s.databaseUrlSecretArn,
      jsonKey: s.databaseUrlSecretJsonKey,
    };
    this.secretKmsKeyArns = s.databaseSecretKmsKeyArn ? [s.databaseSecretKmsKeyArn] : [];

    this.cluster = new aws.ecs.Cluster(
      `${name}-cluster`,
      // Container Insights publishes RunningTaskCount/DesiredTaskCount, which scaling and alarms read.
      { name: s.clusterName, settings: [{ name: 'containerInsights', value: 'enabled' }] },
      parent,
    );
    this.repository = new aws.ecr.Repository(
      `${name}-repository`,
      {
        name: s.workerRepositoryName,
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
      { repository: this.repository.name, policy: ecrLifecyclePolicy(args.imagesToKeep ?? 30) },
      parent,
    );
    const build = workerImageBuild({
      buildContext: args.buildContext ?? '.',
      dockerfile: args.dockerfile ?? 'worker/Dockerfile',
      cpuArchitecture: s.cpuArchitecture,
    });
    this.imageTag = build.tag;
    this.imageUri = buildAndPush(name, this.repository, build, args.pushedImages, this);

    this.fargate = new FargateService(
      `${name}`,
      {
        cluster: this.cluster,
        serviceName: s.workerServiceName,
        containerName: 'worker',
        image: this.imageUri,
        repositoryArn: this.repository.arn,
        cpu: s.workerCpu,
        memory: s.workerMemory,
        cpuArchitecture: s.cpuArchitecture,
        taskRole: args.taskRoles.workerTaskRole,
        taskRoleGrants: [args.taskRoles],
        executionRoleName: s.executionRoleName,
        environment: workerEnvironment({
          queueUrl: args.queues.queue.url,
          dlqUrl: args.queues.deadLetterQueue.url,
          bucketName: args.bucketName,
          region: args.region,
          environment: args.environment,
          queue: args.queues.settings,
          worker: s,
        }),
        secrets: [this.databaseUrlSecret],
        secretKmsKeyArns: this.secretKmsKeyArns,
        logGroupName: `/ecs/${s.workerServiceName}`,
        logRetentionDays: s.logRetentionDays,
        subnetIds: args.network.privateSubnetIds,
        securityGroupIds: [args.network.tasksSecurityGroup.id],
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
}
