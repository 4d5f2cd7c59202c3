// One Fargate service with its task definition, log group and execution role: what the worker and the backend
// API have in common. Hardened by default (read-only root file system, all capabilities dropped, private
// subnets without public IP, deployment circuit breaker with rollback, wait for a steady state).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { containerDefinition, SCRATCH_VOLUME, type ContainerSecret } from './container-definition.js';
import { fargateSizeIssues, MAX_STOP_TIMEOUT_SECONDS } from './fargate-limits.js';
import { ECS_TASKS_SERVICE, executionPolicy } from './task-roles.js';
import { policyJson, serviceRole } from './policy.js';
import { assertValid, check, inRange } from './validation.js';

export type CpuArchitecture = 'ARM64' | 'X86_64';

export interface LoadBalancerAttachment {
  targetGroupArn: string;
  containerPort: number;
  /** Seconds ECS ignores failing load balancer health checks after a task starts. */
  healthCheckGracePeriodSeconds: number;
}

export interface FargateServiceArgs {
  cluster: aws.ecs.Cluster;
  /** Service name and task definition family. */
  serviceName: string;
  containerName: string;
  /** Image reference; pin it by digest so every deploy registers a revision that really changes (lessons #37). */
  image: pulumi.Input<string>;
  /** The ECR repository `image` lives in; the execution role may pull from it only. */
  repositoryArn: pulumi.Input<string>;
  cpu: number;
  memory: number;
  cpuArchitecture: CpuArchitecture;
  taskRole: aws.iam.Role;
  /** What grants the task role its permissions: no task starts before it exists. @default [] */
  taskRoleGrants?: pulumi.Resource[];
  /** Name of this service's execution role (created here). */
  executionRoleName: string;
  /** Plain environment variables. Never put credentials here: use `secrets`. */
  environment: Record<string, pulumi.Input<string>>;
  /** Variables injected from Secrets Manager at task start (lessons #40). @default [] */
  secrets?: ContainerSecret[];
  /** KMS keys encrypting those secrets, when they are not the AWS managed key. @default [] */
  secretKmsKeyArns?: string[];
  logGroupName: string;
  logRetentionDays: number;
  subnetIds: pulumi.Input<string[]>;
  securityGroupIds: pulumi.Input<string>[];
  /** Tasks to run; with `autoscaled` only the initial value. */
  desiredCount: number;
  /** Application Auto Scaling owns desiredCount after creation, so deployments do not reset it. @default false */
  autoscaled?: boolean;
  /** Mount the root file system read-only, with a writable scratch volume at /tmp. @default true */
  readonlyRootFilesystem?: boolean;
  /** `uid:gid` the container runs as. @default undefined (the image's USER) */
  user?: string | undefined;
  /** Container health check command (exec form, without "CMD"). @default undefined (none) */
  healthCheckCommand?: string[] | undefined;
  /** Seconds between SIGTERM and SIGKILL (at most 120 on Fargate). @default 30 */
  stopTimeoutSeconds?: number;
  /**
   * Minutes `pulumi up` waits for a deployment to reach a steady state (the provider's default is 20). A service
   * whose tasks protect themselves from scale-in while they work needs the longest protected run plus the
   * stopTimeout plus the start of the new tasks. @default 30
   */
  deploymentTimeoutMinutes?: number;
  /** Register the tasks with an existing target group. @default undefined (no load balancer) */
  loadBalancer?: LoadBalancerAttachment | undefined;
  region: string;
  accountId: pulumi.Input<string>;
}

export class FargateService extends pulumi.ComponentResource {
  readonly service: aws.ecs.Service;
  readonly taskDefinition: aws.ecs.TaskDefinition;
  readonly logGroup: aws.cloudwatch.LogGroup;
  readonly executionRole: aws.iam.Role;

