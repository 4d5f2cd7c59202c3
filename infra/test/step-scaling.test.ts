// The step-scaling model the timeline tests rely on, held to the examples in AWS's own documentation (see the
// sources in simulate/step-scaling.ts).
import { describe, expect, it } from 'vitest';
import { StepScalingTarget, type StepScalingConfiguration } from '../simulate/step-scaling.js';

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
