import { beforeAll, describe, expect, it } from 'vitest';
import { backlogPerTaskTarget } from '../autoscaling.js';
import { ALARM, type MetricQuery as Query } from './support/cloudwatch.js';
import { deployStack, type Stack } from './support/program.js';
import { runWorld, type WorldMinute } from './support/worker-world.js';

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

  it('tracks backlog per task: visible messages ÷ running tasks, by metric math, never scaling in by itself', () => {
    const config = stack.input<{
      targetValue: number;
      disableScaleIn: boolean;
      customizedMetricSpecification: { metrics: Query[] };
    }>(POLICY, 'worker-scaling-backlog-per-task', 'targetTrackingScalingPolicyConfiguration');
    // acceptableLatencySeconds 300 ÷ averageJobSeconds 60 × workerConcurrency 2.
    expect(config.targetValue).toBe(10);
    expect(config.disableScaleIn).toBe(true);
    expect(config.customizedMetricSpecification.metrics).toEqual([
      expect.objectContaining({
        id: 'visible',
        returnData: false,
        metricStat: {
          metric: {
            namespace: 'AWS/SQS',
            metricName: 'ApproximateNumberOfMessagesVisible',
            dimensions: [{ name: 'QueueName', value: 'prod-retainwise-predictions-queue' }],
          },
          stat: 'Sum',
        },
      }),
      expect.objectContaining({
        id: 'running',
        returnData: false,
        metricStat: {
          metric: {
            namespace: 'ECS/ContainerInsights',
            metricName: 'RunningTaskCount',
            dimensions: [
              { name: 'ClusterName', value: 'retainwise-cluster' },
              { name: 'ServiceName', value: 'retainwise-worker' },
            ],
          },
          stat: 'Average',
        },
      }),
      expect.objectContaining({ id: 'backlog', expression: 'visible / running', returnData: true }),
    ]);
  });

  it('starts the first task when messages wait while no task is desired', () => {
    const policy = stack.one(POLICY, 'worker-scaling-start-from-zero');
    expect(policy.inputs).toMatchObject({
      policyType: 'StepScaling',
      resourceId: 'service/retainwise-cluster/retainwise-worker',
      stepScalingPolicyConfiguration: {
        adjustmentType: 'ExactCapacity',
        stepAdjustments: [{ metricIntervalLowerBound: '0', scalingAdjustment: 1 }],
      },
    });
    const alarm = stack.one(ALARM, 'worker-scaling-work-while-scaled-to-zero').inputs;
    expect(alarm).toMatchObject({
      comparisonOperator: 'GreaterThanOrEqualToThreshold',
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: 'notBreaching',
    });
    expect(alarm['alarmActions']).toEqual([expect.stringContaining(policy.name)]);
    const queries = alarm['metricQueries'] as Query[];
    expect(queries.map((q) => [q.id, q.metric?.metricName, q.metric?.dimensions])).toEqual([
      ['visible', 'ApproximateNumberOfMessagesVisible', { QueueName: 'prod-retainwise-predictions-queue' }],
      [
        'desired',
        'DesiredTaskCount',
        { ClusterName: 'retainwise-cluster', ServiceName: 'retainwise-worker' },
      ],
      ['startNeeded', undefined, undefined],
    ]);
    expect(queries[2]?.expression).toBe('IF(visible >= 1 AND FILL(desired, 0) < 1, 1, 0)');
  });

  it('returns to zero once nothing is visible or in flight for 15 minutes', () => {
    expect(
      stack.input(POLICY, 'worker-scaling-scale-in-when-idle', 'stepScalingPolicyConfiguration'),
    ).toMatchObject({
      adjustmentType: 'ExactCapacity',
      stepAdjustments: [{ metricIntervalUpperBound: '0', scalingAdjustment: 0 }],
    });
    const alarm = stack.one(ALARM, 'worker-scaling-queue-idle').inputs;
    expect(alarm).toMatchObject({
      comparisonOperator: 'LessThanOrEqualToThreshold',
      threshold: 0,
      evaluationPeriods: 15,
      datapointsToAlarm: 15,
      treatMissingData: 'breaching',
    });
    const queries = alarm['metricQueries'] as Query[];
    expect(queries.map((q) => q.metric?.metricName ?? q.expression)).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateNumberOfMessagesNotVisible',
      'FILL(visible, 0) + FILL(inFlight, 0)',
    ]);
    expect(
      queries.every(
        (q) => !q.metric || q.metric.dimensions['QueueName'] === 'prod-retainwise-predictions-queue',
      ),
    ).toBe(true);
  });

  it('keeps a minimum instead of zero when workerMinTasks is set, without the start-from-zero policy', async () => {
    const warm = await deployStack({ workerMinTasks: '1' });
    expect(warm.one('aws:appautoscaling/target:Target').inputs['minCapacity']).toBe(1);
    expect(warm.has(POLICY, 'worker-scaling-start-from-zero')).toBe(false);
    expect(
      warm.input(POLICY, 'worker-scaling-scale-in-when-idle', 'stepScalingPolicyConfiguration'),
    ).toMatchObject({
      stepAdjustments: [{ metricIntervalUpperBound: '0', scalingAdjustment: 1 }],
    });
  });

  it('derives the target from acceptable latency and job time (AWS acceptable backlog per task)', () => {
    expect(
      backlogPerTaskTarget({ acceptableLatencySeconds: 600, averageJobSeconds: 120, workerConcurrency: 1 }),
    ).toBe(5);
    expect(
      backlogPerTaskTarget({ acceptableLatencySeconds: 600, averageJobSeconds: 120, workerConcurrency: 2 }),
    ).toBe(10);
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

  it('starts a task within 3 minutes of the first message after 7 idle hours without any datapoint', () => {
    const idle = 7 * 60;
    const history = world((m) => (m === idle ? [5] : []), idle + 30);
    expect(history.slice(0, idle).every((h) => h.desired === 0)).toBe(true);
    const started = history.find((h) => h.minute >= idle && h.desired >= 1);
    expect(started?.minute ?? Infinity).toBeLessThanOrEqual(idle + 3);
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
