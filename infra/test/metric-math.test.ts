// The metric math the alarm evaluator computes, held to the examples in AWS's own documentation (see the sources in
// simulate/metric-math.ts).
import { describe, expect, it } from 'vitest';
import { metricMath } from '../simulate/metric-math.js';

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
