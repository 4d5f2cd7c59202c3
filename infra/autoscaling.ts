// Scales the worker service (never the API: lessons #36) on queue depth:
// - target tracking on backlog per task (visible messages ÷ running tasks, CloudWatch metric math);
// - a step policy that starts the first task when work arrives while no task is desired (target tracking
//   cannot divide by zero tasks);
// - a step policy that returns to minTasks once the queue has been empty (visible + in flight) for a while.
// Target tracking never scales in: a running job is never interrupted by a scale-in decision.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { CONTAINER_INSIGHTS, metric, SQS, type Dimension } from './metrics.js';
import { assertValid, check, inRange, withDefaults, type Issue } from './validation.js';

export const SCALING_DEFAULTS = {
  minTasks: 0,
  maxTasks: 4,
  acceptableLatencySeconds: 300,
  averageJobSeconds: 60,
  scaleInIdleMinutes: 15,
};

export interface ScalingSettings {
  /** Tasks kept running when the queue is idle; 0 lets the service scale to zero. @default 0 */
  minTasks?: number;
  /** Upper bound of the service, e.g. what the database's connection limit allows. @default 4 */
  maxTasks?: number;
  /** How long a job may wait in the queue before a task picks it up, in seconds. @default 300 */
  acceptableLatencySeconds?: number;
  /** Mean wall-clock time of one job (see the JobDuration metric), in seconds. @default 60 */
  averageJobSeconds?: number;
  /** Minutes with no visible and no in-flight message before the service returns to minTasks. @default 15 */
  scaleInIdleMinutes?: number;
}

/**
 * Backlog per task the service should hold (AWS's "acceptable backlog per task"): the messages one task
 * clears within the acceptable latency. A task runs `workerConcurrency` jobs at once, so its time per message
 * is averageJobSeconds ÷ workerConcurrency; with concurrency 1 this is acceptableLatency ÷ averageJobTime.
 */
export function backlogPerTaskTarget(s: {
  acceptableLatencySeconds: number;
  averageJobSeconds: number;
  workerConcurrency: number;
}): number {
  return (s.acceptableLatencySeconds / s.averageJobSeconds) * s.workerConcurrency;
}

export function validateScalingSettings(
  s: Required<ScalingSettings> & { workerConcurrency: number },
): Issue[] {
  return check(
    [inRange(s.minTasks, 0, 100), 'minTasks', 'must be 0-100'],
    [inRange(s.maxTasks, 1, 100), 'maxTasks', 'must be 1-100'],
    [s.minTasks <= s.maxTasks, 'minTasks', `must not exceed maxTasks (${s.maxTasks})`],
    [inRange(s.acceptableLatencySeconds, 1, 86_400), 'acceptableLatencySeconds', 'must be 1-86400'],
    [inRange(s.averageJobSeconds, 1, 86_400), 'averageJobSeconds', 'must be 1-86400'],
    [
      backlogPerTaskTarget(s) >= 1,
      'acceptableLatencySeconds',
      `÷ averageJobSeconds × workerConcurrency must be at least 1 (a task cannot hold less than one job); it is ${backlogPerTaskTarget(s).toFixed(2)}`,
    ],
    // An alarm may look back at most one day of one-minute periods.
    [inRange(s.scaleInIdleMinutes, 1, 1440), 'scaleInIdleMinutes', 'must be 1-1440'],
  );
}

export interface QueueDepthScalingArgs extends ScalingSettings {
  clusterName: pulumi.Input<string>;
  serviceName: pulumi.Input<string>;
  queueName: pulumi.Input<string>;
  /** Jobs one task runs at once (the worker's WORKER_CONCURRENCY). */
  workerConcurrency: number;
}

export class QueueDepthScaling extends pulumi.ComponentResource {
  readonly target: aws.appautoscaling.Target;
  readonly backlogPerTaskTarget: number;

  constructor(name: string, args: QueueDepthScalingArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = withDefaults(SCALING_DEFAULTS, args);
    assertValid(`QueueDepthScaling '${name}' arguments`, validateScalingSettings(s));
    super('retainwise:scaling:QueueDepthScaling', name, {}, opts);
    const parent = { parent: this };
    this.backlogPerTaskTarget = backlogPerTaskTarget(s);

    const queueDimension = [{ name: 'QueueName', value: args.queueName }];
    const serviceDimensions = [
      { name: 'ClusterName', value: args.clusterName },
      { name: 'ServiceName', value: args.serviceName },
    ];

    this.target = new aws.appautoscaling.Target(
      `${name}-target`,
      {
        serviceNamespace: 'ecs',
        scalableDimension: 'ecs:service:DesiredCount',
        resourceId: pulumi.interpolate`service/${args.clusterName}/${args.serviceName}`,
        minCapacity: s.minTasks,
        maxCapacity: s.maxTasks,
      },
      parent,
    );
    const scalable = {
      serviceNamespace: this.target.serviceNamespace,
      scalableDimension: this.target.scalableDimension,
      resourceId: this.target.resourceId,
    };

    new aws.appautoscaling.Policy(
      `${name}-backlog-per-task`,
      {
        name: pulumi.interpolate`${args.serviceName}-backlog-per-task`,
        policyType: 'TargetTrackingScaling',
        ...scalable,
        targetTrackingScalingPolicyConfiguration: {
          targetValue: this.backlogPerTaskTarget,
          disableScaleIn: true,
          scaleOutCooldown: 60,
          customizedMetricSpecification: {
            metrics: [
              {
                id: 'visible',
                label: 'Messages waiting in the queue',
                metricStat: {
                  metric: {
                    namespace: SQS,
                    metricName: 'ApproximateNumberOfMessagesVisible',
                    dimensions: queueDimension,
                  },
                  stat: 'Sum',
                },
                returnData: false,
              },
              {
                id: 'running',
                label: 'Running worker tasks',
                metricStat: {
                  metric: {
                    namespace: CONTAINER_INSIGHTS,
                    metricName: 'RunningTaskCount',
                    dimensions: serviceDimensions,
                  },
                  stat: 'Average',
                },
                returnData: false,
              },
              { id: 'backlog', label: 'Backlog per task', expression: 'visible / running', returnData: true },
            ],
          },
        },
      },
      parent,
    );

    if (s.minTasks === 0) {
      this.startFromZero(name, args, queueDimension, serviceDimensions, scalable);
    }
    this.returnToMinimum(name, args, s, queueDimension, scalable);
    this.registerOutputs({ resourceId: this.target.resourceId });
  }

