// Business hours: a higher minimum of worker tasks from a start to an end time on some days, as two scheduled
// actions (queue-depth-scaling.ts), because from zero the first upload waits for SQS metrics, an alarm and a
// Fargate start (`npm run simulate`).
import { inRange } from './validation.js';

/** Days of the week in a cron day-of-week field: names, ranges and lists (MON-FRI, SAT,SUN). */
const CRON_DAYS =
  /^(SUN|MON|TUE|WED|THU|FRI|SAT)(-(SUN|MON|TUE|WED|THU|FRI|SAT))?(,(SUN|MON|TUE|WED|THU|FRI|SAT)(-(SUN|MON|TUE|WED|THU|FRI|SAT))?)*$/;
const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

export interface BusinessHours {
  /** Tasks kept running from `start` to `end`. */
  minTasks: number;
  /** "HH:MM" in `timezone`, when the minimum rises. */
  start: string;
  /** "HH:MM" in `timezone`, after `start` on the same day, when it falls back to workerMinTasks. */
  end: string;
  /** A cron day-of-week field. @default 'MON-FRI' */
  days?: string | undefined;
  /** An IANA time zone; scheduled actions follow its daylight saving time. @default 'UTC' */
  timezone?: string | undefined;
}

/** The schedule of a scheduled action at `clock` ("HH:MM") on `days`. */
export function businessHoursCron(clock: string, days: string): string {
  const [hour, minute] = clock.split(':').map(Number);
  return `cron(${minute} ${hour} ? * ${days} *)`;
}

/** The checks of `workerBusinessHours` against the rest of the scaling settings. */
export function businessHoursChecks(s: {
  workerMinTasks: number;
  workerMaxTasks: number;
  workerBusinessHours?: BusinessHours | undefined;
}): [boolean, string, string][] {
  const b = s.workerBusinessHours;
  if (!b) return [];
  const start = CLOCK.test(b.start);
  const end = CLOCK.test(b.end);
  return [
    [
      inRange(b.minTasks, s.workerMinTasks + 1, s.workerMaxTasks),
      'workerBusinessHours',
      `minTasks must be more than workerMinTasks (${s.workerMinTasks}) and at most workerMaxTasks (${s.workerMaxTasks})`,
    ],
    [start, 'workerBusinessHours', `start must be "HH:MM", e.g. "08:00"; it is "${b.start}"`],
    [end, 'workerBusinessHours', `end must be "HH:MM", e.g. "18:00"; it is "${b.end}"`],
    [!start || !end || b.start < b.end, 'workerBusinessHours', 'end must come after start on the same day'],
    [
      b.days === undefined || CRON_DAYS.test(b.days),
      'workerBusinessHours',
      'days must be a cron day-of-week field of names, e.g. "MON-FRI"',
    ],
  ];
}
