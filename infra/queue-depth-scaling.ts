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
// Optionally, business hours: two scheduled actions raise the minimum at their start and put it back at their
// end, because from zero the first upload waits for SQS metrics, an alarm and a Fargate start (`npm run
// simulate`); at the end the spare-task alarm takes the service back down as usual.
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import { businessHoursCron } from './business-hours.js';
import { CONTAINER_INSIGHTS, metric, queueCounts, SQS } from './metrics.js';
import {
  backlogPerTaskTarget,
  resolveScalingSettings,
  validateScalingSettings,
  type ScalingSettings,
} from './scaling-settings.js';
import { assertValid } from './validation.js';
import type { WorkerService } from './worker-service.js';

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
  /** The service scaled, its queue and the jobs one task runs at once (WORKER_CONCURRENCY). */
  worker: WorkerService;
}

export class QueueDepthScaling extends pulumi.ComponentResource {
  readonly target: aws.appautoscaling.Target;
  readonly backlogPerTaskTarget: number;

  constructor(name: string, args: QueueDepthScalingArgs, opts?: pulumi.ComponentResourceOptions) {
    const s = resolveScalingSettings(args);
    const c = args.worker.settings.workerConcurrency;
    assertValid(`QueueDepthScaling '${name}' arguments`, validateScalingSettings(s, c));
    super('retainwise:scaling:QueueDepthScaling', name, {}, opts);
    const parent = { parent: this };
    this.backlogPerTaskTarget = backlogPerTaskTarget({ ...s, workerConcurrency: c });
    const clusterName = args.worker.cluster.name;
    const serviceName = args.worker.fargate.service.name;
    const queueName = args.worker.queues.queue.name;

    const queue = [{ name: 'QueueName', value: queueName }];
    const service = [
      { name: 'ClusterName', value: clusterName },
      { name: 'ServiceName', value: serviceName },
    ];

    this.target = new aws.appautoscaling.Target(
      `${name}-target`,
      {
        serviceNamespace: 'ecs',
        scalableDimension: 'ecs:service:DesiredCount',
        resourceId: pulumi.interpolate`service/${clusterName}/${serviceName}`,
        minCapacity: s.workerMinTasks,
        maxCapacity: s.workerMaxTasks,
      },
      parent,
    );
    const stepPolicy = (
      id: string,
      cooldown: number,
      metricAggregationType: string,
      stepAdjustments: StepAdjustment[],
    ) =>
      new aws.appautoscaling.Policy(
        `${name}-${id}`,
        {
          name: pulumi.interpolate`${serviceName}-${id}`,
          policyType: 'StepScaling',
          serviceNamespace: this.target.serviceNamespace,
          scalableDimension: this.target.scalableDimension,
          resourceId: this.target.resourceId,
          stepScalingPolicyConfiguration: {
            adjustmentType: 'ChangeInCapacity',
            cooldown,
            metricAggregationType,
            stepAdjustments,
          },
        },
        parent,
      );

    const scaleOut = stepPolicy(
      'scale-out',
      SCALE_OUT_COOLDOWN_SECONDS,
      'Maximum',
      scaleOutSteps(this.backlogPerTaskTarget, s.workerMaxTasks),
    );
    new aws.cloudwatch.MetricAlarm(
      `${name}-work-waiting`,
      {
        name: pulumi.interpolate`${serviceName}-work-waiting`,
        alarmDescription: pulumi.interpolate`Scaling: jobs wait in ${queueName}; adds tasks to ${serviceName}, one per ${this.backlogPerTaskTarget} waiting jobs, more for bigger backlogs.`,
        namespace: SQS,
        metricName: 'ApproximateNumberOfMessagesVisible',
        dimensions: { QueueName: queueName },
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

    const scaleIn = stepPolicy('scale-in', SCALE_IN_COOLDOWN_SECONDS, 'Minimum', [
      { metricIntervalLowerBound: '0', scalingAdjustment: -1 },
    ]);
    new aws.cloudwatch.MetricAlarm(
      `${name}-spare-task`,
      {
        name: pulumi.interpolate`${serviceName}-spare-task`,
        alarmDescription: pulumi.interpolate`Scaling: for ${s.scaleInIdleMinutes} minutes ${serviceName} has had at least one task more than the jobs waiting in and taken from ${queueName} need; removes one task per ${SCALE_IN_COOLDOWN_SECONDS} s, down to ${s.workerMinTasks}.`,
        metricQueries: [
          ...queueCounts(queue),
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
    if (s.workerBusinessHours) {
      const { minTasks, start, end, days = 'MON-FRI', timezone = 'UTC' } = s.workerBusinessHours;
      const edges = [
        ['start', start, minTasks],
        ['end', end, s.workerMinTasks],
      ] as const;
      for (const [edge, clock, min] of edges) {
        new aws.appautoscaling.ScheduledAction(
          `${name}-business-hours-${edge}`,
          {
            name: pulumi.interpolate`${serviceName}-business-hours-${edge}`,
            serviceNamespace: this.target.serviceNamespace,
            scalableDimension: this.target.scalableDimension,
            resourceId: this.target.resourceId,
            schedule: businessHoursCron(clock, days),
            timezone,
            scalableTargetAction: { minCapacity: min, maxCapacity: s.workerMaxTasks },
          },
          parent,
        );
      }
    }
    this.registerOutputs({ resourceId: this.target.resourceId });
  }
}
