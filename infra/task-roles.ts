// The task roles of the backend API and the worker: exactly the calls each service makes, on its own resources
// (one role per service, referenced by resource output: lessons #33, #34). Execution roles, which ECS itself
// uses to start a task, belong to each FargateService.
import type * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  bucketArn,
  PARTITION,
  policyDocument,
  policyJson,
  serviceRole,
  type PolicyDocument,
  type PolicyStatement,
} from './policy.js';
import type { PredictionQueues } from './prediction-queues.js';

/** Where the backend stores uploads and the worker writes results (spec/csv-io.md §11). */
export const UPLOADS_PREFIX = 'uploads/';
export const RESULTS_PREFIX = 'predictions/';

export interface TaskPolicyInputs {
  queueArn: string;
  dlqArn: string;
  bucketName: string;
  /** Customer managed key of the queues, when they use one. */
  queueKmsKeyArn: string | undefined;
  region: string;
  accountId: string;
  clusterName: string;
}

/** SQS encrypts with the caller's KMS permissions; allow them only for calls SQS makes on our behalf. */
function queueKeyStatement(p: TaskPolicyInputs, actions: string[]): PolicyStatement | undefined {
  return p.queueKmsKeyArn
    ? {
        Sid: 'UseQueueKeyThroughSqs',
        Effect: 'Allow',
        Action: actions,
        Resource: p.queueKmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `sqs.${p.region}.amazonaws.com` } },
      }
    : undefined;
}

