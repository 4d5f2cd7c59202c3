// Evaluates the program's CloudWatch alarms over a scripted per-minute metric timeline, and the Application Auto
// Scaling step policies those alarms invoke, so tests can state what an alarm or the scaling does over time
// instead of only which settings it was registered with. The semantics follow AWS's documentation; where the
// documentation is silent the choice made here is the pessimistic one and is marked as such.
//
// Sources (stored copies of the AWS docs):
// - Alarm evaluation, M out of N, missing data: awsdocs/amazon-cloudwatch-user-guide doc_source/AlarmThatSendsEmail.md
//   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html, "Evaluating an
//   alarm", "Configuring how CloudWatch alarms treat missing data").
// - Metric math: awsdocs/amazon-cloudwatch-user-guide doc_source/using-metric-math.md
//   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html).
// - Step scaling: awsdocs/application-auto-scaling-user-guide doc_source/application-auto-scaling-step-scaling-policies.md
//   (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-step-scaling-policies.html).
// - Alarms re-invoke Auto Scaling actions once a minute while they stay in ALARM: CloudWatch "Alarm actions"
//   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html) and
//   https://repost.aws/knowledge-center/autoscaling-policy-cloudwatch-alarm.
// - Several policies on one target: the one giving the largest capacity wins, for scale-out and scale-in alike
//   (Application Auto Scaling PutScalingPolicy, https://docs.aws.amazon.com/cli/latest/reference/application-autoscaling/put-scaling-policy.html).
import type { MetricQuery } from './cloudwatch.js';

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

// ---------------------------------------------------------------------------------------------------------------
// Metric math. A time series is a map from period index to value; a missing key is a missing datapoint.

type Series = Map<number, number>;
type Value = number | Series;

const isSeries = (v: Value): v is Series => v instanceof Map;

type Token = { kind: 'num'; value: number } | { kind: 'id'; value: string } | { kind: 'op'; value: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  const re = /\s*(?:(\d+(?:\.\d+)?)|([A-Za-z_][A-Za-z0-9_]*)|(==|!=|<=|>=|&&|\|\||[-+*/^<>(),]))/y;
  let rest = expression.trim();
  while (rest.length > 0) {
    re.lastIndex = 0;
    const m = re.exec(rest);
    if (!m) throw new Error(`cannot parse metric math near "${rest}"`);
    if (m[1] !== undefined) tokens.push({ kind: 'num', value: Number(m[1]) });
    else if (m[2] === 'AND' || m[2] === 'OR')
      tokens.push({ kind: 'op', value: m[2] === 'AND' ? '&&' : '||' });
    else if (m[2] !== undefined) tokens.push({ kind: 'id', value: m[2] });
    else tokens.push({ kind: 'op', value: m[3] as string });
    rest = rest.slice(m[0].length).trimStart();
  }
  return tokens;
}

/** Combines two values pointwise. Between two series the documented rules apply: arithmetic ("Missing values in a
 *  time series are treated as 0") and comparisons ("only one of the time series has a value … treats the missing
 *  value in the other time series as 0") both see the union of timestamps; division by zero drops the point. */
function pointwise(a: Value, b: Value, f: (x: number, y: number) => number): Value {
  if (!isSeries(a) && !isSeries(b)) return f(a, b);
  const out: Series = new Map();
  const keys = new Set<number>([...(isSeries(a) ? a.keys() : []), ...(isSeries(b) ? b.keys() : [])]);
  for (const k of [...keys].sort((x, y) => x - y)) {
    const x = isSeries(a) ? (a.get(k) ?? 0) : a;
    const y = isSeries(b) ? (b.get(k) ?? 0) : b;
    const r = f(x, y);
    if (Number.isFinite(r)) out.set(k, r);
  }
  return out;
}

