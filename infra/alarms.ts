// What pages a human: the alert topic, the alarms on the queues, the worker service and the worker's own
// metrics, and one dashboard. Every dimension names a resource of this stack (from outputs), and the worker
// metrics carry exactly the one dimension the worker emits, Environment (contracts.md §E; lessons #35).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { dashboardBody } from './dashboard.js';
import { dimensionMap, metric, queueCounts, SQS, type Dimension } from './metrics.js';
import { environmentName } from './names.js';
import { pick, withDefaults } from './validation.js';
import type { WorkerService } from './worker-service.js';
import { WORKER_METRICS_NAMESPACE } from './worker-settings.js';

/** Minutes jobs must keep waiting, besides the age, before the oldest-job alarm fires (about one scale-out). */
const OLDEST_JOB_WAITING_MINUTES = 3;

/** The alarm settings of the stack config (`retainwise:<key>`). */
export interface AlarmSettings {
  /** SNS topic all alarms notify (on ALARM and on OK). @default 'retainwise-cloudwatch-alerts' (`-<environment>` outside prod) */
  alarmTopicName?: string | undefined;
  /** Address subscribed to the topic; AWS sends a confirmation mail first. @default undefined (no subscription) */
  alarmEmail?: string | undefined;
  /** Alarm when the DLQ holds more messages than this. @default 5 */
  dlqDepthThreshold?: number | undefined;
  /** Alarm when a job has waited longer than this for a worker (see the oldest-job-age alarm). @default 1800 */
  oldestMessageAgeThresholdSeconds?: number | undefined;
  /** Alarm when more than this share of jobs fails, over three 5-minute periods. @default 5 */
  jobFailureRateThresholdPercent?: number | undefined;
  /** Alarm when jobs wait this long with none in progress (no worker task takes them). @default 15 */
  backlogWithoutWorkersMinutes?: number | undefined;
}

export type ResolvedAlarmSettings = Required<Omit<AlarmSettings, 'alarmEmail'>> &
  Pick<AlarmSettings, 'alarmEmail'>;

/** The alarm settings with every default applied (the only place they are). */
export function resolveAlarmSettings(s: AlarmSettings, environment: string): ResolvedAlarmSettings {
  return {
    ...withDefaults(
      {
        alarmTopicName: environmentName('retainwise-cloudwatch-alerts', environment),
        dlqDepthThreshold: 5,
        oldestMessageAgeThresholdSeconds: 1800,
        jobFailureRateThresholdPercent: 5,
        backlogWithoutWorkersMinutes: 15,
      },
      pick(s, [
        'alarmTopicName',
        'dlqDepthThreshold',
        'oldestMessageAgeThresholdSeconds',
        'jobFailureRateThresholdPercent',
        'backlogWithoutWorkersMinutes',
      ]),
    ),
    alarmEmail: s.alarmEmail,
  };
}

export interface AlarmsArgs extends AlarmSettings {
  /** The worker's ENVIRONMENT: the only dimension of its metrics. */
  environment: string;
  /** Its queues, cluster and service are what the alarms watch. */
  worker: WorkerService;
  /** @default `retainwise-<environment>` */
  dashboardName?: string;
  region: string;
}

export class Alarms extends pulumi.ComponentResource {
  readonly topic: aws.sns.Topic;
  readonly alarms: aws.cloudwatch.MetricAlarm[];
  readonly dashboard: aws.cloudwatch.Dashboard;
  readonly dashboardUrl: pulumi.Output<string>;

