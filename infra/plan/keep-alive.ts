// The queue keep-alives the program registered (infra/queue-keep-alive.ts), read from their resources: which
// queue each one accesses and how often, for the plan's price and the simulation (the queue never goes inactive).
import type { RecordedResource } from './offline.js';

const COMPONENT = 'retainwise:queue:QueueKeepAlive';
const SCHEDULE = 'aws:scheduler/schedule:Schedule';
const FUNCTION = 'aws:lambda/function:Function';
const UNIT_SECONDS = { minute: 60, hour: 3600, day: 86_400 } as const;

export interface RegisteredKeepAlive {
  /** The queue its function calls GetQueueAttributes on (the last segment of its QUEUE_URL). */
  queue: string;
  scheduleExpression: string;
  /** Seconds between calls; undefined while the schedule is disabled. */
  periodSeconds: number | undefined;
  function: { memoryMb: number; architecture: 'arm64' | 'x86_64' };
}

export function registeredKeepAlives(resources: RecordedResource[]): RegisteredKeepAlive[] {
  return resources
    .filter((r) => r.type === COMPONENT)
    .map((component) => {
      const child = (type: string): Record<string, unknown> => {
        const found = resources.find((r) => r.type === type && r.parentUrn === component.urn);
        if (!found) throw new Error(`keep-alive ${component.name} registers no ${type}`);
        return found.inputs;
      };
      const fn = child(FUNCTION) as {
        environment?: { variables?: Record<string, string> };
        memorySize?: number;
        architectures?: ('arm64' | 'x86_64')[];
      };
      const schedule = child(SCHEDULE);
      const scheduleExpression = String(schedule['scheduleExpression']);
      const period = ratePeriod(scheduleExpression);
      return {
        queue: fn.environment?.variables?.['QUEUE_URL']?.split('/').pop() ?? '',
        scheduleExpression,
        periodSeconds: schedule['state'] === 'DISABLED' ? undefined : period,
        // Lambda's defaults: 128 MB, x86_64 (Lambda API Reference, CreateFunction).
        function: { memoryMb: fn.memorySize ?? 128, architecture: fn.architectures?.[0] ?? 'x86_64' },
      };
    });
}

/**
 * Seconds between the invocations of a rate-based schedule, `rate(value unit)`: "value: A positive number",
 * unit minutes, hours or days (EventBridge Scheduler User Guide, "Schedule types in EventBridge Scheduler",
 * Rate-based schedules — https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html; the
 * singular for a value of 1, as in EventBridge's "Rate expressions reference"). Anything else (cron, one-time,
 * a fraction) has no single period to simulate: refused rather than guessed.
 */
function ratePeriod(expression: string): number {
  const m = /^rate\(([1-9]\d*) (minute|hour|day)s?\)$/.exec(expression);
  if (!m) {
    throw new Error(
      `keep-alive schedule ${expression} is not modelled: only rate(<whole number> minutes|hours|days)`,
    );
  }
  return Number(m[1]) * UNIT_SECONDS[m[2] as keyof typeof UNIT_SECONDS];
}
