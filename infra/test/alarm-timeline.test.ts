// The alarm and step-scaling model the timeline tests rely on, held to the examples in AWS's own documentation
// (see the sources in simulate/alarm-timeline.ts).
import { describe, expect, it } from 'vitest';
import {
  alarmStates,
  metricMath,
  MetricTimeline,
  nextState,
  StepScalingTarget,
  type AlarmState,
  type StepScalingConfiguration,
} from '../simulate/alarm-timeline.js';

/** "0" non-breaching, "X" breaching, "-" missing, oldest first (the notation of the documented tables). */
const points = (row: string) => row.split(' ').map((c) => (c === '-' ? undefined : c === 'X' ? 10 : 0));
const RETAIN = 'retain';

describe('alarm evaluation with missing data (the documented tables, threshold 3 units, 5 datapoints retrieved)', () => {
  const cases: [string, number, (AlarmState | typeof RETAIN | null)[]][] = [
    // data points, datapoints to alarm, states for missing / ignore / breaching / notBreaching
    ['0 - X - X', 3, ['OK', 'OK', 'OK', 'OK']],
    ['0 - - - -', 3, ['OK', 'OK', 'OK', 'OK']],
    ['- - - - -', 3, ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
    ['0 X X - X', 3, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['- - - - X', 3, ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
    // The documented ALARM for `missing` in this row is not modelled (see nextState).
    ['X - - - -', 3, [null, RETAIN, 'ALARM', 'OK']],
    ['0 - X - X', 2, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 0 X 0 X', 2, ['ALARM', 'ALARM', 'ALARM', 'ALARM']],
    ['0 - X - -', 2, ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - 0', 2, ['OK', 'OK', 'ALARM', 'OK']],
    ['- - - - X', 2, ['INSUFFICIENT_DATA', RETAIN, 'ALARM', 'OK']],
  ];
  const treatments = ['missing', 'ignore', 'breaching', 'notBreaching'];
  for (const [row, m, expected] of cases) {
    it(`${m} out of 3, "${row}"`, () => {
      treatments.forEach((treatMissingData, i) => {
        const want = expected[i];
        if (want === null || want === undefined) return;
        const alarm = {
          evaluationPeriods: 3,
          datapointsToAlarm: m,
          threshold: 3,
          comparisonOperator: 'GreaterThanThreshold',
          treatMissingData,
        };
        for (const previous of ['OK', 'ALARM'] as const) {
          expect(nextState(previous, points(row), alarm), `${treatMissingData}, was ${previous}`).toBe(
            want === RETAIN ? previous : want,
          );
        }
      });
    });
  }
});

describe('metric math (the documented examples)', () => {
  const metric1 = [30, 20, 0, 0];
  const metric2 = [20, undefined, 20, undefined];

  it('compares two series treating a value missing from one of them as 0', () => {
    expect(metricMath('metric1 < metric2', { metric1, metric2 })).toEqual([0, 0, 1, 0]);
    expect(metricMath('metric1 >= 30', { metric1 })).toEqual([1, 0, 0, 0]);
    expect(metricMath('metric1 > 15 AND metric2 > 15', { metric1, metric2 })).toEqual([1, 0, 0, 0]);
  });

  it('IF takes its branches per datapoint of the condition', () => {
    const series = {
      metric1: [1, 1, 0, 0, undefined],
      metric2: [30, undefined, 0, 0, 30],
      metric3: [0, 0, 20, undefined, 20],
    };
    const u = undefined;
    expect(metricMath('IF(metric1, metric2, metric3)', series)).toEqual([30, 0, 20, u, u]);
    expect(metricMath('IF(metric1, 5, metric3)', series)).toEqual([5, 5, 20, u, u]);
    expect(metricMath('IF(metric1, metric2, 5)', series)).toEqual([30, 0, 5, 5, u]);
  });

  it('adds series treating missing values as 0 and drops a division by zero', () => {
    expect(metricMath('a + b', { a: [1, undefined, 3], b: [undefined, undefined, 4] })).toEqual([
      1,
      undefined,
      7,
    ]);
    expect(metricMath('a / b', { a: [1, 2], b: [0, 2] })).toEqual([undefined, 1]);
  });

  it('FILL fills the gaps of a series, but invents nothing for a series with no datapoint at all', () => {
    expect(metricMath('FILL(a, 0)', { a: [undefined, 2, undefined] })).toEqual([0, 2, 0]);
    expect(metricMath('FILL(a, 0) < 1', { a: [undefined, undefined, undefined] })).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
  });
});

describe('alarm over a timeline', () => {
  const metric = {
    namespace: 'AWS/SQS',
    metricName: 'ApproximateNumberOfMessagesVisible',
    dimensions: { QueueName: 'q' },
  };

  it('aggregates each period from its minutes and goes to ALARM after M breaching periods', () => {
    const timeline = new MetricTimeline().script(metric, 0, 20, (m) => (m >= 10 ? 7 : 0));
    const states = alarmStates(
      {
        ...metric,
        statistic: 'Maximum',
        period: 300,
        evaluationPeriods: 2,
        threshold: 5,
        comparisonOperator: 'GreaterThanThreshold',
        treatMissingData: 'notBreaching',
      },
      timeline,
      20,
    );
    // Periods [0,5) and [5,10) are quiet; [10,15) is the first breaching one, [15,20) the second.
    expect(states.slice(0, 4)).toEqual(['OK', 'OK', 'OK', 'OK']);
    expect(states[14]).toBe('OK');
    expect(states[19]).toBe('ALARM');
  });
});

describe('step scaling (the documented example: capacity 10, threshold 50, percent steps)', () => {
  const out: StepScalingConfiguration = {
    adjustmentType: 'PercentChangeInCapacity',
    metricAggregationType: 'Average',
    stepAdjustments: [
      { metricIntervalLowerBound: '0', metricIntervalUpperBound: '10', scalingAdjustment: 0 },
      { metricIntervalLowerBound: '10', metricIntervalUpperBound: '20', scalingAdjustment: 10 },
      { metricIntervalLowerBound: '20', scalingAdjustment: 30 },
    ],
  };
  const scaleIn: StepScalingConfiguration = {
    adjustmentType: 'PercentChangeInCapacity',
    metricAggregationType: 'Average',
    stepAdjustments: [
      { metricIntervalLowerBound: '-10', metricIntervalUpperBound: '0', scalingAdjustment: 0 },
      { metricIntervalLowerBound: '-20', metricIntervalUpperBound: '-10', scalingAdjustment: -10 },
      { metricIntervalUpperBound: '-20', scalingAdjustment: -30 },
    ],
  };

  it('scales 10 → 11 → 14 → 13 → 10 as the metric goes 60, 70, 40, 30', () => {
    const target = new StepScalingTarget(10, 0, 100, { out, in: scaleIn });
    expect(target.invoke(0, [{ policy: 'out', threshold: 50, datapoints: [55] }])).toBe(10);
    expect(target.invoke(1, [{ policy: 'out', threshold: 50, datapoints: [60] }])).toBe(11);
    expect(target.invoke(2, [{ policy: 'out', threshold: 50, datapoints: [70] }])).toBe(14);
    expect(target.invoke(3, [{ policy: 'in', threshold: 50, datapoints: [40] }])).toBe(13);
    expect(target.invoke(4, [{ policy: 'in', threshold: 50, datapoints: [30] }])).toBe(10);
  });
});

describe('step scaling cooldowns and competing policies', () => {
  const change = (steps: [lower: string, upper: string | undefined, adjustment: number][]) =>
    ({
      adjustmentType: 'ChangeInCapacity',
      cooldown: 300,
      metricAggregationType: 'Maximum',
      stepAdjustments: steps.map(([lower, upper, scalingAdjustment]) => ({
        metricIntervalLowerBound: lower,
        ...(upper === undefined ? {} : { metricIntervalUpperBound: upper }),
        scalingAdjustment,
      })),
    }) satisfies StepScalingConfiguration;

  it('counts the capacity a scale-out added during its cooldown: a larger step adds only the difference', () => {
    const target = new StepScalingTarget(4, 0, 20, {
      out: change([
        ['0', '10', 2],
        ['10', undefined, 3],
      ]),
    });
    expect(target.invoke(0, [{ policy: 'out', threshold: 0, datapoints: [5] }])).toBe(6);
    expect(target.invoke(1, [{ policy: 'out', threshold: 0, datapoints: [5] }])).toBe(6);
    expect(target.invoke(2, [{ policy: 'out', threshold: 0, datapoints: [15] }])).toBe(7);
    expect(target.invoke(4, [{ policy: 'out', threshold: 0, datapoints: [5] }])).toBe(7);
    expect(target.invoke(7, [{ policy: 'out', threshold: 0, datapoints: [5] }])).toBe(9);
  });

  it('blocks a scale-in until its cooldown has passed, and never leaves the capacity bounds', () => {
    const target = new StepScalingTarget(2, 0, 2, { in: change([['0', undefined, -1]]) });
    expect(target.invoke(0, [{ policy: 'in', threshold: 0, datapoints: [1] }])).toBe(1);
    expect(target.invoke(4, [{ policy: 'in', threshold: 0, datapoints: [1] }])).toBe(1);
    expect(target.invoke(5, [{ policy: 'in', threshold: 0, datapoints: [1] }])).toBe(0);
    expect(target.invoke(10, [{ policy: 'in', threshold: 0, datapoints: [1] }])).toBe(0);
  });

  it('lets the policy giving the largest capacity win when several act at once', () => {
    const target = new StepScalingTarget(3, 0, 10, {
      in: change([['0', undefined, -1]]),
      out: change([['0', undefined, 2]]),
    });
    expect(
      target.invoke(0, [
        { policy: 'in', threshold: 0, datapoints: [1] },
        { policy: 'out', threshold: 0, datapoints: [1] },
      ]),
    ).toBe(5);
  });
});