const BINARY: Record<string, (x: number, y: number) => number> = {
  '+': (x, y) => x + y,
  '-': (x, y) => x - y,
  '*': (x, y) => x * y,
  '/': (x, y) => x / y,
  '^': (x, y) => x ** y,
  '==': (x, y) => Number(x === y),
  '!=': (x, y) => Number(x !== y),
  '<': (x, y) => Number(x < y),
  '<=': (x, y) => Number(x <= y),
  '>': (x, y) => Number(x > y),
  '>=': (x, y) => Number(x >= y),
  '&&': (x, y) => Number(x !== 0 && y !== 0),
  '||': (x, y) => Number(x !== 0 || y !== 0),
};

const PRECEDENCE: string[][] = [
  ['||'],
  ['&&'],
  ['==', '!=', '<', '<=', '>', '>='],
  ['+', '-'],
  ['*', '/'],
  ['^'],
];

/** IF as documented ("Using IF expressions"): per datapoint of the condition, a true condition takes the true
 *  branch (0 where a true-branch series has no point), a false one takes the false branch (dropped where that
 *  series has no point or the branch is omitted); a scalar condition picks a whole branch. */
function ifFunction(cond: Value, whenTrue: Value, whenFalse: Value | undefined): Value {
  if (!isSeries(cond)) return cond !== 0 ? whenTrue : (whenFalse ?? new Map());
  const out: Series = new Map();
  for (const [k, c] of cond) {
    if (c !== 0) out.set(k, isSeries(whenTrue) ? (whenTrue.get(k) ?? 0) : whenTrue);
    else if (whenFalse !== undefined) {
      const v = isSeries(whenFalse) ? whenFalse.get(k) : whenFalse;
      if (v !== undefined) out.set(k, v);
    }
  }
  return out;
}

/** FILL(series, value) fills the missing periods of the evaluation range. The documentation does not say what
 *  FILL returns for a series with no datapoint at all in the range; this model assumes the pessimistic answer,
 *  an empty series (nothing to fill between), so the program must never rely on FILL to invent datapoints for a
 *  metric that is not being published. */
function fillFunction(series: Value, filler: Value, range: number[]): Value {
  if (!isSeries(series)) throw new Error('FILL needs a time series');
  if (isSeries(filler)) throw new Error('FILL with a series filler is not modelled');
  if (series.size === 0) return new Map();
  return new Map(range.map((k) => [k, series.get(k) ?? filler]));
}

function evaluateExpression(expression: string, vars: Map<string, Value>, range: number[]): Value {
  const tokens = tokenize(expression);
  let pos = 0;
  const peek = () => tokens[pos];
  const expect = (op: string) => {
    const t = tokens[pos++];
    if (t?.kind !== 'op' || t.value !== op) throw new Error(`expected "${op}" in ${expression}`);
  };
  const parseLevel = (level: number): Value => {
    if (level === PRECEDENCE.length) return parseUnary();
    let left = parseLevel(level + 1);
    for (;;) {
      const t = peek();
      if (t?.kind !== 'op' || !PRECEDENCE[level]?.includes(t.value)) return left;
      pos++;
      left = pointwise(left, parseLevel(level + 1), BINARY[t.value] as (x: number, y: number) => number);
    }
  };
  const parseUnary = (): Value => {
    const t = peek();
    if (t?.kind === 'op' && t.value === '-') {
      pos++;
      return pointwise(0, parseUnary(), (_, y) => -y);
    }
    return parsePrimary();
  };
  const parsePrimary = (): Value => {
    const t = tokens[pos++];
    if (!t) throw new Error(`unexpected end of ${expression}`);
    if (t.kind === 'num') return t.value;
    if (t.kind === 'op' && t.value === '(') {
      const v = parseLevel(0);
      expect(')');
      return v;
    }
    if (t.kind !== 'id') throw new Error(`unexpected "${t.value}" in ${expression}`);
    const next = peek();
    if (next?.kind === 'op' && next.value === '(') {
      pos++;
      const args: Value[] = [];
      if (!(peek()?.kind === 'op' && peek()?.value === ')')) {
        args.push(parseLevel(0));
        while (peek()?.kind === 'op' && peek()?.value === ',') {
          pos++;
          args.push(parseLevel(0));
        }
      }
      expect(')');
      const [a, b, c] = args;
      if (t.value === 'IF' && a !== undefined && b !== undefined) return ifFunction(a, b, c);
      if (t.value === 'FILL' && a !== undefined && b !== undefined) return fillFunction(a, b, range);
      throw new Error(`metric math function ${t.value} is not modelled`);
    }
    const v = vars.get(t.value);
    if (v === undefined) throw new Error(`unknown id ${t.value} in ${expression}`);
    return v;
  };
  const result = parseLevel(0);
  if (pos !== tokens.length) throw new Error(`trailing input in ${expression}`);
  return result;
}

