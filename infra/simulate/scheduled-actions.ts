// The minimum a scheduled action sets and when, read from the scheduled actions the program registered.
import type { Registered } from './worker-world.js';

const MINUTE = 60;
const SCHEDULED_ACTION = 'aws:appautoscaling/scheduledAction:ScheduledAction';
const DAY_NAMES = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

interface ScheduledMinimum {
  /** Seconds since midnight. */
  at: number;
  minCapacity: number;
  maxCapacity: number;
}

/** The registered scheduled actions that fire on `weekday`, from their `cron(m h ? * days *)` schedules. */
export function scheduledMinimums(stack: Registered, weekday: number): ScheduledMinimum[] {
  return stack.resources
    .filter((r) => r.type === SCHEDULED_ACTION)
    .flatMap((r) => {
      const schedule = String(r.inputs['schedule']);
      const timezone = r.inputs['timezone'] as string | undefined;
      if (timezone !== undefined && timezone !== 'UTC')
        throw new Error(`timezone ${timezone} is not modelled`);
      const m = /^cron\((\d+) (\d+) \? \* ([A-Z,-]+) \*\)$/.exec(schedule);
      if (!m) throw new Error(`schedule ${schedule} is not modelled`);
      const [, minute, hour, days] = m;
      const action = r.inputs['scalableTargetAction'] as { minCapacity: number; maxCapacity: number };
      const on = (days ?? '').split(',').some((part) => {
        const [from, to = from] = part.split('-').map((d) => DAY_NAMES.indexOf(d));
        return from !== undefined && to !== undefined && from >= 0 && weekday >= from && weekday <= to;
      });
      return on ? [{ at: Number(hour) * 3600 + Number(minute) * MINUTE, ...action }] : [];
    })
    .sort((a, b) => a.at - b.at);
}
