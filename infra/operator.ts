// The operator role: humans running the queue day to day (issue #12) inspect and redrive the DLQ and requeue
// jobs with it, from a workstation or the console. It is exempt from the queue policies' endpoint condition by
// ARN, so what it may do is exactly its own policy: what `npm run ops` calls (worker/src/ops/), and cancelling a
// move task by hand. The database side of operating is a PostgreSQL role, docs/database-roles.sql.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import {
  attachExclusivePolicies,
  PARTITION,
  policyDocument,
  policyJson,
  type PolicyDocument,
  type PolicyStatement,
} from './policy.js';
import { environmentName } from './names.js';
import { assertValid, check, type Issue } from './validation.js';
import type { WorkerService } from './worker-service.js';

const MAX_SESSION_SECONDS = 3600;

/** The account root: any principal of the account whose own IAM policy allows sts:AssumeRole on the role. */
export const accountRoot = (accountId: string): string => `arn:${PARTITION}:iam::${accountId}:root`;

export function operatorTrustPolicy(trustedPrincipalArns: string[], requireMfa: boolean): PolicyDocument {
  return policyDocument([
    {
      Sid: 'AssumeByOperators',
      Effect: 'Allow',
      Principal: { AWS: trustedPrincipalArns },
      Action: 'sts:AssumeRole',
      ...(requireMfa && { Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } }),
    },
  ]);
}

export interface OperatorPolicyInputs {
  queueArn: string;
  dlqArn: string;
  /** Customer managed key of the queues, when they use one. */
  queueKmsKeyArn: string | undefined;
  region: string;
  accountId: string;
  clusterName: string;
  workerServiceName: string;
}

/**
 * Exactly the day-2 work: look at both queues and the worker service, empty the DLQ by hand or redrive it, and
 * requeue a job. Never the main queue's messages (the worker's), never the bucket.
 */
export function operatorPolicy(p: OperatorPolicyInputs): PolicyDocument {
  const kms: PolicyStatement | undefined = p.queueKmsKeyArn
    ? {
        Sid: 'UseQueueKeyThroughSqs',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: p.queueKmsKeyArn,
        Condition: { StringEquals: { 'kms:ViaService': `sqs.${p.region}.amazonaws.com` } },
      }
    : undefined;
  return policyDocument([
    {
      Sid: 'ReadQueueAttributes',
      Effect: 'Allow',
      Action: 'sqs:GetQueueAttributes',
      Resource: [p.queueArn, p.dlqArn],
    },
    // The age of the oldest message (status) is a metric, not a queue attribute. GetMetricData has no
    // resource-level permissions: AWS accepts only "*".
    {
      Sid: 'ReadQueueMetrics',
      Effect: 'Allow',
      Action: 'cloudwatch:GetMetricData',
      Resource: '*',
    },
    {
      Sid: 'DescribeWorkerService',
      Effect: 'Allow',
      Action: 'ecs:DescribeServices',
      Resource: `arn:${PARTITION}:ecs:${p.region}:${p.accountId}:service/${p.clusterName}/${p.workerServiceName}`,
    },
    {
      Sid: 'HandleDeadLetters',
      Effect: 'Allow',
      Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility'],
      Resource: p.dlqArn,
    },
    // A redrive runs with the caller's permissions: StartMessageMoveTask, ReceiveMessage, DeleteMessage and
    // GetQueueAttributes on the source (the DLQ), SendMessage on the destination (SQS Developer Guide,
    // "Configuring a dead-letter queue redrive").
    {
      Sid: 'RedriveDeadLetters',
      Effect: 'Allow',
      Action: ['sqs:StartMessageMoveTask', 'sqs:ListMessageMoveTasks', 'sqs:CancelMessageMoveTask'],
      Resource: p.dlqArn,
    },
    { Sid: 'RequeueJobs', Effect: 'Allow', Action: 'sqs:SendMessage', Resource: p.queueArn },
    kms,
  ]);
}

/** The operator settings of the stack config (`retainwise:<key>`). */
export interface OperatorSettings {
  /** @default 'retainwise-operator' (`-<environment>` outside prod) */
  operatorRoleName?: string | undefined;
  /** Principals allowed to assume the role (their own IAM policy must allow it too). @default undefined (the account root) */
  operatorTrustedPrincipalArns?: string[] | undefined;
  /** Require an MFA-authenticated session to assume the role. @default true */
  operatorRequireMfa?: boolean | undefined;
}

export type ResolvedOperatorSettings = Required<Omit<OperatorSettings, 'operatorTrustedPrincipalArns'>> &
  Pick<OperatorSettings, 'operatorTrustedPrincipalArns'>;

/** The operator settings with every default applied (the only place they are). */
export function resolveOperatorSettings(s: OperatorSettings, environment: string): ResolvedOperatorSettings {
  return {
    operatorRoleName: s.operatorRoleName ?? environmentName('retainwise-operator', environment),
    operatorTrustedPrincipalArns: s.operatorTrustedPrincipalArns,
    operatorRequireMfa: s.operatorRequireMfa ?? true,
  };
}

export function validateOperatorSettings(s: ResolvedOperatorSettings): Issue[] {
  return check([
    s.operatorTrustedPrincipalArns === undefined || s.operatorTrustedPrincipalArns.length > 0,
    'operatorTrustedPrincipalArns',
    'needs at least one principal (leave it unset to trust the account)',
  ]);
}

export interface OperatorRoleArgs extends OperatorSettings {
  environment: string;
  /** Its queues and service are what the operators work on. */
  worker: WorkerService;
  region: string;
  accountId: pulumi.Input<string>;
}

export class OperatorRole extends pulumi.ComponentResource {
  readonly role: aws.iam.Role;

  constructor(name: string, args: OperatorRoleArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = resolveOperatorSettings(args, args.environment);
    assertValid(`OperatorRole '${name}' arguments`, validateOperatorSettings(s));
    super('retainwise:iam:OperatorRole', name, {}, opts);
    const parent = { parent: this };
    const { queues } = args.worker;
    this.role = new aws.iam.Role(
      name,
      {
        name: s.operatorRoleName,
        description: 'RetainWise queue operators: inspect and redrive the DLQ, requeue jobs',
        maxSessionDuration: MAX_SESSION_SECONDS,
        assumeRolePolicy: policyJson([args.accountId], ([accountId]) =>
          operatorTrustPolicy(
            s.operatorTrustedPrincipalArns ?? [accountRoot(accountId)],
            s.operatorRequireMfa,
          ),
        ),
      },
      parent,
    );
    attachExclusivePolicies(
      name,
      this.role,
      {
        inline: {
          'operate-queues': policyJson(
            [
              queues.queue.arn,
              queues.deadLetterQueue.arn,
              args.accountId,
              args.worker.cluster.name,
              args.worker.fargate.service.name,
            ],
            ([queueArn, dlqArn, accountId, clusterName, workerServiceName]) =>
              operatorPolicy({
                queueArn,
                dlqArn,
                queueKmsKeyArn: queues.settings.queueKmsKeyArn,
                region: args.region,
                accountId,
                clusterName,
                workerServiceName,
              }),
          ),
        },
      },
      parent,
    );
    this.registerOutputs({ operatorRoleArn: this.role.arn });
  }
}
