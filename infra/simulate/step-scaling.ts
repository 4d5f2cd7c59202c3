// Application Auto Scaling step policies on one scalable target, as AWS documents them, for the alarms that invoke
// them (alarm-timeline.ts).
//
// Sources (stored copies of the AWS docs):
// - Step scaling: awsdocs/application-auto-scaling-user-guide doc_source/application-auto-scaling-step-scaling-policies.md
//   (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-step-scaling-policies.html).
// - Alarms re-invoke Auto Scaling actions once a minute while they stay in ALARM: CloudWatch "Alarm actions"
//   (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/alarm-actions.html) and
//   https://repost.aws/knowledge-center/autoscaling-policy-cloudwatch-alarm.
// - Several policies on one target: the one giving the largest capacity wins, for scale-out and scale-in alike
//   (Application Auto Scaling PutScalingPolicy, https://docs.aws.amazon.com/cli/latest/reference/application-autoscaling/put-scaling-policy.html).
import { aggregate } from './metric-math.js';

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
