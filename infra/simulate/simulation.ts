// A discrete-event simulation, in seconds, of uploads reaching the worker service through the stack's own
// scaling: SQS publishes its metrics once a minute (none while the queue sleeps, late after it wakes), the
// registered alarms evaluate at every minute boundary and invoke the registered step policies (the scaling loop
// of worker-world.ts over the evaluator in alarm-timeline.ts), scheduled actions move the minimum, ECS starts
// Fargate tasks that provision, pull the image and start the worker, and the worker takes jobs as soon as it
// polls. Every AWS latency is drawn from AWS_ASSUMPTIONS; the worker's own figures come from the bench.
// Besides the registered scaling, a run may wake the service from outside CloudWatch (an upload event, a
// once-a-minute queue poll) or keep the queue from going inactive: the candidate designs of issue #15.
import { MetricTimeline, type MetricRef } from './alarm-timeline.js';
import { AWS_ASSUMPTIONS, type AssumptionName, type Range } from './assumptions.js';
import { scalingLoop, tasksToStop, type Registered } from './worker-world.js';

const MINUTE = 60;
const SCHEDULED_ACTION = 'aws:appautoscaling/scheduledAction:ScheduledAction';
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

/** What we measured of our own worker (worker/bench/results.json). */
export interface WorkerFigures {
  /** Process start to polling (`big_job.workerReadyMs`). */
  readySeconds: number;
  /** Rows scored per second in the 1M-row job (`rows_per_s_1m`). */
  rowsPerSecond: number;
  /** Fixed cost of a job whatever its size: the 100-row job's median (`job_latency_ms_p50_100_rows`). */
  jobOverheadSeconds: number;
  /** Jobs one task runs at once (the task definition's WORKER_CONCURRENCY). */
  concurrency: number;
}

export interface Upload {
  /** Seconds since the simulated day's midnight (UTC). */
  at: number;
  rows: number;
}

export interface Design {
  /** Raises the desired count to one the moment an upload is sent, if it is zero (the backend, after SendMessage). */
  wakeOnUpload?: boolean;
  /** Polls the queue depth once a minute (EventBridge Scheduler) and raises a zero desired count to one. */
  pollQueue?: boolean;
  /** Touches the queue (GetQueueAttributes) at this interval, so it never goes inactive. */
  keepQueueActiveSeconds?: number;
  /** The worker image's size relative to today's: scales the pull time. @default 1 */
  imageSizeRatio?: number;
}

export interface Scenario {
  uploads: Upload[];
  /** Seconds simulated from midnight. */
  until: number;
  /** When the queue last held a message or was accessed, in seconds since midnight (negative: the day before). */
  lastActiveAt: number;
  /** Day of the week of the simulated day, 0 = Sunday (for scheduled actions). */
  weekday: number;
  names: { queue: string; cluster: string; service: string };
}

export interface JobOutcome {
  arrivedAt: number;
  takenAt: number;
  doneAt: number;
  /** The service ran no task, ready or starting, when it arrived: it waits for a start from zero. */
  idle: boolean;
}

export interface RunOutcome {
  jobs: JobOutcome[];
  /** Seconds Fargate bills (per task, from pull start to stop, at least the minimum). */
  billedTaskSeconds: number;
  /** Desired count after each minute's scaling, for inspection. */
  desired: number[];
}

/** mulberry32: small, seeded, good enough to draw latencies reproducibly. */
export function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export type Draw = (name: AssumptionName) => number;

/** Draws each assumption uniformly within its range (a fixed value is returned as it is). */
export function drawer(next: () => number): Draw {
  return (name) => {
    const s: number | Range = AWS_ASSUMPTIONS[name].seconds;
    return typeof s === 'number' ? s : s.min + (s.max - s.min) * next();
  };
}

interface ScheduledMinimum {
  /** Seconds since midnight. */
  at: number;
  minCapacity: number;
  maxCapacity: number;
}

/** The registered scheduled actions that fire on `weekday`, from their `cron(m h ? * days *)` schedules. */
export function scheduledMinimums(stack: Registered, weekday: number): ScheduledMinimum[] {
  return stack.resources
    .filter((r) => r.type === SCHEDULED_ACTION)
    .flatMap((r) => {
      const schedule = String(r.inputs['schedule']);
      const timezone = r.inputs['timezone'] as string | undefined;
      if (timezone !== undefined && timezone !== 'UTC')
        throw new Error(`timezone ${timezone} is not modelled`);
      const m = /^cron\((\d+) (\d+) \? \* ([A-Z,-]+) \*\)$/.exec(schedule);
      if (!m) throw new Error(`schedule ${schedule} is not modelled`);
      const [, minute, hour, days] = m;
      const action = r.inputs['scalableTargetAction'] as { minCapacity: number; maxCapacity: number };
      const on = (days ?? '').split(',').some((part) => {
        const [from, to = from] = part.split('-').map((d) => DAY_NAMES.indexOf(d));
        return from !== undefined && to !== undefined && from >= 0 && weekday >= from && weekday <= to;
      });
      return on ? [{ at: Number(hour) * 3600 + Number(minute) * MINUTE, ...action }] : [];
    })
    .sort((a, b) => a.at - b.at);
}

