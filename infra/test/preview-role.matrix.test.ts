// What pull-request code can reach through the preview role, which holds AWS's full ReadOnlyAccess (it grants
// sqs:Receive*, s3:Get* on every bucket, ssm:Get*, log reads, …): decided by an IAM evaluator on the real
// managed policy, the role's inline policy and, for SQS, the queue policy.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../policy.js';
import { defaultKeyPolicy, READ_ONLY_ACCESS } from './support/aws-managed-policies.js';
import { decide } from './support/iam.js';
import { ACCOUNT, DATABASE_SECRET_ARN, deployStack, REGION, type Stack } from './support/program.js';
import { MESSAGE_ACTIONS } from './support/sqs-actions.js';

const PREVIEW = `arn:aws:iam::${ACCOUNT}:role/retainwise-cicd-preview-role`;
const STATE_BUCKET = 'retainwise-pulumi-state-prod';
const STATE_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/00000000-0000-4000-8000-000000000000`;
const OTHER_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/22222222-2222-4222-8222-222222222222`;
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:prod-retainwise-predictions-queue`;
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:prod-retainwise-predictions-dlq`;
const UPLOADS = `arn:aws:s3:::retainwise-uploads-${ACCOUNT}`;
const CUSTOMER_OBJECTS = [
  `${UPLOADS}/uploads/user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh/20251207_140233-customers.csv`,
  `${UPLOADS}/predictions/user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh/7c9e6679-7425-40de-944b-e07fc1f90ae7.csv`,
];
const WORKER_LOGS = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/retainwise-worker`;
const PARAMETER = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/prod/retainwise/database-url`;
const LOCK = `arn:aws:s3:::${STATE_BUCKET}/.pulumi/locks/organization/retainwise/prod/0b6f1c2e.json`;

/** Everything a preview never needs: jobs, customer files, secret values, decryption, log contents. */
const DENIED: [action: string, resource: string][] = [
  ...[QUEUE, DLQ].flatMap((queue) => MESSAGE_ACTIONS.map((a): [string, string] => [a, queue])),
  ...CUSTOMER_OBJECTS.flatMap((object) =>
    ['s3:GetObject', 's3:GetObjectVersion', 's3:GetObjectAttributes'].map((a): [string, string] => [
      a,
      object,
    ]),
  ),
  ['s3:ListBucket', UPLOADS],
  ['s3:ListBucketVersions', UPLOADS],
  ['ssm:GetParameter', PARAMETER],
  ['ssm:GetParameters', PARAMETER],
  ['ssm:GetParametersByPath', PARAMETER],
  ['ssm:GetParameterHistory', PARAMETER],
  ['secretsmanager:GetSecretValue', DATABASE_SECRET_ARN],
  ['kms:Decrypt', OTHER_KEY],
  ['logs:GetLogEvents', `${WORKER_LOGS}:log-stream:ecs/worker/abc`],
  ['logs:FilterLogEvents', WORKER_LOGS],
  ['logs:StartQuery', WORKER_LOGS],
  ['logs:StartLiveTail', WORKER_LOGS],
  // `pulumi preview` never takes the stack lock on a self-managed backend (pulumi/pulumi
  // pkg/backend/diy/backend.go: Preview does not call Lock; Update, Refresh, Import and Destroy do).
  ['s3:PutObject', LOCK],
  ['s3:DeleteObject', LOCK],
  ['s3:PutObject', `arn:aws:s3:::${STATE_BUCKET}/.pulumi/stacks/retainwise/prod.json`],
];

