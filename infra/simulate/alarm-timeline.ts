// Evaluates the program's CloudWatch alarms over a scripted per-minute metric timeline, so tests can state what an
// alarm does over time instead of only which settings it was registered with; the step policies the alarms invoke
// are step-scaling.ts. The semantics follow AWS's documentation; where the documentation is silent the choice
// made here is the pessimistic one and is marked as such.
//
// Sources (stored copies of the AWS docs):
// - Alarm evaluation, M out of N, missing data: awsdocs/amazon-cloudwatch-user-guide doc_source/AlarmThatSendsEmail.md
//   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html, "Evaluating an
//   alarm", "Configuring how CloudWatch alarms treat missing data").
import type { MetricQuery } from './cloudwatch.js';
import { aggregate, evaluateExpression, isSeries, type Series, type Value } from './metric-math.js';

export type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

export interface MetricRef {
  namespace: string;
  metricName: string;
  dimensions: Record<string, string>;
}

// An alarm looks its metrics up every minute of a simulated day: the key of each metric object is built once.
const keys = new WeakMap<MetricRef, string>();

function metricKey(m: MetricRef): string {
  const cached = keys.get(m);
  if (cached !== undefined) return cached;
  const dims = Object.entries(m.dimensions)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${v}`);
  const key = [m.namespace, m.metricName, ...dims].join('|');
  keys.set(m, key);
  return key;
}

/** One sample per metric and minute (what the source published in that minute, already aggregated). */
export class MetricTimeline {
  private readonly samples = new Map<string, Map<number, number>>();

  record(metric: MetricRef, minute: number, value: number): void {
    const key = metricKey(metric);
    const series = this.samples.get(key) ?? new Map<number, number>();
    series.set(minute, value);
    this.samples.set(key, series);
  }

  /** Records `value(minute)` for every minute in [from, to); `undefined` publishes nothing that minute. */
  script(metric: MetricRef, from: number, to: number, value: (minute: number) => number | undefined): this {
    for (let m = from; m < to; m++) {
      const v = value(m);
      if (v !== undefined) this.record(metric, m, v);
    }
    return this;
  }

  sample(metric: MetricRef, minute: number): number | undefined {
    return this.samples.get(metricKey(metric))?.get(minute);
  }
}

/** The inputs of an aws.cloudwatch.MetricAlarm as the mocks record them. */
export interface AlarmInputs {
  namespace?: string;
  metricName?: string;
  dimensions?: Record<string, string>;
  statistic?: string;
  period?: number;
  metricQueries?: MetricQuery[];
  evaluationPeriods: number;
  datapointsToAlarm?: number;
  threshold: number;
  comparisonOperator: string;
  treatMissingData?: string;
  alarmActions?: string[];
}

const BREACHES: Record<string, (value: number, threshold: number) => boolean> = {
  GreaterThanThreshold: (v, t) => v > t,
  GreaterThanOrEqualToThreshold: (v, t) => v >= t,
  LessThanThreshold: (v, t) => v < t,
  LessThanOrEqualToThreshold: (v, t) => v <= t,
};

/**
 * The alarm state after one evaluation of the datapoints in the evaluation range (oldest first), following the
 * documented rules and their two example tables: with at least N real datapoints the most recent N decide;
 * with fewer, all real ones count and the rest is filled as treatMissingData says, "as few times as possible".
 * One row of the documented tables is not reproduced: with 3 of 3 and only the oldest of five datapoints present
 * and breaching, the documentation reports ALARM for `missing`; this model reports INSUFFICIENT_DATA (the
 * program uses no `missing` alarm).
 */
export function nextState(
  previous: AlarmState,
  datapoints: (number | undefined)[],
  alarm: Pick<
    AlarmInputs,
    'evaluationPeriods' | 'datapointsToAlarm' | 'threshold' | 'comparisonOperator' | 'treatMissingData'
  >,
): AlarmState {
  const n = alarm.evaluationPeriods;
  const m = alarm.datapointsToAlarm ?? n;
  const breaches = BREACHES[alarm.comparisonOperator];
  if (!breaches) throw new Error(`comparison ${alarm.comparisonOperator} is not modelled`);
  const real = datapoints.filter((d): d is number => d !== undefined);
  const breaching = (values: number[]) => values.filter((v) => breaches(v, alarm.threshold)).length;
  if (real.length >= n) return breaching(real.slice(-n)) >= m ? 'ALARM' : 'OK';
  const missing = n - real.length;
  const realBreaching = breaching(real);
  switch (alarm.treatMissingData ?? 'missing') {
    case 'breaching':
      return realBreaching + missing >= m ? 'ALARM' : 'OK';
    case 'notBreaching':
      return realBreaching >= m ? 'ALARM' : 'OK';
    case 'ignore':
      if (realBreaching >= m) return 'ALARM';
      return realBreaching < real.length ? 'OK' : previous;
    case 'missing':
      if (realBreaching >= m) return 'ALARM';
      return realBreaching < real.length ? 'OK' : 'INSUFFICIENT_DATA';
    default:
      throw new Error(`treatMissingData ${String(alarm.treatMissingData)} is not modelled`);
  }
}

/**
 * How many periods an evaluation looks back. The documentation says CloudWatch retrieves "a higher number of
 * data points than specified by Evaluation Periods", the exact number depending on the period; its examples
 * retrieve 5 for 3 evaluation periods, which is the number used here.
 */
const EXTRA_PERIODS = 2;

export interface Evaluation {
  state: AlarmState;
  /** The real datapoints the evaluation used, newest last (what a step policy aggregates). */
  datapoints: number[];
}

/** One alarm, evaluated at the end of every minute (the state starts as INSUFFICIENT_DATA, as on creation). */
export class AlarmEvaluator {
  private state: AlarmState = 'INSUFFICIENT_DATA';
  private readonly periodMinutes: number;

  constructor(
    readonly alarm: AlarmInputs,
    private readonly timeline: MetricTimeline,
  ) {
    const periods = alarm.metricQueries
      ? alarm.metricQueries.flatMap((q) => (q.metric ? [q.metric.period] : []))
      : [alarm.period ?? 60];
    const period = periods[0] ?? 60;
    if (periods.some((p) => p !== period))
      throw new Error('every metric of an alarm must use the same period');
    if (period % 60 !== 0) throw new Error(`period ${period} is not a whole number of minutes`);
    this.periodMinutes = period / 60;
  }

  /** Evaluates with every minute up to and including `minute` published. */
  evaluate(minute: number): Evaluation {
    const last = Math.floor((minute + 1) / this.periodMinutes) - 1;
    const first = last - (this.alarm.evaluationPeriods + EXTRA_PERIODS) + 1;
    const range = Array.from({ length: last - first + 1 }, (_, i) => first + i).filter((k) => k >= 0);
    const values = this.series(range);
    const datapoints = range.map((k) => values.get(k));
    this.state = nextState(this.state, datapoints, this.alarm);
    const real = datapoints.filter((d): d is number => d !== undefined);
    return { state: this.state, datapoints: real.slice(-this.alarm.evaluationPeriods) };
  }

  private metricSeries(metric: MetricRef, stat: string, range: number[]): Series {
    const out: Series = new Map();
    for (const k of range) {
      const samples: number[] = [];
      for (let m = k * this.periodMinutes; m < (k + 1) * this.periodMinutes; m++) {
        const s = this.timeline.sample(metric, m);
        if (s !== undefined) samples.push(s);
      }
      const v = aggregate(stat, samples);
      if (v !== undefined) out.set(k, v);
    }
    return out;
  }

  private series(range: number[]): Series {
    const a = this.alarm;
    if (!a.metricQueries) {
      if (!a.namespace || !a.metricName || !a.statistic)
        throw new Error('alarm has neither a metric nor queries');
      return this.metricSeries(
        { namespace: a.namespace, metricName: a.metricName, dimensions: a.dimensions ?? {} },
        a.statistic,
        range,
      );
    }
    const vars = new Map<string, Value>();
    let result: Value | undefined;
    for (const q of a.metricQueries) {
      const v = q.metric
        ? this.metricSeries(q.metric, q.metric.stat, range)
        : evaluateExpression(q.expression ?? '', vars, range);
      vars.set(q.id, v);
      if (q.returnData) result = v;
    }
    if (result === undefined) throw new Error('no metric query returns data');
    if (!isSeries(result)) throw new Error('an alarm expression must produce a time series');
    return result;
  }
}

/** The state at the end of each minute in [0, minutes). */
export function alarmStates(alarm: AlarmInputs, timeline: MetricTimeline, minutes: number): AlarmState[] {
  const evaluator = new AlarmEvaluator(alarm, timeline);
  return Array.from({ length: minutes }, (_, minute) => evaluator.evaluate(minute).state);
}