/** The API publishes jobs and stores uploads; it reads results to presign downloads and build the dashboard. */
export function backendTaskPolicy(p: TaskPolicyInputs): PolicyDocument {
  const bucket = bucketArn(p.bucketName);
  return policyDocument([
    {
      Sid: 'PublishJobs',
      Effect: 'Allow',
      Action: ['sqs:SendMessage', 'sqs:GetQueueUrl', 'sqs:GetQueueAttributes'],
      Resource: p.queueArn,
    },
    queueKeyStatement(p, ['kms:GenerateDataKey', 'kms:Decrypt']),
    {
      Sid: 'StoreUploads',
      Effect: 'Allow',
      Action: 's3:PutObject',
      Resource: `${bucket}/${UPLOADS_PREFIX}*`,
    },
    // database.md §7: the API presigns GET URLs for result files and downloads them for the dashboard; a
    // presigned URL only works if the signer may read the object.
    { Sid: 'ReadResults', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/${RESULTS_PREFIX}*` },
  ]);
}

/**
 * The worker consumes jobs, dead-letters invalid messages itself, streams uploads in and results out
 * (multipart), and protects its task from scale-in while a job runs. Metrics go out as embedded-metric-format
 * log lines, so no CloudWatch permission.
 */
export function workerTaskPolicy(p: TaskPolicyInputs): PolicyDocument {
  const bucket = bucketArn(p.bucketName);
  return policyDocument([
    {
      Sid: 'ConsumeJobs',
      Effect: 'Allow',
      Action: [
        'sqs:ReceiveMessage',
        'sqs:DeleteMessage',
        'sqs:ChangeMessageVisibility',
        'sqs:GetQueueAttributes',
      ],
      Resource: p.queueArn,
    },
    {
      // Invalid messages are copied to the DLQ (message-contract.md §8); the worker never reads it: rows of
      // dead-lettered jobs are failed from the database (worker/src/dlq.ts). GetQueueAttributes is for --self-check.
      Sid: 'UseDeadLetterQueue',
      Effect: 'Allow',
      Action: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
      Resource: p.dlqArn,
    },
    queueKeyStatement(p, ['kms:Decrypt', 'kms:GenerateDataKey']),
    { Sid: 'ReadUploads', Effect: 'Allow', Action: 's3:GetObject', Resource: `${bucket}/${UPLOADS_PREFIX}*` },
    {
      Sid: 'WriteResults',
      Effect: 'Allow',
      Action: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      Resource: `${bucket}/${RESULTS_PREFIX}*`,
    },
    {
      Sid: 'ProtectOwnTaskFromScaleIn',
      Effect: 'Allow',
      Action: ['ecs:UpdateTaskProtection', 'ecs:GetTaskProtection'],
      // Task ids are assigned at launch, so the cluster's task ARN prefix is the narrowest resource.
      Resource: `arn:${PARTITION}:ecs:${p.region}:${p.accountId}:task/${p.clusterName}/*`,
    },
  ]);
}

export interface ExecutionPolicyInputs {
  /** The ECR repository the image is pulled from. */
  repositoryArn: string;
  logGroupArn: string;
  /** Full ARNs of the secrets injected into the container. */
  secretArns: string[];
  /** Customer managed keys encrypting those secrets, if any. */
  secretKmsKeyArns: string[];
  region: string;
}

/** What ECS needs to start the task: pull its image, write its log group, fetch its secrets. */
export function executionPolicy(p: ExecutionPolicyInputs): PolicyDocument {
  return policyDocument([
    {
      Sid: 'PullImage',
      Effect: 'Allow',
      Action: ['ecr:BatchGetImage', 'ecr:GetDownloadUrlForLayer', 'ecr:BatchCheckLayerAvailability'],
      Resource: p.repositoryArn,
    },
    // GetAuthorizationToken has no resource-level permissions: AWS accepts only "*" here.
    { Sid: 'RegistryLogin', Effect: 'Allow', Action: 'ecr:GetAuthorizationToken', Resource: '*' },
    {
      Sid: 'WriteLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${p.logGroupArn}:log-stream:*`,
    },
    p.secretArns.length > 0 && {
      Sid: 'ReadInjectedSecrets',
      Effect: 'Allow',
      Action: 'secretsmanager:GetSecretValue',
      Resource: p.secretArns,
    },
    p.secretKmsKeyArns.length > 0 && {
      Sid: 'DecryptInjectedSecrets',
      Effect: 'Allow',
      Action: 'kms:Decrypt',
      Resource: p.secretKmsKeyArns,
      Condition: { StringEquals: { 'kms:ViaService': `secretsmanager.${p.region}.amazonaws.com` } },
    },
  ]);
}

/** The service that assumes task and execution roles. */
export const ECS_TASKS_SERVICE = 'ecs-tasks.amazonaws.com';

/** The task role names of the stack config (`retainwise:<key>`). */
export interface TaskRoleSettings {
  /** Name of the worker's task role. @default `<environment>-retainwise-worker-task-role` (the existing one in prod) */
  workerTaskRoleName?: string | undefined;
  /** Name of the backend API's task role. @default `<environment>-retainwise-backend-task-role` */
  backendTaskRoleName?: string | undefined;
}

export function resolveTaskRoleSettings(
  s: TaskRoleSettings,
  environment: string,
): Required<TaskRoleSettings> {
  return {
    workerTaskRoleName: s.workerTaskRoleName ?? `${environment}-retainwise-worker-task-role`,
    backendTaskRoleName: s.backendTaskRoleName ?? `${environment}-retainwise-backend-task-role`,
  };
}

export interface TaskRolesArgs extends TaskRoleSettings {
  environment: string;
  queues: PredictionQueues;
  bucketName: pulumi.Input<string>;
  /** The worker's cluster, for its task scale-in protection calls. */
  clusterName: string;
  region: string;
  accountId: pulumi.Input<string>;
}

export class TaskRoles extends pulumi.ComponentResource {
  readonly workerTaskRole: aws.iam.Role;
  readonly backendTaskRole: aws.iam.Role;

  constructor(name: string, args: TaskRolesArgs, opts?: pulumi.ComponentResourceOptions) {
    super('retainwise:iam:TaskRoles', name, {}, opts);
    const parent = { parent: this };
    const names = resolveTaskRoleSettings(args, args.environment);
    const { queue, deadLetterQueue } = args.queues;
    const policy = (build: (p: TaskPolicyInputs) => PolicyDocument) =>
      policyJson(
        [queue.arn, deadLetterQueue.arn, args.bucketName, args.accountId],
        ([queueArn, dlqArn, bucketName, accountId]) =>
          build({
            queueArn,
            dlqArn,
            bucketName,
            accountId,
            queueKmsKeyArn: args.queues.settings.queueKmsKeyArn,
            region: args.region,
            clusterName: args.clusterName,
          }),
      );
    const role = (
      suffix: string,
      roleName: string,
      description: string,
      doc: (p: TaskPolicyInputs) => PolicyDocument,
    ) => {
      return serviceRole(
        `${name}-${suffix}`,
        {
          roleName,
          description,
          service: ECS_TASKS_SERVICE,
          accountId: args.accountId,
          policies: { inline: { [`${suffix}-task`]: policy(doc) } },
        },
        parent,
      ).role;
    };
    this.workerTaskRole = role(
      'worker',
      names.workerTaskRoleName,
      'RetainWise worker tasks',
      workerTaskPolicy,
    );
    this.backendTaskRole = role(
      'backend',
      names.backendTaskRoleName,
      'RetainWise backend API tasks',
      backendTaskPolicy,
    );
    this.registerOutputs({
      workerTaskRoleArn: this.workerTaskRole.arn,
      backendTaskRoleArn: this.backendTaskRole.arn,
    });
  }
}
