// The simulation's mechanics on cases whose answer follows by hand from the cited assumptions: every range drawn
// at its low or its high end, a worker that is ready 0.5 s after its image is pulled and scores 1,000 rows/s.
// The stack is the configured one (queue keep-alive on, its default) unless a case says otherwise.
import { beforeAll, describe, expect, it } from 'vitest';
import { AWS_ASSUMPTIONS, type AssumptionName } from '../simulate/assumptions.js';
import type { Draw } from '../simulate/draws.js';
import {
  firstResultsFromIdle,
  simulate,
  type Design,
  type Scenario,
  type Upload,
} from '../simulate/simulation.js';
import type { Registered } from '../simulate/worker-world.js';
import { deployStack, type Stack } from './support/program.js';

const end = (pick: 'min' | 'max'): Draw => {
  return (name: AssumptionName) => {
    const s = AWS_ASSUMPTIONS[name].seconds;
    return typeof s === 'number' ? s : s[pick];
  };
};
const WORKER = { readySeconds: 0.5, rowsPerSecond: 1000, jobOverheadSeconds: 0, concurrency: 2 };
const NAMES = {
  queue: 'prod-retainwise-predictions-queue',
  cluster: 'retainwise-cluster',
  service: 'retainwise-worker',
};
/** Low ends: 11 s provisioning, 9 s pull, no reactivation delay. High ends: 44 s, 29 s, 15 minutes. */
const STARTUP = { min: 11 + 9 + 0.5, max: 44 + 29 + 0.5 };
const HOUR = 3600;
const SCHEDULE = 'aws:scheduler/schedule:Schedule';

/** The stack with its keep-alive schedule's expression replaced. */
const scheduling = (stack: Stack, scheduleExpression: string): Registered => ({
  resources: stack.resources.map((r) =>
    r.type === SCHEDULE ? { ...r, inputs: { ...r.inputs, scheduleExpression } } : r,
  ),
});

