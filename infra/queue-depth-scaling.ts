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
import { CONTAINER_INSIGHTS, metric, SQS } from './metrics.js';
import { assertValid, check, inRange, pick, withDefaults, type Issue } from './validation.js';
import type { WorkerService } from './worker-service.js';

/** Days of the week in a cron day-of-week field: names, ranges and lists (MON-FRI, SAT,SUN). */
const CRON_DAYS =
  /^(SUN|MON|TUE|WED|THU|FRI|SAT)(-(SUN|MON|TUE|WED|THU|FRI|SAT))?(,(SUN|MON|TUE|WED|THU|FRI|SAT)(-(SUN|MON|TUE|WED|THU|FRI|SAT))?)*$/;
const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

export interface BusinessHours {
  /** Tasks kept running from `start` to `end`. */
  minTasks: number;
  /** "HH:MM" in `timezone`, when the minimum rises. */
  start: string;
  /** "HH:MM" in `timezone`, after `start` on the same day, when it falls back to workerMinTasks. */
  end: string;
  /** A cron day-of-week field. @default 'MON-FRI' */
  days?: string | undefined;
  /** An IANA time zone; scheduled actions follow its daylight saving time. @default 'UTC' */
  timezone?: string | undefined;
}

/** The schedule of a scheduled action at `clock` ("HH:MM") on `days`. */
export function businessHoursCron(clock: string, days: string): string {
  const [hour, minute] = clock.split(':').map(Number);
  return `cron(${minute} ${hour} ? * ${days} *)`;
}

/** The scaling settings of the stack config (`retainwise:<key>`). */
export interface ScalingSettings {
  /** Tasks kept running when the queue is idle; 0 lets the service scale to zero. @default 0 */
  workerMinTasks?: number | undefined;
  /** Upper bound of the service, e.g. what the database's connection limit allows. @default 4 */
  workerMaxTasks?: number | undefined;
  /** How long a job may wait in the queue before a task picks it up, in seconds. @default 300 */
  acceptableLatencySeconds?: number | undefined;
  /** Mean wall-clock time of one job (see the JobDuration metric), in seconds. @default 60 */
  averageJobSeconds?: number | undefined;
  /** Minutes a whole task must have been spare (not needed by waiting or running jobs) before the service gives
   *  one up; it then gives up one more per scale-in cooldown while that lasts. @default 15 */
  scaleInIdleMinutes?: number | undefined;
  /** A higher minimum during business hours. @default undefined (none) */
  workerBusinessHours?: BusinessHours | undefined;
}

export type ResolvedScalingSettings = Required<Omit<ScalingSettings, 'workerBusinessHours'>> &
  Pick<ScalingSettings, 'workerBusinessHours'>;

/** The scaling settings with every default applied (the only place they are). */
export function resolveScalingSettings(s: ScalingSettings): ResolvedScalingSettings {
  return withDefaults(
    {
      workerMinTasks: 0,
      workerMaxTasks: 4,
      acceptableLatencySeconds: 300,
      averageJobSeconds: 60,
      scaleInIdleMinutes: 15,
      workerBusinessHours: undefined,
    },
    pick(s, [
      'workerMinTasks',
      'workerMaxTasks',
      'acceptableLatencySeconds',
      'averageJobSeconds',
      'scaleInIdleMinutes',
      'workerBusinessHours',
    ]),
  );
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

export function validateScalingSettings(s: ResolvedScalingSettings, workerConcurrency: number): Issue[] {
  const backlog = backlogPerTaskTarget({ ...s, workerConcurrency });
  return check(
    [inRange(s.workerMinTasks, 0, 100), 'workerMinTasks', 'must be 0-100'],
    [inRange(s.workerMaxTasks, 1, 100), 'workerMaxTasks', 'must be 1-100'],
    [
      s.workerMinTasks <= s.workerMaxTasks,
      {
        workerMinTasks: `must not exceed the maximum (${s.workerMaxTasks})`,
        workerMaxTasks: `must not be below the minimum (${s.workerMinTasks})`,
      },
    ],
    [inRange(s.acceptableLatencySeconds, 1, 86_400), 'acceptableLatencySeconds', 'must be 1-86400'],
    [inRange(s.averageJobSeconds, 1, 86_400), 'averageJobSeconds', 'must be 1-86400'],
    [
      backlog >= 1,
      Object.fromEntries(
        ['acceptableLatencySeconds', 'averageJobSeconds', 'workerConcurrency'].map((key) => [
          key,
          `leaves a task less than one job: the backlog per task (latency ${s.acceptableLatencySeconds} s ÷ ${s.averageJobSeconds} s per job × ${workerConcurrency} jobs at once) must be at least 1; it is ${backlog.toFixed(2)}`,
        ]),
      ),
    ],
    // An alarm may look back at most one day of one-minute periods.
    [inRange(s.scaleInIdleMinutes, 1, 1440), 'scaleInIdleMinutes', 'must be 1-1440'],
    ...businessHoursChecks(s),
  );
}

function businessHoursChecks(s: ResolvedScalingSettings): [boolean, string, string][] {
  const b = s.workerBusinessHours;
  if (!b) return [];
  const start = CLOCK.test(b.start);
  const end = CLOCK.test(b.end);
  return [
    [
      inRange(b.minTasks, s.workerMinTasks + 1, s.workerMaxTasks),
      'workerBusinessHours',
      `minTasks must be more than workerMinTasks (${s.workerMinTasks}) and at most workerMaxTasks (${s.workerMaxTasks})`,
    ],
    [start, 'workerBusinessHours', `start must be "HH:MM", e.g. "08:00"; it is "${b.start}"`],
    [end, 'workerBusinessHours', `end must be "HH:MM", e.g. "18:00"; it is "${b.end}"`],
    [!start || !end || b.start < b.end, 'workerBusinessHours', 'end must come after start on the same day'],
    [
      b.days === undefined || CRON_DAYS.test(b.days),
      'workerBusinessHours',
      'days must be a cron day-of-week field of names, e.g. "MON-FRI"',
    ],
  ];
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
