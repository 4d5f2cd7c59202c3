// The prediction job queue, its dead-letter queue and their resource policies (spec/message-contract.md §2).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { policyDocument, policyJson, roleArn, type PolicyDocument } from './policy.js';
import { assertValid, check, inRange, pick, withDefaults, type Issue } from './validation.js';

/** The existing queues' settings (spec/existing-system-lessons.md §E). */
export const QUEUE_DEFAULTS = {
  visibilityTimeoutSeconds: 300,
  messageRetentionSeconds: 345_600,
  dlqMessageRetentionSeconds: 1_209_600,
  receiveWaitTimeSeconds: 20,
  maxMessageSizeBytes: 262_144,
  maxReceiveCount: 3,
  kmsDataKeyReusePeriodSeconds: 300,
} as const;

/**
 * Actions that read, write, move or destroy messages (batch APIs are authorised as their single-message action).
 * Metadata reads (GetQueueAttributes, GetQueueUrl, ListQueueTags, ListDeadLetterSourceQueues,
 * ListMessageMoveTasks) and the control plane are deliberately absent: the AWS provider makes those calls to
 * create, read and refresh the queues and their policies, and an administrator must always be able to repair
 * them from a workstation (lessons #32).
 */
export const SQS_MESSAGE_ACTIONS = [
  'sqs:SendMessage',
  'sqs:ReceiveMessage',
  'sqs:DeleteMessage',
  'sqs:ChangeMessageVisibility',
  'sqs:PurgeQueue',
  'sqs:StartMessageMoveTask',
  'sqs:CancelMessageMoveTask',
];

export interface QueuePolicyInputs {
  queueArn: string;
  sqsVpcEndpointId: string;
  /** Task roles of the services using the queue: bound to the endpoint for every SQS call. */
  workloadPrincipalArns: string[];
  /** Principals (role ARNs) that may use messages from anywhere: the operator and break-glass roles. */
  exemptPrincipalArns: string[];
}

/**
 * Deny-only resource policy: grants live in the roles' identity policies (one place to read who can do what),
 * this policy only narrows them (lessons #33).
 *
 * - The workloads' task roles are bound to the endpoint for every SQS call: a task-role credential leaked out
 *   of the VPC can do nothing with the queue, whatever its identity policy grants.
 * - Everyone else may manage and inspect the queue from anywhere, as far as their own policies allow, but may
 *   touch messages only through the endpoint: jobs carry customer file locations, so a workstation or CI
 *   runner never reads, sends, deletes or redrives them. Day-2 message work from outside the VPC goes through
 *   the operator role (MFA) or a break-glass role, exempt by ARN.
 */
export function queuePolicyDocument(p: QueuePolicyInputs): PolicyDocument {
  return policyDocument([
    {
      Sid: 'DenyWithoutTls',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:*',
      Resource: p.queueArn,
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
    },
    {
      Sid: 'DenyWorkloadsOutsideVpcEndpoint',
      Effect: 'Deny',
      Principal: '*',
      Action: 'sqs:*',
      Resource: p.queueArn,
      Condition: {
        StringNotEquals: { 'aws:SourceVpce': p.sqsVpcEndpointId },
        ArnEquals: { 'aws:PrincipalArn': p.workloadPrincipalArns },
      },
    },
    {
      Sid: 'DenyMessagesOutsideVpcEndpoint',
      Effect: 'Deny',
      Principal: '*',
      Action: SQS_MESSAGE_ACTIONS,
      Resource: p.queueArn,
      Condition: {
        StringNotEquals: { 'aws:SourceVpce': p.sqsVpcEndpointId },
        ...(p.exemptPrincipalArns.length > 0 && {
          ArnNotLike: { 'aws:PrincipalArn': p.exemptPrincipalArns },
        }),
      },
    },
  ]);
}