describe('simulate', () => {
  let stack: Stack;
  let withoutKeepAlive: Stack;
  beforeAll(async () => {
    stack = await deployStack({ workerMaxTasks: '4' });
    withoutKeepAlive = await deployStack({ workerMaxTasks: '4', queueKeepAlive: false });
  }, 60_000); // two runs of the program: more than the default hook timeout on a loaded machine
  const run = (
    uploads: Upload[],
    lastActiveAt: number,
    draw: Draw,
    o: { design?: Design; until?: number; on?: Registered } = {},
  ) =>
    simulate(
      o.on ?? stack,
      { uploads, until: o.until ?? HOUR, lastActiveAt, weekday: 2, names: NAMES } satisfies Scenario,
      WORKER,
      o.design ?? {},
      draw,
    );
  const firstResult = (outcome: ReturnType<typeof run>) => {
    const job = outcome.jobs[0];
    if (!job) throw new Error('no job finished');
    return job.doneAt - job.arrivedAt;
  };

  it('scales out at the first minute boundary after an upload to an active queue, then waits for Fargate', () => {
    // Upload at 10:30 into the minute; SQS publishes minute 10 at 11:00, the alarm fires, the task starts.
    const outcome = run([{ at: 630, rows: 1000 }], 0, end('min'));
    expect(firstResult(outcome)).toBeCloseTo(30 + STARTUP.min + 1, 6);
    expect(outcome.jobs[0]?.idle).toBe(true);
    expect(outcome.desired.slice(9, 11)).toEqual([0, 1]);
  });

  it('after 7 idle hours keeps the queue active when the stack schedules a keep-alive: no wait for metrics', () => {
    // Even with the reactivation delay at its 15-minute bound: the queue never went inactive.
    const outcome = run([{ at: 30, rows: 1000 }], -7 * HOUR, end('max'));
    expect(firstResult(outcome)).toBeCloseTo(30 + STARTUP.max + 1, 6);
  });

  it('after 7 idle hours does not when queueKeepAlive is false: up to 15 minutes before any datapoint', () => {
    // Asleep at 00:00:30; the first datapoint published is minute 15's (the delay runs to 15:30).
    const late = run([{ at: 30, rows: 1000 }], -7 * HOUR, end('max'), { on: withoutKeepAlive });
    expect(firstResult(late)).toBeCloseTo(16 * 60 - 30 + STARTUP.max + 1, 6);
    // With no delay after waking it is the active queue's case again.
    const early = run([{ at: 30, rows: 1000 }], -7 * HOUR, end('min'), { on: withoutKeepAlive });
    expect(firstResult(early)).toBeCloseTo(30 + STARTUP.min + 1, 6);
  });

  it("keeps the queue active at the schedule's rate: calls 8 hours apart let it go inactive in between", () => {
    // Last active at midnight, as is the keep-alive's call then; the next call is at 08:00, too late for 07:00.
    const upload = [{ at: 7 * HOUR + 30, rows: 1000 }];
    const until = 8 * HOUR;
    const hourly = run(upload, 0, end('max'), { until, on: scheduling(stack, 'rate(1 hour)') });
    expect(firstResult(hourly)).toBeCloseTo(30 + STARTUP.max + 1, 6);
    const eightHourly = run(upload, 0, end('max'), { until, on: scheduling(stack, 'rate(8 hours)') });
    expect(firstResult(eightHourly)).toBeCloseTo(16 * 60 - 30 + STARTUP.max + 1, 6);
  });

  it.each(['cron(0 * * * ? *)', 'at(2026-12-02T07:00:00)', 'rate(0 hours)', 'rate(1.5 hours)'])(
    'refuses a keep-alive schedule it cannot read (%s) rather than guessing its rate',
    (expression) => {
      expect(() => run([], 0, end('min'), { on: scheduling(stack, expression) })).toThrow(
        `keep-alive schedule ${expression} is not modelled`,
      );
    },
  );

  it('with a wake on upload starts the task at once, asleep or not', () => {
    const outcome = run([{ at: 30, rows: 1000 }], -7 * HOUR, end('max'), {
      design: { wakeOnUpload: true },
      on: withoutKeepAlive,
    });
    expect(firstResult(outcome)).toBeCloseTo(STARTUP.max + 1, 6);
  });

  it('with a queue poll starts the task at the next poll, and a smaller image shortens the pull', () => {
    // Polls at 0, 60, … (phase drawn at its low end); the upload at 30 s is seen at 60 s.
    const outcome = run([{ at: 30, rows: 1000 }], -7 * HOUR, end('min'), {
      design: { pollQueue: true, imageSizeRatio: 0.5 },
      on: withoutKeepAlive,
    });
    expect(firstResult(outcome)).toBeCloseTo(30 + 11 + 9 * 0.5 + 0.5 + 1, 6);
  });

  it('takes the configured steps: 500 waiting jobs get the maximum of 4 tasks in one step', () => {
    const burst = Array.from({ length: 500 }, (_, i) => ({ at: 600 + i * 0.1, rows: 1000 }));
    const outcome = run(burst, 0, end('min'), { until: 4 * HOUR });
    expect(outcome.desired[10]).toBe(4);
    expect(outcome.jobs).toHaveLength(500);
    // 4 tasks × 2 jobs at a time × 1 s a job: 500 jobs take 62.5 s once all four run.
    const last = Math.max(...outcome.jobs.map((j) => j.doneAt));
    expect(last).toBeCloseTo(660 + STARTUP.min + 63, 0);
    // One start from zero for the whole burst: its first result comes one job after the first task is ready.
    expect(firstResultsFromIdle(outcome.jobs)).toEqual([660 + STARTUP.min + 1 - 600]);
  });

  it('bills a task from its image pull until the spare-task alarm has seen it idle for 15 minutes', () => {
    const outcome = run([{ at: 630, rows: 1000 }], 0, end('min'));
    // Ready at 680.5 and done at 681.5, so minute 11 still needs the task; minutes 12-26 find it spare and the
    // alarm scales in at 27:00. Billing began when the pull started, at 11:11.
    expect(outcome.desired.lastIndexOf(1)).toBe(25);
    expect(outcome.desired[26]).toBe(0);
    expect(outcome.billedTaskSeconds).toBeCloseTo(27 * 60 - (660 + 11), 6);
  });

  it('counts one first result per start from zero, however many uploads wait for it', () => {
    const job = (arrivedAt: number, doneAt: number, idle: boolean) => ({
      arrivedAt,
      takenAt: doneAt,
      doneAt,
      idle,
    });
    // 0 s and 10 s wait for one start (first result at 50 s); 60 s finds a task; 1,000 s finds zero again.
    const jobs = [job(10, 51, true), job(0, 50, true), job(60, 61, false), job(1000, 1040, true)];
    expect(firstResultsFromIdle(jobs)).toEqual([50, 40]);
  });

  it.each([
    ['with', () => stack],
    ['without', () => withoutKeepAlive],
  ])('never starts a task for an idle day %s the keep-alive, and bills nothing', (_, on) => {
    const outcome = run([], -7 * HOUR, end('max'), { until: 24 * HOUR, on: on() });
    expect(outcome.desired.every((d) => d === 0)).toBe(true);
    expect(outcome.billedTaskSeconds).toBe(0);
  });
});