  constructor(name: string, args: AlarmsArgs, opts?: pulumi.ComponentResourceOptions) {
    super('retainwise:monitoring:Alarms', name, {}, opts);
    const parent = { parent: this };
    const t = resolveAlarmSettings(args, args.environment);
    const { queues } = args.worker;
    const queueName = queues.queue.name;
    const dlqName = queues.deadLetterQueue.name;
    const clusterName = args.worker.cluster.name;
    const serviceName = args.worker.fargate.service.name;

    // Unencrypted on purpose: CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key,
    // and alarm notifications carry no customer data.
    this.topic = new aws.sns.Topic(`${name}-topic`, { name: t.alarmTopicName }, parent);
    if (t.alarmEmail) {
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: this.topic.arn, protocol: 'email', endpoint: t.alarmEmail },
        parent,
      );
    }

    const queue: Dimension[] = [{ name: 'QueueName', value: queueName }];
    const dlq: Dimension[] = [{ name: 'QueueName', value: dlqName }];
    const worker: Dimension[] = [{ name: 'Environment', value: args.environment }];
    const notify = { alarmActions: [this.topic.arn], okActions: [this.topic.arn] };
    const alarm = (id: string, props: Omit<aws.cloudwatch.MetricAlarmArgs, 'name'>) =>
      new aws.cloudwatch.MetricAlarm(
        `${name}-${id}`,
        { name: `retainwise-${args.environment}-${id}`, ...notify, ...props },
        parent,
      );

    this.alarms = [
      alarm('dlq-messages', {
        alarmDescription: pulumi.interpolate`More than ${t.dlqDepthThreshold} messages in ${dlqName} (waiting, or held in flight while an operator reads them): jobs the worker rejected or gave up on (their predictions are FAILED). Runbook docs/operations.md: npm run ops -- dlq list, fix the cause, then npm run ops -- dlq redrive.`,
        metricQueries: [
          ...queueCounts(dlq, 300),
          {
            id: 'deadLetters',
            // Dead letters an operator is reading (`npm run ops -- dlq list` receives them) count as not
            // visible meanwhile. Metric math adds series treating a missing value as 0 (CloudWatch "Using
            // metric math", basic arithmetic).
            expression: 'visible + inFlight',
            label: 'Dead letters (visible + in flight)',
            returnData: true,
          },
        ],
        evaluationPeriods: 1,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: t.dlqDepthThreshold,
        // An empty DLQ goes quiet after hours of inactivity; a non-empty one always reports.
        treatMissingData: 'notBreaching',
      }),
      alarm('oldest-job-age', {
        alarmDescription: pulumi.interpolate`Jobs have been waiting in ${queueName} for ${OLDEST_JOB_WAITING_MINUTES} minutes while its oldest message is more than ${t.oldestMessageAgeThresholdSeconds} s old: a job has waited that long for a worker, or jobs keep waiting behind long ones. The worker service ${serviceName} is not keeping up or not running. Runbook docs/operations.md: npm run ops -- status.`,
        metricQueries: [
          metric('visible', SQS, 'ApproximateNumberOfMessagesVisible', queue, 'Maximum'),
          metric('age', SQS, 'ApproximateAgeOfOldestMessage', queue, 'Maximum'),
          {
            id: 'waitingAge',
            // The age is that of the oldest non-deleted message, in flight included (SQS developer guide,
            // "Available CloudWatch metrics for Amazon SQS"), and a running job's message stays in flight for up
            // to JOB_TIMEOUT_SECONDS (worker/src/consumer.ts heartbeat): alone it fires on healthy long jobs.
            // It only counts while messages wait for a worker.
            expression: 'IF(visible >= 1, age, 0)',
            label: 'Age of the oldest message while jobs wait (s)',
            returnData: true,
          },
        ],
        // A job that waits a minute or two for a new task beside a long one in flight sees that job's age.
        evaluationPeriods: OLDEST_JOB_WAITING_MINUTES,
        datapointsToAlarm: OLDEST_JOB_WAITING_MINUTES,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: t.oldestMessageAgeThresholdSeconds,
        // No data: an idle queue has no old message.
        treatMissingData: 'notBreaching',
      }),
      alarm('backlog-without-workers', {
        alarmDescription: pulumi.interpolate`Jobs have waited ${t.backlogWithoutWorkersMinutes} minutes in ${queueName} while no job was in progress: ${serviceName} in ${clusterName} runs no task that takes jobs (scaling from zero failed, or tasks cannot start: image, secret, model load). Runbook docs/operations.md: npm run ops -- status.`,
        metricQueries: [
          ...queueCounts(queue),
          {
            id: 'stalled',
            // SQS alone: Container Insights may publish nothing for a service with no task, and FILL cannot be
            // relied on to invent datapoints for a series that has none. SQS reports both counts for an active
            // queue, and a queue with waiting messages is active.
            expression: 'IF(visible >= 1 AND inFlight == 0, 1, 0)',
            label: 'Jobs waiting, none in progress',
            returnData: true,
          },
        ],
        evaluationPeriods: t.backlogWithoutWorkersMinutes,
        datapointsToAlarm: t.backlogWithoutWorkersMinutes,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        // No queue data: the queue is idle, nothing is waiting.
        treatMissingData: 'notBreaching',
      }),
      alarm('job-failure-rate', {
        alarmDescription: `More than ${t.jobFailureRateThresholdPercent} % of jobs failed (JobsFailed ÷ (JobsFailed + JobsCompleted), ${WORKER_METRICS_NAMESPACE}, Environment=${args.environment}) in three consecutive 5-minute periods. Runbook docs/operations.md: failures by reason in Logs Insights, then npm run ops -- dlq list.`,
        metricQueries: [
          metric('failed', WORKER_METRICS_NAMESPACE, 'JobsFailed', worker, 'Sum', 300),
          metric('completed', WORKER_METRICS_NAMESPACE, 'JobsCompleted', worker, 'Sum', 300),
          {
            id: 'failureRate',
            expression:
              'IF(FILL(failed, 0) + FILL(completed, 0) > 0, 100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(completed, 0)), 0)',
            label: 'Failed jobs (%)',
            returnData: true,
          },
        ],
        evaluationPeriods: 3,
        datapointsToAlarm: 3,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: t.jobFailureRateThresholdPercent,
        // No jobs, no failures.
        treatMissingData: 'notBreaching',
      }),
      alarm('message-parse-errors', {
        alarmDescription: `The worker rejected job messages as invalid (MessageParseError, Environment=${args.environment}): the publisher and the message contract disagree. The messages are in the DLQ with a rejection_reason attribute. Runbook docs/operations.md: npm run ops -- dlq list.`,
        namespace: WORKER_METRICS_NAMESPACE,
        metricName: 'MessageParseError',
        dimensions: dimensionMap(worker),
        statistic: 'Sum',
        period: 300,
        evaluationPeriods: 1,
        comparisonOperator: 'GreaterThanThreshold',
        threshold: 0,
        // The metric is only emitted when a message is rejected.
        treatMissingData: 'notBreaching',
      }),
    ];

    const dashboardName = args.dashboardName ?? `retainwise-${args.environment}`;
    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        dashboardName,
        dashboardBody: pulumi
          .all([queueName, dlqName, clusterName, serviceName, pulumi.all(this.alarms.map((a) => a.arn))])
          .apply(([queueName, dlqName, clusterName, serviceName, alarmArns]) =>
            JSON.stringify(
              dashboardBody({
                queueName,
                dlqName,
                clusterName,
                serviceName,
                environment: args.environment,
                region: args.region,
                alarmArns,
              }),
            ),
          ),
      },
      parent,
    );
    this.dashboardUrl = pulumi.output(
      `https://${args.region}.console.aws.amazon.com/cloudwatch/home?region=${args.region}#dashboards/dashboard/${dashboardName}`,
    );
    this.registerOutputs({ topicArn: this.topic.arn, dashboardUrl: this.dashboardUrl });
  }
}
