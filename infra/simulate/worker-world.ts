// A minute-by-minute model of the job queue and the worker service, closed over the stack's own scaling alarms
// and step policies: jobs arrive, ECS starts and stops tasks towards the desired count, tasks take jobs, SQS and
// Container Insights publish what they would, the alarms evaluate, and the alarms in ALARM invoke their policies
// (once a minute, as CloudWatch does for Auto Scaling actions). What the model assumes, beyond the documented
// alarm and scaling semantics in alarm-timeline.ts and step-scaling.ts:
// - ECS never stops a task that runs a job: the worker protects its task while busy (worker/src/protection.ts),
//   and ECS does not terminate protected tasks on scale-in ("Protect your Amazon ECS tasks from being terminated
//   by scale-in events", https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task-scale-in-protection.html).
// - SQS publishes its queue metrics every minute while the queue is active, and nothing once it has seen no
//   message and no consumer for six hours; metrics appear in the minute they describe (no publication delay),
//   except after such an idle spell: they resume only after the documented delay of up to 15 minutes
//   (assumptions.ts, sqsReactivationDelay), here its bound unless the options say otherwise.
// - Container Insights publishes service metrics only while at least one task runs.
import { AlarmEvaluator, MetricTimeline, type AlarmInputs } from './alarm-timeline.js';
import type { RecordedResource } from '../plan/offline.js';
import { AWS_ASSUMPTIONS } from './assumptions.js';
import { ALARM } from './cloudwatch.js';
import { publishedMetrics } from './published-metrics.js';
import { StepScalingTarget, type StepScalingConfiguration } from './step-scaling.js';

const POLICY = 'aws:appautoscaling/policy:Policy';
const TARGET = 'aws:appautoscaling/target:Target';
const INACTIVE_AFTER_MINUTES = AWS_ASSUMPTIONS.sqsInactiveAfter.seconds / 60;

export interface WorldOptions {
  queueName: string;
  clusterName: string;
  serviceName: string;
  /** Jobs one task runs at once (WORKER_CONCURRENCY). */
  concurrency: number;
  /** Durations, in minutes, of the jobs sent in `minute`. */
  arrivals: (minute: number) => number[];
  minutes: number;
  /** Minutes from ECS starting a task to the task taking jobs (placement, image pull, model load). @default 2 */
  startupMinutes?: number;
  /** Minutes SQS metrics stay away once an inactive queue is active again. @default 15 (the documented bound) */
  reactivationDelayMinutes?: number;
}

export interface WorldMinute {
  minute: number;
  /** The desired count after this minute's scaling actions. */
  desired: number;
  /** Tasks taking jobs. */
  running: number;
  visible: number;
  inFlight: number;
}

interface Message {
  sentAt: number;
  duration: number;
  endsAt?: number;
}

interface Task {
  readyAt: number;
  jobs: Message[];
}

/** What the program registered (a test's deployed stack, or the offline plan). */
export interface Registered {
  resources: RecordedResource[];
}

const ofType = (stack: Registered, type: string) => stack.resources.filter((r) => r.type === type);

/** The stack's scalable target and step policies, closed over its scaling alarms on `timeline`. */
export interface ScalingLoop {
  target: StepScalingTarget;
  /** Evaluates every alarm that invokes a step policy at the end of `minute`, runs the policies of those in
   *  ALARM (CloudWatch invokes Auto Scaling actions once a minute while the alarm stays in ALARM) and returns
   *  the desired count. */
  tick(minute: number): number;
}

