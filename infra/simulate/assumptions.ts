// Every AWS latency and billing rule the simulation relies on, in one table, each with where it is written down.
// A range is drawn uniformly per run: the sources give bounds or a few observations, never a distribution, so a
// uniform draw is itself an assumption (named in `note`). Where AWS documents nothing, the value is the
// optimistic one (0 s) and says so: the simulation then understates, never overstates, the wait.
// Our own figures (worker ready time, rows per second) are not here: they are read from worker/bench/results.json.

export interface Range {
  min: number;
  max: number;
}

export interface Assumption {
  /** Seconds (a fixed value or a uniformly drawn range). */
  seconds: number | Range;
  what: string;
  /** Document title (or thread) and address. */
  source: string;
  note?: string;
}

const SQS_MONITORING =
  'Amazon SQS Developer Guide, "Monitoring Amazon SQS queues using CloudWatch" — https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/monitoring-using-cloudwatch.html (awsdocs/amazon-sqs-developer-guide doc_source/sqs-monitoring-using-cloudwatch.md)';

export const AWS_ASSUMPTIONS = {
  sqsMetricInterval: {
    seconds: 60,
    what: 'SQS pushes its queue metrics to CloudWatch once a minute while the queue is active',
    source: SQS_MONITORING,
    note: 'A datapoint is taken to be readable by alarms at the end of the minute it describes (no further publication lag: optimistic).',
  },
  sqsInactiveAfter: {
    seconds: 6 * 3600,
    what: 'A queue counts as active for up to six hours after it held a message or any action accessed it; an inactive queue publishes no metrics',
    source: SQS_MONITORING,
    note: 'ReceiveMessage by a running worker and GetQueueAttributes both access the queue (the same page: the console "performs a GetQueueAttributes API call… activates the queue").',
  },
  sqsReactivationDelay: {
    seconds: { min: 0, max: 900 },
    what: '"A delay of up to 15 minutes occurs in CloudWatch metrics when a queue is activated from an inactive state"',
    source: SQS_MONITORING,
    note: 'Only the bound is documented; drawn uniformly in [0, 15 min]. Datapoints of the delayed minutes never reach the alarm in time to matter.',
  },
  alarmEvaluation: {
    seconds: 60,
    what: '"For any period of one minute or longer, an alarm is evaluated every minute"; alarms in ALARM invoke Auto Scaling actions again every minute',
    source:
      'Amazon CloudWatch User Guide, "Using Amazon CloudWatch alarms" (Evaluating an alarm) — https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html; https://repost.aws/knowledge-center/autoscaling-policy-cloudwatch-alarm',
    note: 'Evaluations fall on minute boundaries; an upload lands anywhere in its minute.',
  },
  stepScalingAction: {
    seconds: 0,
    what: 'From the alarm invoking the step policy to ECS holding the new desired count',
    source:
      'Application Auto Scaling User Guide, "Step scaling policies" — https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-step-scaling-policies.html (no latency documented)',
    note: 'Undocumented: 0 s, optimistic.',
  },
  scheduledAction: {
    seconds: 0,
    what: 'A scheduled action sets MinCapacity at its cron time; "If current capacity is less than the specified minimum capacity, Application Auto Scaling scales out… to the specified minimum capacity"',
    source:
      'Application Auto Scaling User Guide, "Scheduled scaling" — https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html',
    note: 'No precision documented: taken to act at its cron time (0 s).',
  },
  fargateProvisioning: {
    seconds: { min: 11, max: 44 },
    what: 'Fargate task from created to image pull started (capacity and network interface provisioning)',
    source:
      'opensearch-project/opensearch-migrations pull request #2116, "Increase wait_for_service_status timeout to 3 minutes" — https://github.com/opensearch-project/opensearch-migrations/pull/2116 (createdAt → pullStartedAt: 11 s and 44 s in one test run)',
    note: 'Two field observations, not an AWS figure; drawn uniformly between them.',
  },
  imagePull: {
    seconds: { min: 9, max: 29 },
    what: 'Pull and unpack of the worker image from ECR through the VPC endpoints',
    source:
      'Amazon ECS Developer Guide, "Linux containers on Fargate container image pull behavior" — https://docs.aws.amazon.com/AmazonECS/latest/developerguide/fargate-pull-behavior.html ("the whole container image needs to be pulled… for each Fargate task"; pull time "directly correlated" with start time); aws/containers-roadmap#358 — https://github.com/aws/containers-roadmap/issues/358 ("20-40 seconds when pulling images from within a VPC")',
    note: 'AWS publishes no pull rate: the 20–40 s task starts of #358 less the 11 s provisioning floor above. A smaller image scales this range by its size ratio.',
  },
  longPolling: {
    seconds: 0,
    what: 'A worker long-polling the queue receives a message as soon as one is available',
    source:
      'Amazon SQS Developer Guide, "Amazon SQS short and long polling" — https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-short-and-long-polling.html ("Return messages as soon as they become available")',
  },
  schedulerPrecision: {
    seconds: { min: 0, max: 60 },
    what: 'EventBridge Scheduler invokes a target within the minute it is due ("60 second precision")',
    source:
      'EventBridge Scheduler User Guide, "Schedule types in EventBridge Scheduler" — https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html',
    note: 'A once-a-minute queue poll therefore sees an upload 0–60 s after it lands (its phase drawn uniformly).',
  },
  wakeCall: {
    seconds: 0,
    what: 'An ecs:UpdateService call raising the desired count (from the poller, or from the backend right after it sends the job)',
    source:
      'Amazon ECS API Reference, "UpdateService" — https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_UpdateService.html (no latency documented)',
    note: 'Undocumented: 0 s, optimistic.',
  },
  fargateBilling: {
    seconds: 60,
    what: 'Fargate bills vCPU and memory "from the time you start to download your container image until the Amazon ECS Task terminates, rounded up to the nearest second", with a one-minute minimum',
    source: 'AWS Fargate pricing — https://aws.amazon.com/fargate/pricing/',
    note: 'The minimum, in seconds; prices per task-hour come from infra/plan/pricing.ts for the registered task size.',
  },
} satisfies Record<string, Assumption>;

export type AssumptionName = keyof typeof AWS_ASSUMPTIONS;
