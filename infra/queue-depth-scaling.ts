// Scales the worker service (never the API: lessons #36) in the shape of AWS CDK's QueueProcessingFargateService
// (aws-cdk-lib/aws-ecs-patterns/lib/base/queue-processing-service-base.ts: step scaling on the queue's visible
// messages), with two step policies:
// - scale out while jobs wait: an alarm on ApproximateNumberOfMessagesVisible alone, so the service starts from
//   zero on SQS metrics (Container Insights may publish nothing for a service with no task); the bigger the
//   backlog, the bigger the step, one task per backlogPerTaskTarget messages (AWS "acceptable backlog per task");
// - scale in one task at a time while a whole task is spare: desired tasks × concurrency exceed the waiting and
//   running jobs by at least one task's worth. Scale-in never goes below what running jobs need, and the worker
//   protects its task while a job runs (worker/src/protection.ts), so no scale-in stops a job.
// CloudWatch invokes an Auto Scaling action once a minute while its alarm stays in ALARM, and each policy's
// cooldown paces the steps (Application Auto Scaling user guide, "Step scaling policies", cooldown period).
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { CONTAINER_INSIGHTS, metric, SQS } from './metrics.js';
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
  /** Minutes a whole task must have been spare (not needed by waiting or running jobs) before the service gives
   *  one up; it then gives up one more per scale-in cooldown while that lasts. @default 15 */
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

/** Long enough for a started task to take jobs (placement, image pull, model load) before another is added. */
const SCALE_OUT_COOLDOWN_SECONDS = 180;
/** Between two single-task scale-ins. */
const SCALE_IN_COOLDOWN_SECONDS = 300;

type StepAdjustment = aws.types.input.appautoscaling.PolicyStepScalingPolicyConfigurationStepAdjustment;

/**
 * Scale-out steps for an alarm at "at least one visible message": up to backlogPerTask messages add one task,
 * then each step doubles the tasks added for double the backlog, and the last adds maxTasks. Bounds are relative
 * to the alarm threshold (1), lower inclusive and upper exclusive above it, so the first step is [1,
 * backlogPerTask] messages. From zero a backlog gets at least the tasks it needs (messages ÷ backlogPerTask).
 */
export function scaleOutSteps(backlogPerTask: number, maxTasks: number): StepAdjustment[] {
  const steps: StepAdjustment[] = [];
  for (let add = 1, lower = 0; ; add *= 2) {
    if (add >= maxTasks) {
      steps.push({ metricIntervalLowerBound: String(lower), scalingAdjustment: maxTasks });
      return steps;
    }
    const upper = backlogPerTask * add;
    steps.push({
      metricIntervalLowerBound: String(lower),
      metricIntervalUpperBound: String(upper),
      scalingAdjustment: add,
    });
    lower = upper;
  }
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

    const queue = [{ name: 'QueueName', value: args.queueName }];
    const service = [
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

    const scaleOut = new aws.appautoscaling.Policy(
      `${name}-scale-out`,
      {
        name: pulumi.interpolate`${args.serviceName}-scale-out`,
        policyType: 'StepScaling',
        ...scalable,
        stepScalingPolicyConfiguration: {
          adjustmentType: 'ChangeInCapacity',
          cooldown: SCALE_OUT_COOLDOWN_SECONDS,
          metricAggregationType: 'Maximum',
          stepAdjustments: scaleOutSteps(this.backlogPerTaskTarget, s.maxTasks),
        },
      },
      parent,
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-work-waiting`,
      {
        name: pulumi.interpolate`${args.serviceName}-work-waiting`,
        alarmDescription: pulumi.interpolate`Scaling: jobs wait in ${args.queueName}; adds tasks to ${args.serviceName}, one per ${this.backlogPerTaskTarget} waiting jobs, more for bigger backlogs.`,
        namespace: SQS,
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: args.queueName },
        statistic: 'Maximum',
        period: 60,
        evaluationPeriods: 1,
        datapointsToAlarm: 1,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        // SQS stops publishing for a queue idle for hours: no data means no work.
        treatMissingData: 'notBreaching',
        alarmActions: [scaleOut.arn],
      },
      parent,
    );

    const c = args.workerConcurrency;
    const scaleIn = new aws.appautoscaling.Policy(
      `${name}-scale-in`,
      {
        name: pulumi.interpolate`${args.serviceName}-scale-in`,
        policyType: 'StepScaling',
        ...scalable,
        stepScalingPolicyConfiguration: {
          adjustmentType: 'ChangeInCapacity',
          cooldown: SCALE_IN_COOLDOWN_SECONDS,
          metricAggregationType: 'Minimum',
          stepAdjustments: [{ metricIntervalLowerBound: '0', scalingAdjustment: -1 }],
        },
      },
      parent,
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-spare-task`,
      {
        name: pulumi.interpolate`${args.serviceName}-spare-task`,
        alarmDescription: pulumi.interpolate`Scaling: for ${s.scaleInIdleMinutes} minutes ${args.serviceName} has had at least one task more than the jobs waiting in and taken from ${args.queueName} need; removes one task per ${SCALE_IN_COOLDOWN_SECONDS} s, down to ${s.minTasks}.`,
        metricQueries: [
          metric('visible', SQS, 'ApproximateNumberOfMessagesVisible', queue, 'Maximum'),
          metric('inFlight', SQS, 'ApproximateNumberOfMessagesNotVisible', queue, 'Maximum'),
          // Only a service with a task can have one to spare, and Container Insights reports such a service.
          metric('desired', CONTAINER_INSIGHTS, 'DesiredTaskCount', service, 'Minimum'),
          {
            id: 'spareTasks',
            // Arithmetic treats a missing value as 0 (CloudWatch "Using metric math"): without the task count
            // nothing is spare, and without queue data (an idle queue) no job needs a slot.
            expression: `(desired * ${c} - visible - inFlight) / ${c}`,
            label: 'Tasks not needed by waiting or running jobs',
            returnData: true,
          },
        ],
        evaluationPeriods: s.scaleInIdleMinutes,
        datapointsToAlarm: s.scaleInIdleMinutes,
        comparisonOperator: 'GreaterThanOrEqualToThreshold',
        threshold: 1,
        treatMissingData: 'notBreaching',
        alarmActions: [scaleIn.arn],
      },
      parent,
    );
    this.registerOutputs({ resourceId: this.target.resourceId });
  }
}