/** The queue settings of the stack config (`retainwise:<key>`). */
export interface QueueSettings {
  /** Name of the job queue (standard, not FIFO). @default `<environment>-retainwise-predictions-queue` */
  queueName?: string | undefined;
  /** Name of the dead-letter queue. @default `<environment>-retainwise-predictions-dlq` */
  dlqName?: string | undefined;
  /** Seconds a received message stays invisible; the worker extends it by heartbeat. @default 300 */
  visibilityTimeoutSeconds?: number | undefined;
  /** Seconds the job queue keeps a message; the worker's MESSAGE_MAX_AGE_SECONDS equals it. @default 345600 (4 days) */
  messageRetentionSeconds?: number | undefined;
  /** Seconds the DLQ keeps a message; must exceed the main queue's because SQS keeps the original enqueue time. @default 1209600 (14 days) */
  dlqMessageRetentionSeconds?: number | undefined;
  /** Long-poll wait of ReceiveMessage, for both queues. @default 20 */
  receiveWaitTimeSeconds?: number | undefined;
  /** Largest accepted message body. @default 262144 */
  maxMessageSizeBytes?: number | undefined;
  /** Receives before SQS moves a message to the DLQ; the worker's MAX_RECEIVE_COUNT equals it. @default 3 */
  maxReceiveCount?: number | undefined;
  /** Customer managed KMS key ARN for encryption at rest. @default undefined (SQS-managed SSE) */
  queueKmsKeyArn?: string | undefined;
  /** How long SQS reuses a KMS data key (only with `queueKmsKeyArn`). @default 300 */
  kmsDataKeyReusePeriodSeconds?: number | undefined;
  /** Break-glass role ARNs allowed to use messages from outside the VPC (e.g. a DLQ redrive from the console). @default [] */
  breakGlassPrincipalArns?: string[] | undefined;
}

export type ResolvedQueueSettings = Required<Omit<QueueSettings, 'queueKmsKeyArn'>> &
  Pick<QueueSettings, 'queueKmsKeyArn'>;

/** The queue settings with every default applied (the only place they are). */
export function resolveQueueSettings(s: QueueSettings, environment: string): ResolvedQueueSettings {
  return {
    ...withDefaults(
      {
        ...QUEUE_DEFAULTS,
        queueName: `${environment}-retainwise-predictions-queue`,
        dlqName: `${environment}-retainwise-predictions-dlq`,
        breakGlassPrincipalArns: [] as string[],
      },
      pick(s, [
        'queueName',
        'dlqName',
        'visibilityTimeoutSeconds',
        'messageRetentionSeconds',
        'dlqMessageRetentionSeconds',
        'receiveWaitTimeSeconds',
        'maxMessageSizeBytes',
        'maxReceiveCount',
        'kmsDataKeyReusePeriodSeconds',
        'breakGlassPrincipalArns',
      ]),
    ),
    queueKmsKeyArn: s.queueKmsKeyArn,
  };
}

export interface PredictionQueuesArgs extends QueueSettings {
  environment: string;
  /** The SQS interface endpoint all data-plane calls must come through (`aws:SourceVpce`). */
  sqsVpcEndpointId: pulumi.Input<string>;
  /** Task roles of the services that use the queues, bound to the SQS endpoint for every call. At least one. */
  workloadRoleNames: string[];
  /** The operator role(s), whose own policy decides their message access from anywhere. @default [] */
  operatorRoleNames?: string[];
  accountId: pulumi.Input<string>;
}

const QUEUE_NAME = /^[A-Za-z0-9_-]{1,80}$/;

/** Settings checks shared by the component and the stack config (keys are the argument / config key names). */
export function validateQueueSettings(s: ResolvedQueueSettings): Issue[] {
  return check(
    [
      QUEUE_NAME.test(s.queueName),
      'queueName',
      'must be 1-80 letters, digits, "-" or "_" (a standard queue)',
    ],
    [QUEUE_NAME.test(s.dlqName), 'dlqName', 'must be 1-80 letters, digits, "-" or "_" (a standard queue)'],
    [
      s.queueName !== s.dlqName,
      { dlqName: "must differ from the job queue's name", queueName: "must differ from the DLQ's name" },
    ],
    [inRange(s.visibilityTimeoutSeconds, 0, 43_200), 'visibilityTimeoutSeconds', 'must be 0-43200'],
    [inRange(s.messageRetentionSeconds, 60, 1_209_600), 'messageRetentionSeconds', 'must be 60-1209600'],
    [
      inRange(s.dlqMessageRetentionSeconds, 60, 1_209_600),
      'dlqMessageRetentionSeconds',
      'must be 60-1209600',
    ],
    [
      s.dlqMessageRetentionSeconds > s.messageRetentionSeconds,
      {
        dlqMessageRetentionSeconds: `must exceed the job queue's retention (${s.messageRetentionSeconds} s): a dead-lettered message keeps its original enqueue time and would expire early`,
        messageRetentionSeconds: `must be shorter than the DLQ's retention (${s.dlqMessageRetentionSeconds} s): a dead-lettered message keeps its original enqueue time and would expire early`,
      },
    ],
    [inRange(s.receiveWaitTimeSeconds, 1, 20), 'receiveWaitTimeSeconds', 'must be 1-20 (long polling)'],
    [inRange(s.maxMessageSizeBytes, 1024, 1_048_576), 'maxMessageSizeBytes', 'must be 1024-1048576'],
    [inRange(s.maxReceiveCount, 1, 1000), 'maxReceiveCount', 'must be 1-1000'],
    [inRange(s.kmsDataKeyReusePeriodSeconds, 60, 86_400), 'kmsDataKeyReusePeriodSeconds', 'must be 60-86400'],
  );
}

