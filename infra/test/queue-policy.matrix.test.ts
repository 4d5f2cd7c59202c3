// Who can do what to the queues, decided by an IAM evaluator on the policies the program registers: each
// principal × each SQS action × through our VPC endpoint or not × TLS or not.
import { beforeAll, describe, expect, it } from 'vitest';
import type { PolicyDocument } from '../policy.js';
import { ADMINISTRATOR_ACCESS, POWER_USER_ACCESS, READ_ONLY_ACCESS } from './support/aws-managed-policies.js';
import { decide } from './support/iam.js';
import { ACCOUNT, deployStack, type Stack } from './support/program.js';
import { MESSAGE_ACTIONS } from './support/sqs-actions.js';

const role = (name: string, account = ACCOUNT) => `arn:aws:iam::${account}:role/${name}`;
const QUEUE_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-queue`;
const DLQ_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-dlq`;
const BREAK_GLASS = role('retainwise-break-glass');

const METADATA = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:ListQueueTags'] as const;
const CONTROL_PLANE = [
  'sqs:SetQueueAttributes',
  'sqs:AddPermission',
  'sqs:TagQueue',
  'sqs:DeleteQueue',
] as const;
const ALL = [...MESSAGE_ACTIONS, ...METADATA, ...CONTROL_PLANE];
type SqsAction = (typeof ALL)[number];
const isMessageAction = (action: SqsAction) => (MESSAGE_ACTIONS as readonly string[]).includes(action);

type Principal =
  | 'backend'
  | 'worker'
  | 'deployer'
  | 'preview'
  | 'administrator'
  | 'breakGlass'
  | 'operator'
  | 'keepAlive'
  | 'otherAccount'
  | 'anonymous';

/**
 * The intended access: the actions each principal's own policies grant per queue, and where it may use them
 * from. Workloads only through our endpoint; exempt principals from anywhere; everyone else manages and
 * inspects the queues from anywhere but touches messages only through the endpoint.
 */
const INTENDED: Record<
  Principal,
  { queue: readonly SqsAction[]; dlq: readonly SqsAction[]; outsideVpc: 'nothing' | 'no messages' | 'all' }
> = {
  backend: {
    queue: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
    dlq: [],
    outsideVpc: 'nothing',
  },
  worker: {
    queue: [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
    ],
    dlq: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
    outsideVpc: 'nothing',
  },
  deployer: { queue: ALL, dlq: ALL, outsideVpc: 'no messages' },
  preview: { queue: METADATA, dlq: METADATA, outsideVpc: 'no messages' },
  administrator: { queue: ALL, dlq: ALL, outsideVpc: 'no messages' },
  breakGlass: { queue: ALL, dlq: ALL, outsideVpc: 'all' },
  operator: {
    queue: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
    dlq: [
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:StartMessageMoveTask',
      'sqs:CancelMessageMoveTask',
      'sqs:GetQueueAttributes',
    ],
    outsideVpc: 'all',
  },
  // The keep-alive function runs outside the VPC (infra/queue-keep-alive.ts): it may, as it touches no message.
  keepAlive: { queue: ['sqs:GetQueueAttributes'], dlq: [], outsideVpc: 'no messages' },
  otherAccount: { queue: [], dlq: [], outsideVpc: 'nothing' },
  anonymous: { queue: [], dlq: [], outsideVpc: 'nothing' },
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
  const fromHere =
    network === 'our endpoint' ||
    grant.outsideVpc === 'all' ||
    (grant.outsideVpc === 'no messages' && !isMessageAction(action));
  return tls && grant[queue].includes(action) && fromHere;
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
      operator: { arn: role('retainwise-operator'), policies: [stack.rolePolicy('operator-operate-queues')] },
      keepAlive: {
        arn: role('retainwise-queue-keep-alive-role'),
        policies: [stack.rolePolicy('queue-keep-alive-function-queue-keep-alive')],
      },
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

  const fromTheInternet = (arn: string, policies: object[], action: string, queue: 'queue' | 'dlq') =>
    decide({
      principal: arn,
      action,
      resource: queue === 'queue' ? QUEUE_ARN : DLQ_ARN,
      resourceAccount: ACCOUNT,
      context: { 'aws:SecureTransport': 'true' },
      identityPolicies: policies,
      resourcePolicy: queuePolicy(queue),
    });

  // Every call the AWS provider (terraform-provider-aws, bridged by pulumi-aws) makes for aws.sqs.Queue,
  // QueuePolicy and RedriveAllowPolicy: internal/service/sqs/queue.go (CreateQueue; GetQueueAttributes to wait
  // for propagation and to read; SetQueueAttributes; DeleteQueue), attribute_funcs.go (the policy resources:
  // SetQueueAttributes, GetQueueAttributes), tags_gen.go (ListQueueTags, TagQueue, UntagQueue) and
  // queue_data_source.go (GetQueueUrl, ListQueueTags).
  it.each([
    'sqs:CreateQueue',
    'sqs:GetQueueAttributes',
    'sqs:SetQueueAttributes',
    'sqs:DeleteQueue',
    'sqs:ListQueueTags',
    'sqs:TagQueue',
    'sqs:UntagQueue',
    'sqs:GetQueueUrl',
  ])('lets an administrator on a workstation make the provider call %s on both queues', async (action) => {
    for (const queue of ['queue', 'dlq'] as const) {
      expect(await fromTheInternet(role('Administrator'), [ADMINISTRATOR_ACCESS], action, queue)).toBe(
        'Allowed',
      );
    }
  });

  it.each(['worker', 'backend'] as const)(
    'denies a %s task-role credential used outside the VPC every SQS call, even were its role granted sqs:*',
    async (which) => {
      const everything = {
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Action: 'sqs:*', Resource: '*' }],
      };
      const actions = [
        ...ALL,
        'sqs:ListDeadLetterSourceQueues',
        'sqs:ListMessageMoveTasks',
        'sqs:CancelMessageMoveTask',
        'sqs:RemovePermission',
        'sqs:UntagQueue',
      ];
      for (const queue of ['queue', 'dlq'] as const) {
        for (const action of actions) {
          expect(
            await fromTheInternet(identities[which].arn, [everything], action, queue),
            `${action} on the ${queue}`,
          ).toBe('ExplicitlyDenied');
        }
      }
    },
  );
});
