// Which GitHub Actions tokens can assume the CI roles, and what the deploy role can do to IAM, decided by an
// IAM evaluator on the trust and permission policies the program registers.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../policy.js';
import { defaultKeyPolicy, POWER_USER_ACCESS } from './support/aws-managed-policies.js';
import { decide } from './support/iam.js';
import { ACCOUNT, deployStack, REPOSITORY, type Stack } from './support/program.js';

const PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const PREVIEW = role('retainwise-cicd-preview-role');
const DEPLOY = role('retainwise-cicd-ecs-deployment-role');
const ROLE_LOGICAL_NAME = { preview: 'github-preview', deploy: 'github-deploy' } as const;

interface Token {
  sub: string;
  aud: string;
}
const token = (sub: string, aud = 'sts.amazonaws.com'): Token => ({ sub, aud });

async function canAssume(
  stack: Stack,
  which: 'preview' | 'deploy',
  t: Token,
  provider = PROVIDER,
): Promise<boolean> {
  const decision = await decide({
    principal: provider,
    action: 'sts:AssumeRoleWithWebIdentity',
    resource: which === 'preview' ? PREVIEW : DEPLOY,
    resourceAccount: ACCOUNT,
    context: {
      'token.actions.githubusercontent.com:sub': t.sub,
      'token.actions.githubusercontent.com:aud': t.aud,
    },
    resourcePolicy: stack.json<PolicyDocument>(
      'aws:iam/role:Role',
      ROLE_LOGICAL_NAME[which],
      'assumeRolePolicy',
    ),
  });
  return decision === 'Allowed';
}

const FORK = 'someone-else/retainwise-analytics';
const TOKENS: [string, Token, { preview: boolean; deploy: boolean }][] = [
  [
    'a pull request of the repository',
    token(`repo:${REPOSITORY}:pull_request`),
    { preview: true, deploy: false },
  ],
  [
    'a job in the prod environment',
    token(`repo:${REPOSITORY}:environment:prod`),
    { preview: false, deploy: true },
  ],
  [
    'a job on main outside the environment',
    token(`repo:${REPOSITORY}:ref:refs/heads/main`),
    { preview: false, deploy: false },
  ],
  [
    'a job on another branch',
    token(`repo:${REPOSITORY}:ref:refs/heads/feature`),
    { preview: false, deploy: false },
  ],
  [
    'a job in another environment',
    token(`repo:${REPOSITORY}:environment:staging`),
    { preview: false, deploy: false },
  ],
  ['a pull request of a fork', token(`repo:${FORK}:pull_request`), { preview: false, deploy: false }],
  [
    'a fork in an environment named prod',
    token(`repo:${FORK}:environment:prod`),
    { preview: false, deploy: false },
  ],
  [
    'another repository of the owner',
    token('repo:retainwise/other:environment:prod'),
    { preview: false, deploy: false },
  ],
  [
    'a look-alike repository name',
    token(`repo:${REPOSITORY}-fork:environment:prod`),
    { preview: false, deploy: false },
  ],
  [
    'a pull request token for another audience',
    token(`repo:${REPOSITORY}:pull_request`, 'https://github.com/retainwise'),
    { preview: false, deploy: false },
  ],
  [
    'a prod token for another audience',
    token(`repo:${REPOSITORY}:environment:prod`, 'sts.amazonaws.com.evil'),
    { preview: false, deploy: false },
  ],
];

describe('CI roles trust (IAM evaluator)', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await deployStack();
  });

  it.each(TOKENS)('%s: preview %j', async (_, t, expected) => {
    expect({
      preview: await canAssume(stack, 'preview', t),
      deploy: await canAssume(stack, 'deploy', t),
    }).toEqual(expected);
  });

  it("trusts only our account's GitHub OIDC provider", async () => {
    const foreign = 'arn:aws:iam::210987654321:oidc-provider/token.actions.githubusercontent.com';
    expect(await canAssume(stack, 'deploy', token(`repo:${REPOSITORY}:environment:prod`), foreign)).toBe(
      false,
    );
  });

  it('pins aud and sub with StringEquals, with no wildcard anywhere', () => {
    for (const which of ['preview', 'deploy'] as const) {
      const trust = stack.json<PolicyDocument>(
        'aws:iam/role:Role',
        ROLE_LOGICAL_NAME[which],
        'assumeRolePolicy',
      );
      expect(Object.keys(trust.Statement[0]?.Condition ?? {})).toEqual(['StringEquals']);
      expect(JSON.stringify(trust)).not.toContain('*');
    }
  });

  it('lets jobs on the branch deploy too when githubDeployTrust is "both"', async () => {
    const both = await deployStack({ githubDeployTrust: 'both' });
    expect(await canAssume(both, 'deploy', token(`repo:${REPOSITORY}:ref:refs/heads/main`))).toBe(true);
    expect(await canAssume(both, 'deploy', token(`repo:${REPOSITORY}:environment:prod`))).toBe(true);
    expect(await canAssume(both, 'deploy', token(`repo:${REPOSITORY}:ref:refs/heads/feature`))).toBe(false);
    expect(await canAssume(both, 'deploy', token(`repo:${REPOSITORY}:pull_request`))).toBe(false);
  });

  it('reuses an existing OIDC provider instead of creating a second one', async () => {
    const reused = await deployStack({ githubOidcProviderArn: PROVIDER });
    expect(reused.has('aws:iam/openIdConnectProvider:OpenIdConnectProvider')).toBe(false);
    expect(await canAssume(reused, 'deploy', token(`repo:${REPOSITORY}:environment:prod`))).toBe(true);
    expect(stack.one('aws:iam/openIdConnectProvider:OpenIdConnectProvider').inputs).toEqual(
      expect.objectContaining({
        url: 'https://token.actions.githubusercontent.com',
        clientIdLists: ['sts.amazonaws.com'],
      }),
    );
  });
});

