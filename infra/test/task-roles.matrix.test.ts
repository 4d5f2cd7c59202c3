// What the backend and worker task roles (and the worker's execution role) may do outside SQS, decided by an
// IAM evaluator on the registered policies: each S3 action on each key prefix, the queue key, ECR, logs, secrets.
import { beforeAll, describe, expect, it } from 'vitest';
import { defaultKeyPolicy } from './support/aws-managed-policies.js';
import { decide } from './support/iam.js';
import { ACCOUNT, DATABASE_SECRET_ARN, deployStack, REGION, type Stack } from './support/program.js';

const BUCKET = `arn:aws:s3:::retainwise-uploads-${ACCOUNT}`;
const KEYS = {
  upload: `${BUCKET}/uploads/user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh/20251207_140233-customers.csv`,
  result: `${BUCKET}/predictions/user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh/7c9e6679-7425-40de-944b-e07fc1f90ae7.csv`,
  other: `${BUCKET}/local/user_2ZxQ8kLmN4pRt7VwY1bC3dEfGh/customers.csv`,
};
const S3_ACTIONS = [
  's3:GetObject',
  's3:PutObject',
  's3:DeleteObject',
  's3:AbortMultipartUpload',
  's3:ListMultipartUploadParts',
] as const;

/** The intended S3 access per role and key prefix; everything else is denied. */
const INTENDED: Record<'backend' | 'worker', Partial<Record<keyof typeof KEYS, readonly string[]>>> = {
  backend: { upload: ['s3:PutObject'], result: ['s3:GetObject'] },
  worker: {
    upload: ['s3:GetObject'],
    result: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
  },
};

const KMS_KEY = `arn:aws:kms:${REGION}:${ACCOUNT}:key/11111111-1111-4111-8111-111111111111`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;

describe('task role permissions (IAM evaluator)', () => {
  let stack: Stack;
  const policies = (which: 'backend' | 'worker') => [stack.rolePolicy(`task-roles-${which}-${which}-task`)];
  const principal = (which: 'backend' | 'worker') => role(`prod-retainwise-${which}-task-role`);
  beforeAll(async () => {
    stack = await deployStack({ queueKmsKeyArn: KMS_KEY });
  });

  const cases = (['backend', 'worker'] as const).flatMap((which) =>
    (Object.keys(KEYS) as (keyof typeof KEYS)[]).flatMap((key) =>
      S3_ACTIONS.map((action) => {
        const allowed = INTENDED[which][key]?.includes(action) ?? false;
        return [
          `${which} ${allowed ? 'may' : 'may not'} ${action} on ${key} objects`,
          which,
          key,
          action,
          allowed,
        ] as const;
      }),
    ),
  );

  it.each(cases)('%s', async (_, which, key, action, allowed) => {
    const decision = await decide({
      principal: principal(which),
      action,
      resource: KEYS[key],
      identityPolicies: policies(which),
    });
    expect(decision === 'Allowed').toBe(allowed);
  });

  it.each([
    ['backend', 'kms:GenerateDataKey'],
    ['worker', 'kms:Decrypt'],
    ['worker', 'kms:GenerateDataKey'],
  ] as const)(
    '%s may use the queue key for %s only when SQS calls KMS on its behalf',
    async (which, action) => {
      const use = (context: Record<string, string>) =>
        decide({
          principal: principal(which),
          action,
          resource: KMS_KEY,
          context,
          identityPolicies: policies(which),
          resourcePolicy: defaultKeyPolicy(ACCOUNT),
        });
      expect(await use({ 'kms:ViaService': `sqs.${REGION}.amazonaws.com` })).toBe('Allowed');
      expect(await use({})).not.toBe('Allowed');
      expect(await use({ 'kms:ViaService': `s3.${REGION}.amazonaws.com` })).not.toBe('Allowed');
    },
  );

  it("lets the worker protect tasks of its own cluster from scale-in, and no other cluster's", async () => {
    const protect = (cluster: string) =>
      decide({
        principal: principal('worker'),
        action: 'ecs:UpdateTaskProtection',
        resource: `arn:aws:ecs:${REGION}:${ACCOUNT}:task/${cluster}/0123456789abcdef0123456789abcdef`,
        identityPolicies: policies('worker'),
      });
    expect(await protect('retainwise-cluster')).toBe('Allowed');
    expect(await protect('another-cluster')).not.toBe('Allowed');
  });

  it('gives neither role any CloudWatch permission: metrics travel as log lines (lessons #34)', async () => {
    for (const which of ['backend', 'worker'] as const) {
      const decision = await decide({
        principal: principal(which),
        action: 'cloudwatch:PutMetricData',
        resource: '*',
        identityPolicies: policies(which),
      });
      expect(decision).not.toBe('Allowed');
    }
  });

  it('lets the execution role read only the configured secret, pull only the worker image, write only its logs', async () => {
    const execution = role('retainwise-ecs-task-execution-role');
    const can = async (action: string, resource: string) =>
      (await decide({
        principal: execution,
        action,
        resource,
        identityPolicies: [stack.rolePolicy('worker-execution-start-task')],
      })) === 'Allowed';
    expect(await can('secretsmanager:GetSecretValue', DATABASE_SECRET_ARN)).toBe(true);
    expect(
      await can(
        'secretsmanager:GetSecretValue',
        `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:prod/other-AbCdEf`,
      ),
    ).toBe(false);
    expect(
      await can('ecr:BatchGetImage', `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/retainwise-worker`),
    ).toBe(true);
    expect(
      await can('ecr:BatchGetImage', `arn:aws:ecr:${REGION}:${ACCOUNT}:repository/retainwise-backend`),
    ).toBe(false);
    expect(
      await can(
        'logs:PutLogEvents',
        `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/retainwise-worker:log-stream:ecs/worker/abc`,
      ),
    ).toBe(true);
    expect(
      await can('logs:PutLogEvents', `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/ecs/other:log-stream:x`),
    ).toBe(false);
  });

  it('names no "*" resource but for actions AWS does not scope: ECR login, the operator\'s metric reads', () => {
    const documents = stack
      .all('aws:iam/rolePolicy:RolePolicy')
      .filter((p) => !p.name.startsWith('github-'))
      .map(
        (p) =>
          JSON.parse(String(p.inputs['policy'])) as {
            Statement: { Action: string | string[]; Resource?: string | string[] }[];
          },
      );
    const wildcards = documents.flatMap((d) => d.Statement).filter((s) => [s.Resource].flat().includes('*'));
    expect(wildcards.map((s) => [s.Action].flat().join(' ')).sort()).toEqual([
      'cloudwatch:GetMetricData',
      'ecr:GetAuthorizationToken',
    ]);
  });
});