  private startFromZero(
    name: string,
    args: QueueDepthScalingArgs,
    queueDimension: Dimension[],
    serviceDimensions: Dimension[],
    scalable: Pick<aws.appautoscaling.PolicyArgs, 'serviceNamespace' | 'scalableDimension' | 'resourceId'>,
  ): void {
    const policy = new aws.appautoscaling.Policy(
      `${name}-start-from-zero`,
      {
        name: pulumi.interpolate`${args.serviceName}-start-from-zero`,
        policyType: 'StepScaling',
        ...scalable,
        stepScalingPolicyConfiguration: {
          adjustmentType: 'ExactCapacity',
          cooldown: 120,
          metricAggregationType: 'Maximum',
          stepAdjustments: [{ metricIntervalLowerBound: '0', scalingAdjustment: 1 }],
        },
      },
      { parent: this },
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-work-while-scaled-to-zero`,
      {
        name: pulumi.interpolate`${args.serviceName}-work-while-scaled-to-zero`,
        alarmDescription: pulumi.interpolate`Scaling: messages wait in ${args.queueName} while ${args.serviceName} desires no task; starts one task.`,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        // An idle queue stops reporting after a few hours: no data means no work.
        treatMissingData: 'notBreaching',
        metricQueries: [
          metric('visible', SQS, 'ApproximateNumberOfMessagesVisible', queueDimension, 'Maximum'),
          metric('desired', CONTAINER_INSIGHTS, 'DesiredTaskCount', serviceDimensions, 'Maximum'),
          {
            id: 'startNeeded',
            expression: 'IF(visible >= 1 AND FILL(desired, 0) < 1, 1, 0)',
            label: 'Work waiting, no task desired',
            returnData: true,
          },
        ],
        alarmActions: [policy.arn],
      },
      { parent: this },
    );
  }

  private returnToMinimum(
    name: string,
    args: QueueDepthScalingArgs,
    s: Required<ScalingSettings>,
    queueDimension: Dimension[],
    scalable: Pick<aws.appautoscaling.PolicyArgs, 'serviceNamespace' | 'scalableDimension' | 'resourceId'>,
  ): void {
    const policy = new aws.appautoscaling.Policy(
      `${name}-scale-in-when-idle`,
      {
        name: pulumi.interpolate`${args.serviceName}-scale-in-when-idle`,
        policyType: 'StepScaling',
        ...scalable,
        stepScalingPolicyConfiguration: {
          adjustmentType: 'ExactCapacity',
          cooldown: 300,
          metricAggregationType: 'Maximum',
          stepAdjustments: [{ metricIntervalUpperBound: '0', scalingAdjustment: s.minTasks }],
        },
      },
      { parent: this },
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-queue-idle`,
      {
        name: pulumi.interpolate`${args.serviceName}-queue-idle`,
        alarmDescription: pulumi.interpolate`Scaling: ${args.queueName} has had no visible and no in-flight message for ${s.scaleInIdleMinutes} minutes; returns ${args.serviceName} to ${s.minTasks} task(s).`,
        comparisonOperator: 'LessThanOrEqualToThreshold',
        threshold: 0,
        evaluationPeriods: s.scaleInIdleMinutes,
        datapointsToAlarm: s.scaleInIdleMinutes,
        // SQS stops publishing for a queue idle for hours: missing data is an idle queue.
        treatMissingData: 'breaching',
        metricQueries: [
          metric('visible', SQS, 'ApproximateNumberOfMessagesVisible', queueDimension, 'Maximum'),
          metric('inFlight', SQS, 'ApproximateNumberOfMessagesNotVisible', queueDimension, 'Maximum'),
          {
            id: 'outstanding',
            expression: 'FILL(visible, 0) + FILL(inFlight, 0)',
            label: 'Visible + in-flight messages',
            returnData: true,
          },
        ],
        alarmActions: [policy.arn],
      },
      { parent: this },
    );
  }
}