describe('deploy role permissions (IAM evaluator)', () => {
  let stack: Stack;
  let deployPolicies: object[];
  beforeAll(async () => {
    stack = await deployStack({
      stateBackend: 's3',
      stateBucketName: 'retainwise-pulumi-state-prod',
      stateKmsKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/00000000-0000-4000-8000-000000000000`,
    });
    deployPolicies = [POWER_USER_ACCESS, stack.rolePolicy('github-deploy-deploy-stack')];
  });

  // KMS evaluates a key's own policy too; the keys this stack names keep the default, IAM-delegating one.
  const keyPolicy = (resource: string) =>
    resource.startsWith('arn:aws:kms:') ? defaultKeyPolicy(ACCOUNT) : undefined;
  const deployCan = async (action: string, resource: string, context: Record<string, string> = {}) =>
    (await decide({
      principal: DEPLOY,
      action,
      resource,
      context,
      identityPolicies: deployPolicies,
      resourcePolicy: keyPolicy(resource),
    })) === 'Allowed';

  it.each([
    'iam:UpdateAssumeRolePolicy',
    'iam:AttachRolePolicy',
    'iam:PutRolePolicy',
    'iam:DeleteRolePolicy',
    'iam:DetachRolePolicy',
    'iam:PutRolePermissionsBoundary',
    'iam:DeleteRole',
  ])('the deploy role cannot %s on itself', async (action) => {
    const context: Record<string, string> =
      action === 'iam:AttachRolePolicy'
        ? { 'iam:PolicyARN': 'arn:aws:iam::aws:policy/AdministratorAccess' }
        : {};
    expect(await deployCan(action, DEPLOY, context)).toBe(false);
  });

  // The roles it manages carry the stack's boundary (deploy-escalation.matrix.test.ts: without it, nothing).
  const bounded = {
    'iam:PermissionsBoundary': `arn:aws:iam::${ACCOUNT}:policy/retainwise-permissions-boundary`,
  };

  it("manages the stack's task roles and passes them to ECS tasks only", async () => {
    const worker = role('prod-retainwise-worker-task-role');
    expect(await deployCan('iam:PutRolePolicy', worker, bounded)).toBe(true);
    expect(await deployCan('iam:UpdateAssumeRolePolicy', worker, bounded)).toBe(true);
    expect(
      await deployCan('iam:PassRole', worker, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
    ).toBe(true);
    expect(await deployCan('iam:PassRole', worker, { 'iam:PassedToService': 'lambda.amazonaws.com' })).toBe(
      false,
    );
    expect(await deployCan('iam:PutRolePolicy', role('SomeoneElsesRole'), bounded)).toBe(false);
    expect(
      await deployCan('iam:PassRole', role('OrganizationAccountAccessRole'), {
        'iam:PassedToService': 'ecs-tasks.amazonaws.com',
      }),
    ).toBe(false);
  });

  it('may attach ReadOnlyAccess to the preview role, and nothing stronger', async () => {
    const attach = (policyArn: string) =>
      deployCan('iam:AttachRolePolicy', PREVIEW, { ...bounded, 'iam:PolicyARN': policyArn });
    expect(await attach('arn:aws:iam::aws:policy/ReadOnlyAccess')).toBe(true);
    expect(await attach('arn:aws:iam::aws:policy/AdministratorAccess')).toBe(false);
  });

  it("manages and passes the backend's execution role before the backend is enabled, so enabling it is a routine deploy", async () => {
    const backendExecution = role('retainwise-backend-ecs-task-execution-role');
    expect(await deployCan('iam:CreateRole', backendExecution, bounded)).toBe(true);
    expect(await deployCan('iam:PutRolePolicy', backendExecution, bounded)).toBe(true);
    expect(
      await deployCan('iam:PassRole', backendExecution, { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' }),
    ).toBe(true);
  });

  it('re-tags the OIDC provider and the permissions boundary when aws:defaultTags change', async () => {
    const boundary = `arn:aws:iam::${ACCOUNT}:policy/retainwise-permissions-boundary`;
    for (const action of ['iam:TagOpenIDConnectProvider', 'iam:UntagOpenIDConnectProvider']) {
      expect(await deployCan(action, PROVIDER), action).toBe(true);
    }
    for (const action of ['iam:TagPolicy', 'iam:UntagPolicy']) {
      expect(await deployCan(action, boundary), action).toBe(true);
    }
  });

  it('never tags itself: its tags are principal tags that ABAC conditions elsewhere may trust', async () => {
    for (const action of ['iam:TagRole', 'iam:UntagRole']) {
      expect(await deployCan(action, DEPLOY), action).toBe(false);
    }
  });

  it('reads and writes the state bucket and uses the secrets-provider key', async () => {
    const state = 'arn:aws:s3:::retainwise-pulumi-state-prod/.pulumi/stacks/retainwise/prod.json';
    const key = `arn:aws:kms:us-east-1:${ACCOUNT}:key/00000000-0000-4000-8000-000000000000`;
    expect(await deployCan('s3:PutObject', state)).toBe(true);
    expect(await deployCan('kms:Decrypt', key)).toBe(true);
  });
});
