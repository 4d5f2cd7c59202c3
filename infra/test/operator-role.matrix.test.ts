// The operator role, for humans running the queue day to day (inspect and redrive the DLQ, requeue jobs):
// who may assume it, and what it may do from a workstation, decided by an IAM evaluator on the registered
// trust, identity and queue policies.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../policy.js';
import { ADMINISTRATOR_ACCESS } from './support/aws-managed-policies.js';
import { decide } from './support/iam.js';
import { ACCOUNT, deployStack, REGION, type Stack } from './support/program.js';

const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const OPERATOR = role('retainwise-operator');
const QUEUE = `arn:aws:sqs:${REGION}:${ACCOUNT}:prod-retainwise-predictions-queue`;
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:prod-retainwise-predictions-dlq`;
const BUCKET = `arn:aws:s3:::retainwise-uploads-${ACCOUNT}`;
const WORKER_SERVICE = `arn:aws:ecs:${REGION}:${ACCOUNT}:service/retainwise-cluster/retainwise-worker`;

describe('operator role (IAM evaluator)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await deployStack();
  });

  const trustOf = (s: Stack) => s.json<PolicyDocument>('aws:iam/role:Role', 'operator', 'assumeRolePolicy');
  const queuePolicy = (queue: string) =>
    stack.json<PolicyDocument>(
      'aws:sqs/queuePolicy:QueuePolicy',
      queue === QUEUE ? 'predictions-queue-policy' : 'predictions-dlq-policy',
      'policy',
    );
  /** A call made with the operator role's credentials from a workstation: TLS, no VPC endpoint. */
  const fromWorkstation = (action: string, resource: string) =>
    decide({
      principal: OPERATOR,
      action,
      resource,
      context: { 'aws:SecureTransport': 'true' },
      identityPolicies: [stack.rolePolicy('operator-operate-queues')],
      resourcePolicy: resource === QUEUE || resource === DLQ ? queuePolicy(resource) : undefined,
    });

  describe('from outside the VPC', () => {
    it.each([
      ['sqs:GetQueueAttributes', QUEUE],
      ['sqs:GetQueueAttributes', DLQ],
      ['sqs:ReceiveMessage', DLQ],
      ['sqs:DeleteMessage', DLQ],
      ['sqs:ChangeMessageVisibility', DLQ],
      ['sqs:StartMessageMoveTask', DLQ],
      ['sqs:ListMessageMoveTasks', DLQ],
      ['sqs:CancelMessageMoveTask', DLQ],
      ['sqs:SendMessage', QUEUE],
      ['ecs:DescribeServices', WORKER_SERVICE],
      ['cloudwatch:GetMetricData', '*'],
    ])('may %s on %s', async (action, resource) => {
      expect(await fromWorkstation(action, resource)).toBe('Allowed');
    });

    it.each([
      ['sqs:ReceiveMessage', QUEUE],
      ['sqs:DeleteMessage', QUEUE],
      ['sqs:PurgeQueue', QUEUE],
      ['sqs:PurgeQueue', DLQ],
      ['sqs:SendMessage', DLQ],
      ['sqs:SetQueueAttributes', QUEUE],
      ['s3:GetObject', `${BUCKET}/uploads/user_x/20251207_140233-customers.csv`],
      ['s3:GetObject', `${BUCKET}/predictions/user_x/7c9e6679.csv`],
      ['s3:ListBucket', BUCKET],
      [
        'ecs:DescribeServices',
        `arn:aws:ecs:${REGION}:${ACCOUNT}:service/retainwise-cluster/retainwise-service`,
      ],
      ['ecs:UpdateService', WORKER_SERVICE],
      ['cloudformation:DescribeStacks', '*'],
      ['cloudwatch:GetMetricStatistics', '*'],
      ['cloudwatch:PutMetricData', '*'],
    ])('may not %s on %s', async (action, resource) => {
      expect(await fromWorkstation(action, resource)).not.toBe('Allowed');
    });

    // A DLQ redrive (StartMessageMoveTask) runs with the caller's permissions: ReceiveMessage, DeleteMessage
    // and GetQueueAttributes on the source (the DLQ), SendMessage on the destination (AWS SQS Developer Guide,
    // "Configuring a dead-letter queue redrive").
    it('holds what a DLQ redrive to the main queue requires of the caller on both queues', async () => {
      for (const [action, resource] of [
        ['sqs:StartMessageMoveTask', DLQ],
        ['sqs:ReceiveMessage', DLQ],
        ['sqs:DeleteMessage', DLQ],
        ['sqs:GetQueueAttributes', DLQ],
        ['sqs:SendMessage', QUEUE],
      ] as const) {
        expect(await fromWorkstation(action, resource), `${action} on ${resource}`).toBe('Allowed');
      }
    });
  });

  describe('who may assume it', () => {
    const assume = (
      s: Stack,
      principal: string,
      mfa: boolean | undefined,
      identityPolicies: object[] = [ADMINISTRATOR_ACCESS],
    ) =>
      decide({
        principal,
        action: 'sts:AssumeRole',
        resource: OPERATOR,
        resourceAccount: ACCOUNT,
        context: mfa === undefined ? {} : { 'aws:MultiFactorAuthPresent': String(mfa) },
        identityPolicies,
        resourcePolicy: trustOf(s),
      });

    it('lets a principal of the account whose own policy allows it assume the role with MFA', async () => {
      expect(await assume(stack, role('Administrator'), true)).toBe('Allowed');
    });

    it('refuses it without MFA, or with no MFA information at all', async () => {
      expect(await assume(stack, role('Administrator'), false)).not.toBe('Allowed');
      expect(await assume(stack, role('Administrator'), undefined)).not.toBe('Allowed');
    });

    it('refuses a principal of the account whose own policy does not allow it', async () => {
      expect(await assume(stack, role('Developer'), true, [])).not.toBe('Allowed');
    });

    it('refuses principals of other accounts', async () => {
      expect(await assume(stack, role('Administrator', '210987654321'), true)).not.toBe('Allowed');
    });

    it('trusts only the configured principals when operatorTrustedPrincipalArns is set', async () => {
      const oncall = role('oncall');
      const configured = await deployStack({ operatorTrustedPrincipalArns: [oncall] });
      expect(await assume(configured, oncall, true)).toBe('Allowed');
      expect(await assume(configured, role('Administrator'), true)).not.toBe('Allowed');
    });

    it('rejects an empty operatorTrustedPrincipalArns up front: nobody could assume the role', async () => {
      await expect(deployStack({ operatorTrustedPrincipalArns: [] })).rejects.toThrow(
        /retainwise:operatorTrustedPrincipalArns: needs at least one principal/,
      );
    });

    it('does without MFA when operatorRequireMfa is false', async () => {
      const noMfa = await deployStack({ operatorRequireMfa: false });
      expect(await assume(noMfa, role('Administrator'), false)).toBe('Allowed');
    });
  });

  it('is named retainwise-operator in prod and gets the environment suffix elsewhere', async () => {
    expect(stack.input('aws:iam/role:Role', 'operator', 'name')).toBe('retainwise-operator');
    expect(stack.outputs['operatorRoleArn']).toBe(OPERATOR);
    const staging = await deployStack({}, { stack: 'staging' });
    expect(staging.input('aws:iam/role:Role', 'operator', 'name')).toBe('retainwise-operator-staging');
  });
});
