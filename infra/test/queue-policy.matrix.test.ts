// Who can do what to the queues, decided by an IAM evaluator on the policies the program registers: each
// principal × each SQS action × through our VPC endpoint or not × TLS or not.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../policy.js';
import { ADMINISTRATOR_ACCESS, POWER_USER_ACCESS, READ_ONLY_ACCESS } from './support/aws-managed-policies.js';
import { decide } from './support/iam.js';
import { ACCOUNT, deployStack, type Stack } from './support/program.js';

const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const QUEUE_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-queue`;
const DLQ_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-dlq`;
const BREAK_GLASS = role('retainwise-break-glass');

const ALL = [
  'sqs:SendMessage',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:GetQueueAttributes',
  'sqs:PurgeQueue',
  'sqs:SetQueueAttributes',
  'sqs:AddPermission',
  'sqs:DeleteQueue',
] as const;
type SqsAction = (typeof ALL)[number];
const CONTROL_PLANE: SqsAction[] = ['sqs:SetQueueAttributes', 'sqs:AddPermission', 'sqs:DeleteQueue'];

type Principal =
  | 'backend'
  | 'worker'
  | 'deployer'
  | 'preview'
  | 'administrator'
  | 'breakGlass'
  | 'otherAccount'
  | 'anonymous';

/** The intended access: actions per queue, and whether the data plane is usable from outside the VPC. */
const INTENDED: Record<
  Principal,
  { queue: readonly SqsAction[]; dlq: readonly SqsAction[]; outsideVpc: boolean }
> = {
  backend: { queue: ['sqs:SendMessage', 'sqs:GetQueueAttributes'], dlq: [], outsideVpc: false },
  worker: {
    queue: [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
    ],
    dlq: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:GetQueueAttributes'],
    outsideVpc: false,
  },
  deployer: { queue: ALL, dlq: ALL, outsideVpc: true },
  preview: { queue: ['sqs:GetQueueAttributes'], dlq: ['sqs:GetQueueAttributes'], outsideVpc: true },
  // Administrators manage the queues from anywhere; reading or moving messages needs the VPC or break-glass.
  administrator: { queue: ALL, dlq: ALL, outsideVpc: false },
  breakGlass: { queue: ALL, dlq: ALL, outsideVpc: true },
  otherAccount: { queue: [], dlq: [], outsideVpc: false },
  anonymous: { queue: [], dlq: [], outsideVpc: false },
};

const NETWORKS = ['our endpoint', 'another endpoint', 'the internet'] as const;
type Network = (typeof NETWORKS)[number];

function intended(
  p: Principal,
  action: SqsAction,
  queue: 'queue' | 'dlq',
  network: Network,
  tls: boolean,
): boolean {
  const grant = INTENDED[p];
  return (
    tls &&
    grant[queue].includes(action) &&
    (CONTROL_PLANE.includes(action) || network === 'our endpoint' || grant.outsideVpc)
  );
}

describe('queue access matrix (IAM evaluator)', () => {
  let stack: Stack;
  let endpointId: string;
  let identities: Record<Principal, { arn: string; policies: object[] }>;
  const queuePolicy = (queue: 'queue' | 'dlq') =>
    stack.json<PolicyDocument>('aws:sqs/queuePolicy:QueuePolicy', `predictions-${queue}-policy`, 'policy');

  beforeAll(async () => {
    stack = await deployStack({ breakGlassPrincipalArns: [BREAK_GLASS] });
    endpointId = stack.one('aws:ec2/vpcEndpoint:VpcEndpoint', 'network-sqs').id;
    identities = {
      backend: {
        arn: role('prod-retainwise-backend-task-role'),
        policies: [stack.rolePolicy('task-roles-backend-backend-task')],
      },
      worker: {
        arn: role('prod-retainwise-worker-task-role'),
        policies: [stack.rolePolicy('task-roles-worker-worker-task')],
      },
      deployer: {
        arn: role('retainwise-cicd-ecs-deployment-role'),
        policies: [POWER_USER_ACCESS, stack.rolePolicy('github-deploy-deploy-stack')],
      },
      preview: {
        arn: role('retainwise-cicd-preview-role'),
        policies: [READ_ONLY_ACCESS, stack.rolePolicy('github-preview-preview-stack')],
      },
      administrator: { arn: role('Administrator'), policies: [ADMINISTRATOR_ACCESS] },
      breakGlass: { arn: BREAK_GLASS, policies: [ADMINISTRATOR_ACCESS] },
      otherAccount: { arn: role('Administrator', '210987654321'), policies: [ADMINISTRATOR_ACCESS] },
      anonymous: { arn: 'anonymous', policies: [] },
    };
  });

  const request = (
    p: Principal,
    action: SqsAction,
    queue: 'queue' | 'dlq',
    network: Network,
    tls: boolean,
  ) => {
    const context: Record<string, string> = { 'aws:SecureTransport': String(tls) };
    if (network === 'our endpoint') context['aws:SourceVpce'] = endpointId;
    if (network === 'another endpoint') context['aws:SourceVpce'] = 'vpce-0fedcba9876543210';
    return decide({
      principal: identities[p].arn,
      action,
      resource: queue === 'queue' ? QUEUE_ARN : DLQ_ARN,
      resourceAccount: ACCOUNT,
      context,
      identityPolicies: identities[p].policies,
      resourcePolicy: queuePolicy(queue),
    });
  };

  const cases = (Object.keys(INTENDED) as Principal[]).flatMap((p) =>
    (['queue', 'dlq'] as const).flatMap((queue) =>
      ALL.flatMap((action) =>
        NETWORKS.flatMap((network) =>
          [true, false].map((tls) => {
            const allowed = intended(p, action, queue, network, tls);
            return [
              `${p} ${allowed ? 'may' : 'may not'} ${action} on the ${queue} via ${network}${tls ? '' : ' without TLS'}`,
              p,
              action,
              queue,
              network,
              tls,
              allowed,
            ] as const;
          }),
        ),
      ),
    ),
  );

  it.each(cases)('%s', async (_, p, action, queue, network, tls, allowed) => {
    const decision = await request(p, action, queue, network, tls);
    expect(decision === 'Allowed').toBe(allowed);
  });

  it('denies explicitly (not merely by omission) a granted call that skips the endpoint or TLS', async () => {
    expect(await request('worker', 'sqs:ReceiveMessage', 'queue', 'the internet', true)).toBe(
      'ExplicitlyDenied',
    );
    expect(await request('worker', 'sqs:ReceiveMessage', 'queue', 'another endpoint', true)).toBe(
      'ExplicitlyDenied',
    );
    expect(await request('backend', 'sqs:SendMessage', 'queue', 'our endpoint', false)).toBe(
      'ExplicitlyDenied',
    );
  });

  it('lets the deployer change the queue attributes and policy from a CI runner (lessons #32)', async () => {
    expect(await request('deployer', 'sqs:SetQueueAttributes', 'queue', 'the internet', true)).toBe(
      'Allowed',
    );
    expect(await request('deployer', 'sqs:SetQueueAttributes', 'dlq', 'the internet', true)).toBe('Allowed');
    expect(await request('deployer', 'sqs:GetQueueAttributes', 'queue', 'the internet', true)).toBe(
      'Allowed',
    );
  });
});