/** Evaluates metric math over plain series (period index → value); exported for the evaluator's own tests. */
export function metricMath(
  expression: string,
  series: Record<string, (number | undefined)[]>,
): (number | undefined)[] {
  const length = Math.max(0, ...Object.values(series).map((s) => s.length));
  const range = Array.from({ length }, (_, i) => i);
  const vars = new Map<string, Value>(
    Object.entries(series).map(([id, values]) => [
      id,
      new Map(values.flatMap((v, i) => (v === undefined ? [] : [[i, v] as [number, number]]))),
    ]),
  );
  const result = evaluateExpression(expression, vars, range);
  return range.map((k) => (isSeries(result) ? result.get(k) : result));
}

// ---------------------------------------------------------------------------------------------------------------
// Alarm evaluation.

function aggregate(stat: string, values: number[]): number | undefined {
  if (values.length === 0) return undefined;
  switch (stat) {
    case 'Maximum':
      return Math.max(...values);
    case 'Minimum':
      return Math.min(...values);
    case 'Sum':
      return values.reduce((a, b) => a + b, 0);
    case 'Average':
      return values.reduce((a, b) => a + b, 0) / values.length;
    case 'SampleCount':
      return values.length;
    default:
      throw new Error(`statistic ${stat} is not modelled`);
  }
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

// ---------------------------------------------------------------------------------------------------------------
// Application Auto Scaling step policies.

export interface StepAdjustment {
  metricIntervalLowerBound?: string;
  metricIntervalUpperBound?: string;
  scalingAdjustment: number;
}

export interface StepScalingConfiguration {
  adjustmentType: 'ChangeInCapacity' | 'ExactCapacity' | 'PercentChangeInCapacity';
  cooldown?: number;
  metricAggregationType?: string;
  minAdjustmentMagnitude?: number;
  stepAdjustments: StepAdjustment[];
}

/** The step whose bounds (relative to the threshold) contain `value`: above the threshold the lower bound is
 *  inclusive and the upper exclusive, below it the other way round. */
function matchingStep(steps: StepAdjustment[], value: number, threshold: number): StepAdjustment | undefined {
  const d = value - threshold;
  const bound = (b: string | undefined, open: number) => (b === undefined ? open : Number(b));
  return steps.find((s) => {
    const lower = bound(s.metricIntervalLowerBound, -Infinity);
    const upper = bound(s.metricIntervalUpperBound, Infinity);
    return d >= 0 ? lower <= d && d < upper : lower < d && d <= upper;
  });
}

/** PercentChangeInCapacity rounding as documented: beyond ±1 towards zero, within (-1, 1) away from zero. */
function percentChange(capacity: number, percent: number, minMagnitude: number | undefined): number {
  const raw = (capacity * percent) / 100;
  let change = raw > 1 || raw < -1 ? Math.trunc(raw) : raw > 0 ? 1 : raw < 0 ? -1 : 0;
  if (minMagnitude !== undefined && change !== 0 && Math.abs(change) < minMagnitude) {
    change = Math.sign(change) * minMagnitude;
  }
  return change;
}

interface PolicyState {
  /** When the policy last scaled out, and the capacity before it did. */
  scaleOut?: { minute: number; base: number; capacity: number };
  scaleInAt?: number;
}

/** A scalable target with its step policies; `invoke` is what one minute of alarm actions does to it. */
export class StepScalingTarget {
  private readonly state = new Map<string, PolicyState>();

  constructor(
    public capacity: number,
    public minCapacity: number,
    public maxCapacity: number,
    private readonly policies: Record<string, StepScalingConfiguration>,
  ) {}

  /** A scheduled action's new bounds: a capacity below the new minimum scales out to it, one above the new
   *  maximum scales in to it (Application Auto Scaling, "Scheduled scaling",
   *  https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-scheduled-scaling.html). */
  schedule(minCapacity: number, maxCapacity: number): void {
    this.minCapacity = minCapacity;
    this.maxCapacity = maxCapacity;
    this.capacity = Math.min(maxCapacity, Math.max(minCapacity, this.capacity));
  }

  /** Runs the policies invoked this minute (name → the alarm's threshold and evaluated datapoints); when several
   *  would act, the largest resulting capacity wins. Returns the new capacity. */
  invoke(minute: number, invocations: { policy: string; threshold: number; datapoints: number[] }[]): number {
    let best: { policy: string; capacity: number; scaleOut: boolean; base: number } | undefined;
    for (const { policy, threshold, datapoints } of invocations) {
      const config = this.policies[policy];
      if (!config) throw new Error(`no step policy ${policy}`);
      const value = aggregate(config.metricAggregationType ?? 'Average', datapoints);
      if (value === undefined) continue;
      const step = matchingStep(config.stepAdjustments, value, threshold);
      if (!step) continue;
      const proposal = this.propose(policy, config, step.scalingAdjustment, minute);
      if (proposal && (!best || proposal.capacity > best.capacity)) best = { policy, ...proposal };
    }
    if (best && best.capacity !== this.capacity) {
      const s = this.state.get(best.policy) ?? {};
      if (best.scaleOut) s.scaleOut = { minute, base: best.base, capacity: best.capacity };
      else s.scaleInAt = minute;
      this.state.set(best.policy, s);
      this.capacity = best.capacity;
    }
    return this.capacity;
  }

  private propose(
    policy: string,
    config: StepScalingConfiguration,
    adjustment: number,
    minute: number,
  ): { capacity: number; scaleOut: boolean; base: number } | undefined {
    const cooldownMinutes = (config.cooldown ?? 0) / 60;
    const s = this.state.get(policy) ?? {};
    const inScaleOutCooldown = s.scaleOut !== undefined && minute - s.scaleOut.minute < cooldownMinutes;
    // During a scale-out cooldown the capacity that scale-out added counts as already there: only a larger step
    // adds more, and it adds only the difference.
    const base = inScaleOutCooldown && s.scaleOut ? s.scaleOut.base : this.capacity;
    const target = (from: number) => {
      switch (config.adjustmentType) {
        case 'ChangeInCapacity':
          return from + adjustment;
        case 'ExactCapacity':
          return adjustment;
        case 'PercentChangeInCapacity':
          return from + percentChange(from, adjustment, config.minAdjustmentMagnitude);
      }
    };
    const capacity = Math.min(this.maxCapacity, Math.max(this.minCapacity, target(base)));
    if (capacity > this.capacity) return { capacity, scaleOut: true, base };
    const relative = config.adjustmentType !== 'ExactCapacity';
    if (capacity < this.capacity && !(relative && adjustment > 0)) {
      // Scale-in waits out the policy's cooldown.
      if (s.scaleInAt !== undefined && minute - s.scaleInAt < cooldownMinutes) return undefined;
      return { capacity, scaleOut: false, base: this.capacity };
    }
    return undefined;
  }
}
