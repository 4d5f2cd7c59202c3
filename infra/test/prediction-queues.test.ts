import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../policy.js';
import { PredictionQueues, SQS_MESSAGE_ACTIONS } from '../prediction-queues.js';
import { SettingsError } from '../validation.js';
import { ACCOUNT, deployComponent, type Stack } from './support/program.js';

const QUEUE = 'aws:sqs/queue:Queue';
const WORKER_ROLE = `arn:aws:iam::${ACCOUNT}:role/prod-retainwise-worker-task-role`;
const BREAK_GLASS = `arn:aws:iam::${ACCOUNT}:role/break-glass`;
const KMS_KEY = `arn:aws:kms:us-east-1:${ACCOUNT}:key/00000000-0000-4000-8000-000000000000`;
const required = {
  environment: 'prod',
  sqsVpcEndpointId: 'vpce-0123456789abcdef0',
  workloadRoleNames: ['prod-retainwise-worker-task-role'],
  accountId: ACCOUNT,
};

describe('PredictionQueues', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await deployComponent(
      () => new PredictionQueues('predictions', { ...required, breakGlassPrincipalArns: [BREAK_GLASS] }),
    );
  });

  it('creates the job queue with the existing settings, long polling and SQS-managed encryption', () => {
    expect(stack.one(QUEUE, 'predictions-queue').inputs).toMatchObject({
      name: 'prod-retainwise-predictions-queue',
      visibilityTimeoutSeconds: 300,
      messageRetentionSeconds: 345_600,
      receiveWaitTimeSeconds: 20,
      maxMessageSize: 262_144,
      delaySeconds: 0,
      sqsManagedSseEnabled: true,
    });
  });

  it('creates the DLQ keeping messages 14 days, with the same encryption and polling', () => {
    expect(stack.one(QUEUE, 'predictions-dlq').inputs).toMatchObject({
      name: 'prod-retainwise-predictions-dlq',
      messageRetentionSeconds: 1_209_600,
      visibilityTimeoutSeconds: 300,
      receiveWaitTimeSeconds: 20,
      sqsManagedSseEnabled: true,
    });
  });

  it('redrives to the DLQ after 3 receives, and the DLQ accepts only this queue', () => {
    expect(stack.json(QUEUE, 'predictions-queue', 'redrivePolicy')).toEqual({
      deadLetterTargetArn: `arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-dlq`,
      maxReceiveCount: 3,
    });
    const allow = stack.one('aws:sqs/redriveAllowPolicy:RedriveAllowPolicy');
    expect(allow.inputs['queueUrl']).toBe(
      `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/prod-retainwise-predictions-dlq`,
    );
    expect(JSON.parse(allow.inputs['redriveAllowPolicy'] as string)).toEqual({
      redrivePermission: 'byQueue',
      sourceQueueArns: [`arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-queue`],
    });
  });

  it('protects both queues: a rename or replacement would drop their messages', () => {
    expect(stack.one(QUEUE, 'predictions-queue').protect).toBe(true);
    expect(stack.one(QUEUE, 'predictions-dlq').protect).toBe(true);
  });

  it.each(['queue', 'dlq'])(
    'puts a deny-only policy on the %s: TLS everywhere, the workloads and all messages only through the endpoint',
    (suffix) => {
      const queueName =
        suffix === 'queue' ? 'prod-retainwise-predictions-queue' : 'prod-retainwise-predictions-dlq';
      const policy = stack.json<PolicyDocument>(
        'aws:sqs/queuePolicy:QueuePolicy',
        `predictions-${suffix}-policy`,
        'policy',
      );
      const arn = `arn:aws:sqs:us-east-1:${ACCOUNT}:${queueName}`;
      expect(policy.Statement.every((s) => s.Effect === 'Deny' && s.Resource === arn)).toBe(true);
      expect(policy.Statement).toContainEqual(
        expect.objectContaining({ Action: 'sqs:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
      );
      expect(policy.Statement).toContainEqual(
        expect.objectContaining({
          Action: 'sqs:*',
          Condition: {
            StringNotEquals: { 'aws:SourceVpce': 'vpce-0123456789abcdef0' },
            ArnEquals: { 'aws:PrincipalArn': [WORKER_ROLE] },
          },
        }),
      );
      expect(policy.Statement).toContainEqual(
        expect.objectContaining({
          Action: SQS_MESSAGE_ACTIONS,
          Condition: {
            StringNotEquals: { 'aws:SourceVpce': 'vpce-0123456789abcdef0' },
            ArnNotLike: { 'aws:PrincipalArn': [BREAK_GLASS] },
          },
        }),
      );
    },
  );

  it('conditions neither the control plane nor queue metadata on the network, so administrators can always repair the queue', () => {
    for (const action of [
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ListQueueTags',
      'sqs:SetQueueAttributes',
      'sqs:AddPermission',
      'sqs:RemovePermission',
      'sqs:DeleteQueue',
      'sqs:TagQueue',
    ]) {
      expect(SQS_MESSAGE_ACTIONS).not.toContain(action);
    }
  });

  it('uses a customer managed KMS key when one is configured', async () => {
    const kms = await deployComponent(
      () => new PredictionQueues('predictions', { ...required, queueKmsKeyArn: KMS_KEY }),
    );
    for (const name of ['predictions-queue', 'predictions-dlq']) {
      const inputs = kms.one(QUEUE, name).inputs;
      expect(inputs).toMatchObject({ kmsMasterKeyId: KMS_KEY, kmsDataKeyReusePeriodSeconds: 300 });
      expect(inputs['sqsManagedSseEnabled']).toBeUndefined();
    }
  });

  it('rejects a policy binding no workload to the endpoint', () => {
    expect(() => new PredictionQueues('bad', { ...required, workloadRoleNames: [] })).toThrow(SettingsError);
  });

  it('rejects settings SQS would refuse, naming the argument', () => {
    expect(
      () => new PredictionQueues('bad', { ...required, receiveWaitTimeSeconds: 30, maxReceiveCount: 0 }),
    ).toThrow(/receiveWaitTimeSeconds: must be 1-20[\s\S]*maxReceiveCount: must be 1-1000/);
  });
});