export function scalingLoop(stack: Registered, timeline: MetricTimeline): ScalingLoop {
  const [targetResource, ...others] = ofType(stack, TARGET);
  if (!targetResource || others.length > 0) throw new Error(`expected one ${TARGET}`);
  const bounds = targetResource.inputs as { minCapacity: number; maxCapacity: number };
  const policies = ofType(stack, POLICY)
    .filter((p) => p.inputs['policyType'] === 'StepScaling')
    .map((p) => ({
      name: p.name,
      config: p.inputs['stepScalingPolicyConfiguration'] as StepScalingConfiguration,
    }));
  const target = new StepScalingTarget(
    bounds.minCapacity,
    bounds.minCapacity,
    bounds.maxCapacity,
    Object.fromEntries(policies.map((p) => [p.name, p.config])),
  );
  // The mocks give a policy the ARN `arn:aws:appautoscaling:<region>:<account>:<name>`.
  const alarms = ofType(stack, ALARM).flatMap((a) => {
    const inputs = a.inputs as unknown as AlarmInputs;
    const invoked = policies.filter((p) => inputs.alarmActions?.some((arn) => arn.endsWith(`:${p.name}`)));
    return invoked.length > 0 ? [{ evaluator: new AlarmEvaluator(inputs, timeline), inputs, invoked }] : [];
  });
  return {
    target,
    tick(minute) {
      const invocations = alarms.flatMap(({ evaluator, inputs, invoked }) => {
        const { state, datapoints } = evaluator.evaluate(minute);
        return state === 'ALARM'
          ? invoked.map((p) => ({ policy: p.name, threshold: inputs.threshold, datapoints }))
          : [];
      });
      return target.invoke(minute, invocations);
    },
  };
}

/** The tasks ECS stops when the desired count falls `excess` below the running ones: those still starting
 *  first, then idle ones; a task running a job is protected. */
export function tasksToStop<T>(
  tasks: T[],
  excess: number,
  starting: (t: T) => boolean,
  idle: (t: T) => boolean,
): Set<T> {
  const stoppable = [...tasks.filter(starting), ...tasks.filter((t) => !starting(t) && idle(t))];
  return new Set(stoppable.slice(0, Math.max(0, excess)));
}

export function runWorld(stack: Registered, o: WorldOptions): WorldMinute[] {
  const startup = o.startupMinutes ?? 2;
  const reactivationDelay =
    o.reactivationDelayMinutes ?? AWS_ASSUMPTIONS.sqsReactivationDelay.seconds.max / 60;
  const timeline = new MetricTimeline();
  const scaling = scalingLoop(stack, timeline);

  const metrics = publishedMetrics({ queue: o.queueName, cluster: o.clusterName, service: o.serviceName });

  let queue: Message[] = [];
  let tasks: Task[] = [];
  // The queue was in use until minute 0.
  let lastActive = 0;
  let publishFrom = -Infinity;
  const history: WorldMinute[] = [];
  for (let minute = 0; minute < o.minutes; minute++) {
    for (const duration of o.arrivals(minute)) queue.push({ sentAt: minute, duration });

    // ECS moves towards the desired count; on scale-in it stops tasks still starting, then idle ones.
    const desired = scaling.target.capacity;
    while (tasks.length < desired) tasks.push({ readyAt: minute + startup, jobs: [] });
    const stopped = tasksToStop(
      tasks,
      tasks.length - desired,
      (t) => t.readyAt > minute,
      (t) => t.jobs.length === 0,
    );
    tasks = tasks.filter((t) => !stopped.has(t));

    for (const task of tasks) {
      const done = task.jobs.filter((j) => (j.endsAt ?? Infinity) <= minute);
      task.jobs = task.jobs.filter((j) => !done.includes(j));
      queue = queue.filter((m) => !done.includes(m));
    }
    const ready = tasks.filter((t) => t.readyAt <= minute);
    for (const task of ready) {
      const waiting = queue.filter((m) => m.endsAt === undefined);
      for (const message of waiting.slice(0, o.concurrency - task.jobs.length)) {
        message.endsAt = minute + message.duration;
        task.jobs.push(message);
      }
    }

    const visible = queue.filter((m) => m.endsAt === undefined).length;
    const inFlight = queue.length - visible;
    if (queue.length > 0 || ready.length > 0) {
      if (minute - lastActive >= INACTIVE_AFTER_MINUTES) publishFrom = minute + reactivationDelay;
      lastActive = minute;
    }
    if (minute - lastActive < INACTIVE_AFTER_MINUTES && minute >= publishFrom) {
      timeline.record(metrics.visible, minute, visible);
      timeline.record(metrics.inFlight, minute, inFlight);
      const oldest = Math.min(minute, ...queue.map((m) => m.sentAt));
      timeline.record(metrics.oldestAge, minute, (minute - oldest) * 60);
    }
    if (ready.length > 0) {
      timeline.record(metrics.desired, minute, desired);
      timeline.record(metrics.running, minute, ready.length);
    }

    history.push({
      minute,
      desired: scaling.tick(minute),
      running: ready.length,
      visible,
      inFlight,
    });
  }
  return history;
}