  constructor(name: string, args: FargateServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const stopTimeoutSeconds = args.stopTimeoutSeconds ?? 30;
    assertValid(`FargateService '${name}' arguments`, [
      ...fargateSizeIssues(args.cpu, args.memory),
      ...check([
        inRange(stopTimeoutSeconds, 1, MAX_STOP_TIMEOUT_SECONDS),
        'stopTimeoutSeconds',
        `must be 1-${MAX_STOP_TIMEOUT_SECONDS} on Fargate`,
      ]),
    ]);
    super('retainwise:ecs:FargateService', name, {}, opts);
    const parent = { parent: this };
    const readonlyRootFilesystem = args.readonlyRootFilesystem ?? true;
    const secrets = args.secrets ?? [];

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: args.logGroupName, retentionInDays: args.logRetentionDays },
      parent,
    );
    const execution = serviceRole(
      `${name}-execution`,
      {
        roleName: args.executionRoleName,
        description: `ECS starts ${args.serviceName} tasks with this role`,
        service: ECS_TASKS_SERVICE,
        accountId: args.accountId,
        policies: {
          inline: {
            'start-task': policyJson(
              [args.repositoryArn, this.logGroup.arn],
              ([repositoryArn, logGroupArn]) =>
                executionPolicy({
                  repositoryArn,
                  logGroupArn,
                  secretArns: [...new Set(secrets.map((s) => s.secretArn))],
                  secretKmsKeyArns: args.secretKmsKeyArns ?? [],
                  region: args.region,
                }),
            ),
          },
        },
      },
      parent,
    );
    this.executionRole = execution.role;

    this.taskDefinition = new aws.ecs.TaskDefinition(
      `${name}-task`,
      {
        family: args.serviceName,
        requiresCompatibilities: ['FARGATE'],
        networkMode: 'awsvpc',
        cpu: String(args.cpu),
        memory: String(args.memory),
        runtimePlatform: { operatingSystemFamily: 'LINUX', cpuArchitecture: args.cpuArchitecture },
        taskRoleArn: args.taskRole.arn,
        executionRoleArn: this.executionRole.arn,
        volumes: readonlyRootFilesystem ? [{ name: SCRATCH_VOLUME.name }] : [],
        containerDefinitions: pulumi
          .all([args.image, pulumi.output(args.environment)])
          .apply(([image, environment]) =>
            JSON.stringify([
              containerDefinition({
                name: args.containerName,
                image,
                environment,
                secrets,
                logGroupName: args.logGroupName,
                region: args.region,
                readonlyRootFilesystem,
                user: args.user,
                healthCheckCommand: args.healthCheckCommand,
                stopTimeoutSeconds,
                containerPort: args.loadBalancer?.containerPort,
              }),
            ]),
          ),
      },
      parent,
    );

    const lb = args.loadBalancer;
    this.service = new aws.ecs.Service(
      `${name}-service`,
      {
        name: args.serviceName,
        cluster: args.cluster.arn,
        taskDefinition: this.taskDefinition.arn,
        desiredCount: args.desiredCount,
        launchType: 'FARGATE',
        platformVersion: 'LATEST',
        networkConfiguration: {
          subnets: args.subnetIds,
          securityGroups: args.securityGroupIds,
          assignPublicIp: false,
        },
        deploymentCircuitBreaker: { enable: true, rollback: true },
        deploymentMinimumHealthyPercent: 100,
        deploymentMaximumPercent: 200,
        // `pulumi up` returns only once the new revision runs (or has been rolled back): lessons #37.
        waitForSteadyState: true,
        enableEcsManagedTags: true,
        propagateTags: 'SERVICE',
        // A grace period is only valid with a load balancer (lessons #41).
        ...(lb
          ? {
              loadBalancers: [
                {
                  targetGroupArn: lb.targetGroupArn,
                  containerName: args.containerName,
                  containerPort: lb.containerPort,
                },
              ],
              healthCheckGracePeriodSeconds: lb.healthCheckGracePeriodSeconds,
            }
          : {}),
      },
      {
        parent: this,
        dependsOn: [...execution.policies, ...(args.taskRoleGrants ?? [])],
        ignoreChanges: args.autoscaled ? ['desiredCount'] : [],
        // Create waits too (waitForSteadyState), for the first tasks' image pull and health checks.
        customTimeouts: {
          create: `${Math.max(args.deploymentTimeoutMinutes ?? 30, 30)}m`,
          update: `${args.deploymentTimeoutMinutes ?? 30}m`,
        },
      },
    );
    this.registerOutputs({ serviceName: this.service.name, taskDefinitionArn: this.taskDefinition.arn });
  }
}
