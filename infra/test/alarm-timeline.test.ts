// The alarm evaluator the timeline tests rely on, held to the examples in AWS's own documentation (see the sources
// in simulate/alarm-timeline.ts).
import { describe, expect, it } from 'vitest';
import { alarmStates, MetricTimeline, nextState, type AlarmState } from '../simulate/alarm-timeline.js';

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