export class PredictionQueues extends pulumi.ComponentResource {
  readonly queue: aws.sqs.Queue;
  readonly deadLetterQueue: aws.sqs.Queue;
  /** The resolved settings, which the worker's environment repeats (contracts.md §D). */
  readonly settings: ResolvedQueueSettings;

  constructor(name: string, args: PredictionQueuesArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = resolveQueueSettings(args, args.environment);
    assertValid(`PredictionQueues '${name}' arguments`, [
      ...validateQueueSettings(s),
      ...check([
        args.workloadRoleNames.length > 0,
        'workloadRoleNames',
        'needs at least the worker task role: without one, nothing binds a leaked credential to the VPC',
      ]),
    ]);
    super('retainwise:messaging:PredictionQueues', name, {}, opts);
    this.settings = s;

    const encryption = s.queueKmsKeyArn
      ? { kmsMasterKeyId: s.queueKmsKeyArn, kmsDataKeyReusePeriodSeconds: s.kmsDataKeyReusePeriodSeconds }
      : { sqsManagedSseEnabled: true };
    // Replacing a queue drops its messages: a rename or a type change must be a deliberate, two-step act.
    const queueOpts: pulumi.CustomResourceOptions = { parent: this, protect: true };

    // Settings the two queues take alike; only retention (and the redrive policy) differ.
    const common = {
      visibilityTimeoutSeconds: s.visibilityTimeoutSeconds,
      receiveWaitTimeSeconds: s.receiveWaitTimeSeconds,
      maxMessageSize: s.maxMessageSizeBytes,
      ...encryption,
    };

    this.deadLetterQueue = new aws.sqs.Queue(
      `${name}-dlq`,
      { name: s.dlqName, messageRetentionSeconds: s.dlqMessageRetentionSeconds, ...common },
      queueOpts,
    );
    this.queue = new aws.sqs.Queue(
      `${name}-queue`,
      {
        name: s.queueName,
        messageRetentionSeconds: s.messageRetentionSeconds,
        delaySeconds: 0,
        redrivePolicy: this.deadLetterQueue.arn.apply((deadLetterTargetArn) =>
          JSON.stringify({ deadLetterTargetArn, maxReceiveCount: s.maxReceiveCount }),
        ),
        ...common,
      },
      queueOpts,
    );
    // A separate resource: the DLQ's allow-list names the main queue, whose redrive policy names the DLQ.
    new aws.sqs.RedriveAllowPolicy(
      `${name}-dlq-redrive-allow`,
      {
        queueUrl: this.deadLetterQueue.url,
        redriveAllowPolicy: this.queue.arn.apply((arn) =>
          JSON.stringify({ redrivePermission: 'byQueue', sourceQueueArns: [arn] }),
        ),
      },
      { parent: this },
    );

    for (const [suffix, queue] of [
      ['queue', this.queue],
      ['dlq', this.deadLetterQueue],
    ] as const) {
      new aws.sqs.QueuePolicy(
        `${name}-${suffix}-policy`,
        {
          queueUrl: queue.url,
          policy: policyJson(
            [queue.arn, args.sqsVpcEndpointId, args.accountId],
            ([queueArn, endpoint, accountId]) =>
              queuePolicyDocument({
                queueArn,
                sqsVpcEndpointId: endpoint,
                // By name: the task roles' policies name the queues, so the roles come after them.
                workloadPrincipalArns: args.workloadRoleNames.map((n) => roleArn(accountId, n)),
                exemptPrincipalArns: [
                  ...(args.operatorRoleNames ?? []).map((n) => roleArn(accountId, n)),
                  ...s.breakGlassPrincipalArns,
                ],
              }),
          ),
        },
        { parent: this },
      );
    }

    this.registerOutputs({ queueUrl: this.queue.url, dlqUrl: this.deadLetterQueue.url });
  }
}
