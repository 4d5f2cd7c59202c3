import { beforeAll, describe, expect, it } from 'vitest';
import { scaleOutSteps } from '../queue-depth-scaling.js';
import { backlogPerTaskTarget } from '../scaling-settings.js';
import { AWS_ASSUMPTIONS } from '../simulate/assumptions.js';
import { ALARM, type MetricQuery as Query } from '../simulate/cloudwatch.js';
import type { Draw } from '../simulate/draws.js';
import { simulate } from '../simulate/simulation.js';
import { runWorld, type WorldMinute } from '../simulate/worker-world.js';
import { deployStack, type Stack } from './support/program.js';

const POLICY = 'aws:appautoscaling/policy:Policy';
const BACKEND_IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/retainwise-backend@sha256:${'c'.repeat(64)}`;

describe('QueueDepthScaling', () => {
  let stack: Stack;
  beforeAll(async () => {
    // With a backend in the same cluster, so "scales the worker, not the API" is a real check (lessons #36).
    stack = await deployStack({ backendImage: BACKEND_IMAGE, workerMaxTasks: '6' });
  });

  it('scales the worker service (not the API) between 0 and the configured maximum', () => {
    const targets = stack.all('aws:appautoscaling/target:Target');
    expect(targets).toHaveLength(1);
    expect(targets[0]?.inputs).toMatchObject({
      serviceNamespace: 'ecs',
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: 'service/retainwise-cluster/retainwise-worker',
      minCapacity: 0,
      maxCapacity: 6,
    });
  });

  it('scales out while jobs wait, on visible messages alone: one task per 10 waiting, doubling for bigger backlogs', () => {
    const policy = stack.one(POLICY, 'worker-scaling-scale-out');
    expect(policy.inputs).toMatchObject({
      policyType: 'StepScaling',
      resourceId: 'service/retainwise-cluster/retainwise-worker',
      stepScalingPolicyConfiguration: {
        adjustmentType: 'ChangeInCapacity',
        metricAggregationType: 'Maximum',
        // acceptableLatencySeconds 300 ÷ averageJobSeconds 60 × workerConcurrency 2 = 10 jobs per task.
        stepAdjustments: scaleOutSteps(10, 6),
      },
    });
    const alarm = stack.one(ALARM, 'worker-scaling-work-waiting').inputs;
    expect(alarm).toMatchObject({
      namespace: 'AWS/SQS',
      metricName: 'ApproximateNumberOfMessagesVisible',
      dimensions: { QueueName: 'prod-retainwise-predictions-queue' },
      statistic: 'Maximum',
      period: 60,
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    });
    expect(alarm['alarmActions']).toEqual([expect.stringMatching(/:worker-scaling-scale-out$/)]);
  });

  it('scales in one task at a time once a whole task has been spare for 15 minutes', () => {
    expect(stack.input(POLICY, 'worker-scaling-scale-in', 'stepScalingPolicyConfiguration')).toMatchObject({
      adjustmentType: 'ChangeInCapacity',
      stepAdjustments: [{ metricIntervalLowerBound: '0', scalingAdjustment: -1 }],
    });
    const alarm = stack.one(ALARM, 'worker-scaling-spare-task').inputs;
    expect(alarm).toMatchObject({
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 15,
      datapointsToAlarm: 15,
      treatMissingData: 'notBreaching',
    });
    expect(alarm['alarmActions']).toEqual([expect.stringMatching(/:worker-scaling-scale-in$/)]);
    const queries = alarm['metricQueries'] as Query[];
    expect(queries.map((q) => [q.id, q.metric?.metricName, q.metric?.dimensions])).toEqual([
      ['visible', 'ApproximateNumberOfMessagesVisible', { QueueName: 'prod-retainwise-predictions-queue' }],
      [
        'inFlight',
        'ApproximateNumberOfMessagesNotVisible',
        { QueueName: 'prod-retainwise-predictions-queue' },
      ],
      [
        'desired',
        'DesiredTaskCount',
        { ClusterName: 'retainwise-cluster', ServiceName: 'retainwise-worker' },
      ],
      ['spareTasks', undefined, undefined],
    ]);
    expect(queries[3]?.expression).toBe('(desired * 2 - visible - inFlight) / 2');
  });

  it('keeps a minimum instead of zero when workerMinTasks is set', async () => {
    const warm = await deployStack({ workerMinTasks: '1' });
    expect(warm.one('aws:appautoscaling/target:Target').inputs['minCapacity']).toBe(1);
    const history = runWorld(warm, {
      queueName: 'prod-retainwise-predictions-queue',
      clusterName: 'retainwise-cluster',
      serviceName: 'retainwise-worker',
      concurrency: 2,
      arrivals: (m) => (m === 5 ? Array.from({ length: 30 }, () => 2) : []),
      minutes: 120,
    });
    expect(Math.max(...history.map((h) => h.desired))).toBeGreaterThan(1);
    expect(history.every((h) => h.desired >= 1)).toBe(true);
    expect(history.at(-1)?.desired).toBe(1);
  });

  it('schedules nothing by default', () => {
    expect(stack.has('aws:appautoscaling/scheduledAction:ScheduledAction')).toBe(false);
  });

  it('raises the minimum for business hours with two scheduled actions, and puts it back after', async () => {
    const warm = await deployStack({
      workerBusinessHours: JSON.stringify({
        minTasks: 2,
        start: '08:30',
        end: '18:00',
        timezone: 'Europe/Berlin',
      }),
    });
    const action = (edge: string) =>
      warm.one('aws:appautoscaling/scheduledAction:ScheduledAction', `worker-scaling-business-hours-${edge}`)
        .inputs;
    expect(action('start')).toMatchObject({
      name: 'retainwise-worker-business-hours-start',
      serviceNamespace: 'ecs',
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: 'service/retainwise-cluster/retainwise-worker',
      schedule: 'cron(30 8 ? * MON-FRI *)',
      timezone: 'Europe/Berlin',
      scalableTargetAction: { minCapacity: 2, maxCapacity: 4 },
    });
    expect(action('end')).toMatchObject({
      schedule: 'cron(0 18 ? * MON-FRI *)',
      scalableTargetAction: { minCapacity: 0, maxCapacity: 4 },
    });
  });

  it('answers an upload in business hours at once, and is back at zero a minute after they end', async () => {
    const warm = await deployStack({
      workerBusinessHours: JSON.stringify({ minTasks: 1, start: '08:00', end: '18:00' }),
    });
    const lowest: Draw = (name) => {
      const s = AWS_ASSUMPTIONS[name].seconds;
      return typeof s === 'number' ? s : s.min;
    };
    const outcome = simulate(
      warm,
      {
        uploads: [{ at: 10 * 3600 + 30, rows: 1000 }],
        until: 24 * 3600,
        lastActiveAt: -7 * 3600,
        weekday: 2,
        names: {
          queue: 'prod-retainwise-predictions-queue',
          cluster: 'retainwise-cluster',
          service: 'retainwise-worker',
        },
      },
      { readySeconds: 0.5, rowsPerSecond: 1000, jobOverheadSeconds: 0, concurrency: 2 },
      {},
      lowest,
    );
    expect(outcome.jobs.map((j) => j.doneAt - j.arrivedAt)).toEqual([1]);
    // The spare-task alarm has been in ALARM all day, held back by the minimum: at 18:01 it removes the task.
    expect(outcome.desired.indexOf(1)).toBe(8 * 60);
    expect(outcome.desired.lastIndexOf(1)).toBe(18 * 60 - 1);
    expect(outcome.billedTaskSeconds).toBeCloseTo(10 * 3600 + 60 - 11, 6);
  });

  it('derives the target from acceptable latency and job time (AWS acceptable backlog per task)', () => {
    expect(
      backlogPerTaskTarget({ acceptableLatencySeconds: 600, averageJobSeconds: 120, workerConcurrency: 1 }),
    ).toBe(5);
    expect(
      backlogPerTaskTarget({ acceptableLatencySeconds: 600, averageJobSeconds: 120, workerConcurrency: 2 }),
    ).toBe(10);
  });

  it('sizes the scale-out steps so a backlog from zero gets at least the tasks it needs, up to the maximum', () => {
    expect(scaleOutSteps(10, 6)).toEqual([
      { metricIntervalLowerBound: '0', metricIntervalUpperBound: '10', scalingAdjustment: 1 },
      { metricIntervalLowerBound: '10', metricIntervalUpperBound: '20', scalingAdjustment: 2 },
      { metricIntervalLowerBound: '20', metricIntervalUpperBound: '40', scalingAdjustment: 4 },
      { metricIntervalLowerBound: '40', scalingAdjustment: 6 },
    ]);
    expect(scaleOutSteps(7.5, 1)).toEqual([{ metricIntervalLowerBound: '0', scalingAdjustment: 1 }]);
  });
});

describe('QueueDepthScaling over time', () => {
  let stack: Stack;
  const world = (arrivals: (minute: number) => number[], minutes: number) =>
    runWorld(stack, {
      queueName: 'prod-retainwise-predictions-queue',
      clusterName: 'retainwise-cluster',
      serviceName: 'retainwise-worker',
      concurrency: 2,
      arrivals,
      minutes,
    });
  /** No scaling decision ever leaves running jobs without a task: ECS would keep their protected tasks, but the
   *  service would then believe it has capacity it has not. */
  const neverBelowInFlight = (history: WorldMinute[]) =>
    expect(history.filter((h) => h.desired < Math.ceil(h.inFlight / 2))).toEqual([]);
  beforeAll(async () => {
    stack = await deployStack({ workerMaxTasks: '6' });
  });

  it('after 7 idle hours starts a task only once SQS publishes again: up to 15 minutes, then within 3', () => {
    // "A delay of up to 15 minutes occurs in CloudWatch metrics when a queue is activated from an inactive
    // state" (SQS Developer Guide): the world takes the bound.
    const idle = 7 * 60;
    const history = world((m) => (m === idle ? [5] : []), idle + 45);
    expect(history.slice(0, idle + 15).every((h) => h.desired === 0)).toBe(true);
    const started = history.find((h) => h.minute >= idle && h.desired >= 1);
    expect(started?.minute ?? Infinity).toBeLessThanOrEqual(idle + 15 + 3);
    expect(history.at(-1)).toMatchObject({ visible: 0, inFlight: 0 });
    neverBelowInFlight(history);
  });

  it('scales to the maximum on a burst of 500 jobs, then back in one task at a time to zero', () => {
    const history = world((m) => (m === 10 ? Array.from({ length: 500 }, () => 1) : []), 240);
    const atMax = history.find((h) => h.desired === 6);
    expect(atMax?.minute ?? Infinity).toBeLessThanOrEqual(15);
    const drained = history.findIndex((h) => h.minute > 10 && h.visible === 0 && h.inFlight === 0);
    expect(drained).toBeGreaterThan(0);
    const after = history.slice(drained).map((h) => h.desired);
    const changes = after.flatMap((d, i) => (i > 0 && d !== after[i - 1] ? [d] : []));
    expect(changes).toEqual([5, 4, 3, 2, 1, 0]);
    neverBelowInFlight(history);
  });

  it('never scales in below a 50-minute job in progress with nothing waiting', () => {
    const history = world((m) => (m === 5 ? [50] : []), 120);
    const running = history.filter((h) => h.inFlight > 0);
    expect(running.length).toBeGreaterThanOrEqual(49);
    expect(running.every((h) => h.desired >= 1)).toBe(true);
    expect(history.at(-1)?.desired).toBe(0);
    neverBelowInFlight(history);
  });
});