interface Job {
  upload: Upload;
  idle: boolean;
  takenAt?: number;
  doneAt?: number;
}

interface Task {
  /** When Fargate starts billing (image pull starts). */
  billedFrom: number;
  readyAt: number;
  stoppedAt?: number;
  running: Job[];
}

type Event = { at: number; order: number; run: () => void };

/** A time-ordered event list; events at the same time run in the order they were scheduled. */
class Agenda {
  private readonly events: Event[] = [];
  private order = 0;

  at(at: number, run: () => void): void {
    const event = { at, order: this.order++, run };
    let i = this.events.length;
    while (i > 0 && this.later(this.events[i - 1] as Event, event)) i--;
    this.events.splice(i, 0, event);
  }

  /** The earliest event, if it is due before `end`. */
  nextBefore(end: number): Event | undefined {
    return (this.events[0]?.at ?? Infinity) < end ? this.events.shift() : undefined;
  }

  private later(a: Event, b: Event): boolean {
    return a.at > b.at || (a.at === b.at && a.order > b.order);
  }
}

export function simulate(
  stack: Registered,
  scenario: Scenario,
  worker: WorkerFigures,
  design: Design,
  draw: Draw,
): RunOutcome {
  const timeline = new MetricTimeline();
  const scaling = scalingLoop(stack, timeline);
  const target = scaling.target;
  const agenda = new Agenda();
  const visible: Job[] = [];
  const jobs: Job[] = [];
  const tasks: Task[] = [];
  const desired: number[] = [];

  // SQS activity: the queue sleeps once idle for sqsInactiveAfter, and its metrics resume late after it wakes.
  let lastActive = scenario.lastActiveAt;
  let asleep = -lastActive >= draw('sqsInactiveAfter');
  let publishFrom = asleep ? Infinity : -Infinity;
  const touchQueue = (now: number) => {
    if (asleep) {
      asleep = false;
      publishFrom = now + draw('sqsReactivationDelay');
    }
    lastActive = now;
  };

  const live = () => tasks.filter((t) => t.stoppedAt === undefined);
  const ready = (now: number) => live().filter((t) => t.readyAt <= now);
  const inFlight = () => live().reduce((n, t) => n + t.running.length, 0);

  const dispatch = (now: number) => {
    for (const task of ready(now)) {
      while (task.running.length < worker.concurrency && visible.length > 0) {
        const job = visible.shift() as Job;
        job.takenAt = now + draw('longPolling');
        job.doneAt = job.takenAt + worker.jobOverheadSeconds + job.upload.rows / worker.rowsPerSecond;
        task.running.push(job);
        agenda.at(job.doneAt, () => {
          task.running = task.running.filter((j) => j !== job);
          dispatch(job.doneAt as number);
        });
      }
    }
  };

  // ECS moves the running tasks towards the desired count.
  const reconcile = (now: number) => {
    const running = live();
    for (let n = running.length; n < target.capacity; n++) {
      const billedFrom = now + draw('fargateProvisioning');
      const task: Task = {
        billedFrom,
        readyAt: billedFrom + draw('imagePull') * (design.imageSizeRatio ?? 1) + worker.readySeconds,
        running: [],
      };
      tasks.push(task);
      agenda.at(task.readyAt, () => {
        if (task.stoppedAt === undefined) dispatch(task.readyAt);
      });
    }
    const stopped = tasksToStop(
      running,
      running.length - target.capacity,
      (t) => t.readyAt > now,
      (t) => t.running.length === 0,
    );
    for (const task of stopped) task.stoppedAt = now;
  };

  const raiseTo = (now: number, capacity: number) => {
    if (target.capacity >= capacity) return;
    target.capacity = Math.min(target.maxCapacity, capacity);
    reconcile(now);
  };

  for (const upload of scenario.uploads) {
    agenda.at(upload.at, () => {
      const job: Job = { upload, idle: live().length === 0 };
      jobs.push(job);
      visible.push(job);
      touchQueue(upload.at);
      dispatch(upload.at);
      if (design.wakeOnUpload) agenda.at(upload.at + draw('wakeCall'), () => raiseTo(upload.at, 1));
    });
  }

  for (const action of scheduledMinimums(stack, scenario.weekday)) {
    const at = action.at + draw('scheduledAction');
    agenda.at(at, () => {
      target.schedule(action.minCapacity, action.maxCapacity);
      reconcile(at);
    });
  }

  if (design.pollQueue) {
    const phase = draw('schedulerPrecision');
    for (let at = phase; at < scenario.until; at += MINUTE) {
      agenda.at(at, () => {
        touchQueue(at);
        if (visible.length > 0) agenda.at(at + draw('wakeCall'), () => raiseTo(at, 1));
      });
    }
  }
  if (design.keepQueueActiveSeconds) {
    for (let at = 0; at < scenario.until; at += design.keepQueueActiveSeconds)
      agenda.at(at, () => touchQueue(at));
  }

  const sqs = (metricName: string): MetricRef => ({
    namespace: 'AWS/SQS',
    metricName,
    dimensions: { QueueName: scenario.names.queue },
  });
  const insights = (metricName: string): MetricRef => ({
    namespace: 'ECS/ContainerInsights',
    metricName,
    dimensions: { ClusterName: scenario.names.cluster, ServiceName: scenario.names.service },
  });

  const metrics = {
    visible: sqs('ApproximateNumberOfMessagesVisible'),
    inFlight: sqs('ApproximateNumberOfMessagesNotVisible'),
    desired: insights('DesiredTaskCount'),
    running: insights('RunningTaskCount'),
  };

  // What each minute showed, for its datapoints: the largest counts seen and whether a worker polled.
  let peak = { visible: 0, inFlight: 0, polled: false };
  const observe = (now: number) => {
    peak = {
      visible: Math.max(peak.visible, visible.length),
      inFlight: Math.max(peak.inFlight, inFlight()),
      polled: peak.polled || ready(now).length > 0,
    };
  };

  for (let minute = 0; (minute + 1) * MINUTE <= scenario.until; minute++) {
    const end = (minute + 1) * MINUTE;
    peak = { visible: visible.length, inFlight: inFlight(), polled: ready(minute * MINUTE).length > 0 };
    for (let e = agenda.nextBefore(end); e; e = agenda.nextBefore(end)) {
      e.run();
      observe(e.at);
    }
    observe(end);
    if (peak.visible + peak.inFlight > 0 || peak.polled) touchQueue(end);
    if (!asleep && end - lastActive >= draw('sqsInactiveAfter')) asleep = true;
    if (!asleep && end >= publishFrom) {
      timeline.record(metrics.visible, minute, peak.visible);
      timeline.record(metrics.inFlight, minute, peak.inFlight);
    }
    if (peak.polled) {
      timeline.record(metrics.desired, minute, target.capacity);
      timeline.record(metrics.running, minute, ready(end).length);
    }
    const before = target.capacity;
    if (scaling.tick(minute) !== before) {
      const at = end + draw('stepScalingAction');
      agenda.at(at, () => reconcile(at));
    }
    desired.push(target.capacity);
  }

  for (const task of live()) task.stoppedAt = scenario.until;
  const minimum = draw('fargateBilling');
  const billedTaskSeconds = tasks.reduce((sum, t) => {
    const stop = t.stoppedAt ?? scenario.until;
    return stop > t.billedFrom ? sum + Math.max(minimum, stop - t.billedFrom) : sum;
  }, 0);
  return {
    jobs: jobs.flatMap((j) =>
      j.takenAt === undefined || j.doneAt === undefined
        ? []
        : [{ arrivedAt: j.upload.at, takenAt: j.takenAt, doneAt: j.doneAt, idle: j.idle }],
    ),
    billedTaskSeconds,
    desired,
  };
}

/**
 * Time to first result from idle, once per start from zero: from the first upload that finds the service at zero
 * to the first result after it. Uploads that arrive before that result (a burst) wait for the same start.
 */
export function firstResultsFromIdle(jobs: JobOutcome[]): number[] {
  const byArrival = [...jobs].sort((a, b) => a.arrivedAt - b.arrivedAt);
  const completions = jobs.map((j) => j.doneAt).sort((a, b) => a - b);
  const waits: number[] = [];
  let firstResult = -Infinity;
  for (const job of byArrival) {
    if (!job.idle || job.arrivedAt < firstResult) continue;
    firstResult = completions.find((t) => t > job.arrivedAt) ?? Infinity;
    waits.push(firstResult - job.arrivedAt);
  }
  return waits;
}
