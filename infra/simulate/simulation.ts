// A discrete-event simulation, in seconds, of uploads reaching the worker service through the stack's own
// scaling: SQS publishes its metrics once a minute (none while the queue sleeps, late after it wakes), the
// registered alarms evaluate at every minute boundary and invoke the registered step policies (the scaling loop
// of worker-world.ts over the evaluator in alarm-timeline.ts), scheduled actions move the minimum, ECS starts
// Fargate tasks that provision, pull the image and start the worker, and the worker takes jobs as soon as it
// polls. Every AWS latency is drawn from AWS_ASSUMPTIONS; the worker's own figures come from the bench.
// A queue keep-alive the stack registers (infra/queue-keep-alive.ts) accesses the queue at its schedule's rate.
// Besides what the stack registers, a run may wake the service from outside CloudWatch (an upload event, a
// once-a-minute queue poll): the candidate designs of issue #15.
import { registeredKeepAlives } from '../plan/keep-alive.js';
import { Agenda } from './agenda.js';
import { MetricTimeline } from './alarm-timeline.js';
import type { Draw } from './draws.js';
import { publishedMetrics } from './published-metrics.js';
import { scheduledMinimums } from './scheduled-actions.js';
import { scalingLoop, tasksToStop, type Registered } from './worker-world.js';

const MINUTE = 60;

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
  /** The worker image's size relative to today's: scales the pull time. @default 1 */
  imageSizeRatio?: number;
}

export interface Scenario {
  uploads: Upload[];
  /** Seconds simulated from midnight. */
  until: number;
  /**
   * When the queue last held a message or was accessed other than by the stack's keep-alive, in seconds since
   * midnight (negative: the day before).
   */
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
  // A keep-alive has been calling at its period since before the day. A rate schedule counts from its creation
  // (without a StartDate it "starts invoking the target immediately": Scheduler User Guide, "Schedule types"),
  // so its phase against midnight is unknown; it changes nothing while the period is well inside
  // sqsInactiveAfter, and is taken as a call due at midnight, made within Scheduler's 60-second precision.
  const keepAlive = registeredKeepAlives(stack.resources).find(
    (k) => k.queue === scenario.names.queue,
  )?.periodSeconds;
  const keepAlivePhase = keepAlive === undefined ? 0 : draw('schedulerPrecision');
  let lastActive =
    keepAlive === undefined
      ? scenario.lastActiveAt
      : Math.max(scenario.lastActiveAt, keepAlivePhase - keepAlive);
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
  if (keepAlive !== undefined) {
    for (let at = keepAlivePhase; at < scenario.until; at += keepAlive) agenda.at(at, () => touchQueue(at));
  }

  const metrics = publishedMetrics(scenario.names);

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
