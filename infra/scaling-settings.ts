// The scaling settings of the stack config, their defaults and checks, and the backlog per task they imply.
import { businessHoursChecks, type BusinessHours } from './business-hours.js';
import { check, inRange, pick, withDefaults, type Issue } from './validation.js';

/** The scaling settings of the stack config (`retainwise:<key>`). */
export interface ScalingSettings {
  /** Tasks kept running when the queue is idle; 0 lets the service scale to zero. @default 0 */
  workerMinTasks?: number | undefined;
  /** Upper bound of the service, e.g. what the database's connection limit allows. @default 4 */
  workerMaxTasks?: number | undefined;
  /** How long a job may wait in the queue before a task picks it up, in seconds. @default 300 */
  acceptableLatencySeconds?: number | undefined;
  /** Mean wall-clock time of one job (see the JobDuration metric), in seconds. @default 60 */
  averageJobSeconds?: number | undefined;
  /** Minutes a whole task must have been spare (not needed by waiting or running jobs) before the service gives
   *  one up; it then gives up one more per scale-in cooldown while that lasts. @default 15 */
  scaleInIdleMinutes?: number | undefined;
  /** A higher minimum during business hours. @default undefined (none) */
  workerBusinessHours?: BusinessHours | undefined;
}

export type ResolvedScalingSettings = Required<Omit<ScalingSettings, 'workerBusinessHours'>> &
  Pick<ScalingSettings, 'workerBusinessHours'>;

/** The scaling settings with every default applied (the only place they are). */
export function resolveScalingSettings(s: ScalingSettings): ResolvedScalingSettings {
  return withDefaults(
    {
      workerMinTasks: 0,
      workerMaxTasks: 4,
      acceptableLatencySeconds: 300,
      averageJobSeconds: 60,
      scaleInIdleMinutes: 15,
      workerBusinessHours: undefined,
    },
    pick(s, [
      'workerMinTasks',
      'workerMaxTasks',
      'acceptableLatencySeconds',
      'averageJobSeconds',
      'scaleInIdleMinutes',
      'workerBusinessHours',
    ]),
  );
}

/**
 * Backlog per task the service should hold (AWS's "acceptable backlog per task"): the messages one task
 * clears within the acceptable latency. A task runs `workerConcurrency` jobs at once, so its time per message
 * is averageJobSeconds ÷ workerConcurrency; with concurrency 1 this is acceptableLatency ÷ averageJobTime.
 */
export function backlogPerTaskTarget(s: {
  acceptableLatencySeconds: number;
  averageJobSeconds: number;
  workerConcurrency: number;
}): number {
  return (s.acceptableLatencySeconds / s.averageJobSeconds) * s.workerConcurrency;
}

export function validateScalingSettings(s: ResolvedScalingSettings, workerConcurrency: number): Issue[] {
  const backlog = backlogPerTaskTarget({ ...s, workerConcurrency });
  return check(
    [inRange(s.workerMinTasks, 0, 100), 'workerMinTasks', 'must be 0-100'],
    [inRange(s.workerMaxTasks, 1, 100), 'workerMaxTasks', 'must be 1-100'],
    [
      s.workerMinTasks <= s.workerMaxTasks,
      {
        workerMinTasks: `must not exceed the maximum (${s.workerMaxTasks})`,
        workerMaxTasks: `must not be below the minimum (${s.workerMinTasks})`,
      },
    ],
    [inRange(s.acceptableLatencySeconds, 1, 86_400), 'acceptableLatencySeconds', 'must be 1-86400'],
    [inRange(s.averageJobSeconds, 1, 86_400), 'averageJobSeconds', 'must be 1-86400'],
    [
      backlog >= 1,
      Object.fromEntries(
        ['acceptableLatencySeconds', 'averageJobSeconds', 'workerConcurrency'].map((key) => [
          key,
          `leaves a task less than one job: the backlog per task (latency ${s.acceptableLatencySeconds} s ÷ ${s.averageJobSeconds} s per job × ${workerConcurrency} jobs at once) must be at least 1; it is ${backlog.toFixed(2)}`,
        ]),
      ),
    ],
    // An alarm may look back at most one day of one-minute periods.
    [inRange(s.scaleInIdleMinutes, 1, 1440), 'scaleInIdleMinutes', 'must be 1-1440'],
    ...businessHoursChecks(s),
  );
}