/** The reads `pulumi preview` (and its refresh) makes for this stack's resources and state. */
const NEEDED: [action: string, resource: string][] = [
  ['s3:ListBucket', `arn:aws:s3:::${STATE_BUCKET}`],
  ['s3:GetObject', `arn:aws:s3:::${STATE_BUCKET}/.pulumi/stacks/retainwise/prod.json`],
  ['kms:Decrypt', STATE_KEY],
  ['sqs:GetQueueAttributes', QUEUE],
  ['sqs:GetQueueAttributes', DLQ],
  ['sqs:ListQueueTags', QUEUE],
  ['sqs:GetQueueUrl', QUEUE],
  ['iam:GetRole', `arn:aws:iam::${ACCOUNT}:role/prod-retainwise-worker-task-role`],
  ['iam:GetRolePolicy', `arn:aws:iam::${ACCOUNT}:role/prod-retainwise-worker-task-role`],
  ['iam:ListRolePolicies', `arn:aws:iam::${ACCOUNT}:role/prod-retainwise-worker-task-role`],
  ['iam:ListAttachedRolePolicies', `arn:aws:iam::${ACCOUNT}:role/prod-retainwise-worker-task-role`],
  ['iam:GetPolicy', `arn:aws:iam::${ACCOUNT}:policy/retainwise-permissions-boundary`],
  ['iam:GetPolicyVersion', `arn:aws:iam::${ACCOUNT}:policy/retainwise-permissions-boundary`],
  [
    'iam:GetOpenIDConnectProvider',
    `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`,
  ],
  ['ecs:DescribeServices', `arn:aws:ecs:${REGION}:${ACCOUNT}:service/retainwise-cluster/retainwise-worker`],
  ['ecs:DescribeClusters', `arn:aws:ecs:${REGION}:${ACCOUNT}:cluster/retainwise-cluster`],
  ['ecs:DescribeTaskDefinition', '*'],
  ['ec2:DescribeVpcEndpoints', '*'],
  ['ec2:DescribeSecurityGroups', '*'],
  ['logs:DescribeLogGroups', '*'],
  ['logs:ListTagsForResource', WORKER_LOGS],
  ['ecr:DescribeRepositories', `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/retainwise-worker`],
  ['ecr:DescribeImages', `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/retainwise-worker`],
  // The program lists the worker repository before planning the image build (pushedImages, worker-service.ts).
  ['ecr:ListImages', `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/retainwise-worker`],
  ['ecr:GetAuthorizationToken', '*'],
  ['sns:GetTopicAttributes', `arn:aws:sns:${REGION}:${ACCOUNT}:retainwise-cloudwatch-alerts`],
  ['cloudwatch:DescribeAlarms', '*'],
  ['cloudwatch:GetDashboard', `arn:aws:cloudwatch::${ACCOUNT}:dashboard/retainwise-prod`],
  ['application-autoscaling:DescribeScalingPolicies', '*'],
];

describe('preview role with the real ReadOnlyAccess (IAM evaluator)', () => {
  let stack: Stack;
  let policies: object[];
  beforeAll(async () => {
    stack = await deployStack({
      stateBackend: 's3',
      stateBucketName: STATE_BUCKET,
      stateKmsKeyArn: STATE_KEY,
    });
    policies = [READ_ONLY_ACCESS, stack.rolePolicy('github-preview-preview-stack')];
  });

  // SQS and KMS also evaluate their own resource policies; a preview runs on a GitHub runner, off the VPC.
  const resourcePolicy = (resource: string) =>
    resource === QUEUE || resource === DLQ
      ? stack.json<PolicyDocument>(
          'aws:sqs/queuePolicy:QueuePolicy',
          resource === QUEUE ? 'predictions-queue-policy' : 'predictions-dlq-policy',
          'policy',
        )
      : resource.startsWith('arn:aws:kms:')
        ? defaultKeyPolicy(ACCOUNT)
        : undefined;
  const previewDecision = (action: string, resource: string) =>
    decide({
      principal: PREVIEW,
      action,
      resource,
      context: { 'aws:SecureTransport': 'true' },
      identityPolicies: policies,
      resourcePolicy: resourcePolicy(resource),
    });

  it.each(DENIED)('denies %s on %s explicitly', async (action, resource) => {
    expect(await previewDecision(action, resource)).toBe('ExplicitlyDenied');
  });

  it.each(NEEDED)('allows %s on %s', async (action, resource) => {
    expect(await previewDecision(action, resource)).toBe('Allowed');
  });

  it('decrypts nothing when the state lives in Pulumi Cloud', async () => {
    const cloud = await deployStack();
    const decision = await decide({
      principal: PREVIEW,
      action: 'kms:Decrypt',
      resource: STATE_KEY,
      identityPolicies: [READ_ONLY_ACCESS, cloud.rolePolicy('github-preview-preview-stack')],
      resourcePolicy: defaultKeyPolicy(ACCOUNT),
    });
    expect(decision).toBe('ExplicitlyDenied');
  });
});
