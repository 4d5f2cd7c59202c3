// What `npm run simulate` runs: upload traces of a day, and the candidate designs of issue #15 that they run
// through (each a stack config on top of Pulumi.prod.yaml and what the design adds outside the stack).
import { scheduledFunctionUsd } from '../plan/pricing.js';
import type { Design, Upload } from './simulation.js';

export const HOUR = 3600;
export const DAY = 24 * HOUR;
/** A Telco-shaped upload of 10,000 rows (about 1.5 MB of CSV). */
export const ROWS = 10_000;
/** The simulated day is a Tuesday. */
export const TUESDAY = 2;
const BUSINESS_HOURS = { minTasks: 1, start: '08:00', end: '18:00' };

export interface Trace {
  name: string;
  /** When the queue was last active, seconds since midnight. */
  lastActiveAt: number;
  uploads: (next: () => number) => Upload[];
}

export const TRACES: Trace[] = [
  {
    name: 'one upload after 7 idle hours (07:00, idle since midnight)',
    lastActiveAt: 0,
    uploads: (next) => [{ at: 7 * HOUR + 60 * next(), rows: ROWS }],
  },
  {
    name: 'one upload after 7 idle hours (14:00, idle since 07:00)',
    lastActiveAt: 7 * HOUR,
    uploads: (next) => [{ at: 14 * HOUR + 60 * next(), rows: ROWS }],
  },
  {
    name: '9 AM burst: 500 uploads within a minute, idle since 18:00 the day before',
    lastActiveAt: -6 * HOUR,
    uploads: (next) => {
      const phase = 60 * next();
      return Array.from({ length: 500 }, (_, i) => ({ at: 9 * HOUR + phase + (i * 60) / 500, rows: ROWS }));
    },
  },
  {
    name: 'steady trickle: one upload every 20 minutes on average (Poisson), all day',
    lastActiveAt: 0,
    uploads: (next) => {
      const uploads: Upload[] = [];
      for (let at = -1200 * Math.log(1 - next()); at < DAY - HOUR; at += -1200 * Math.log(1 - next())) {
        uploads.push({ at, rows: ROWS });
      }
      return uploads;
    },
  },
];

export interface Candidate {
  name: string;
  /** Stack config on top of Pulumi.prod.yaml. */
  config?: Record<string, string>;
  design: Design;
  /** What the design adds besides Fargate and the stack's keep-alive, USD a day, and where the price is from. */
  extraUsdPerDay?: { usd: number; why: string };
}

/** The poller's Lambda run, assumed: a GetQueueAttributes call and, when jobs wait, an UpdateService call. */
const POLL_BILLED_SECONDS = 0.2;
const POLLS_PER_DAY = 1440;

/**
 * The configured design first: its figures are the headline ones (`npm run simulate -- --write`). Every design
 * runs on the configured stack, queue keep-alive included, unless its config says otherwise.
 */
export const CANDIDATES: Candidate[] = [
  {
    name: 'configured: CloudWatch step scaling from zero, with the queue keep-alive',
    design: {},
  },
  {
    name: 'without the queue keep-alive (queueKeepAlive: false)',
    config: { 'retainwise:queueKeepAlive': 'false' },
    design: {},
  },
  {
    name: 'poll the queue every minute (Scheduler → Lambda: GetQueueAttributes, UpdateService)',
    design: { pollQueue: true },
    extraUsdPerDay: {
      usd: scheduledFunctionUsd(POLLS_PER_DAY, POLL_BILLED_SECONDS, { memoryMb: 128, architecture: 'arm64' }),
      why: `${POLLS_PER_DAY} Scheduler invocations and Lambda runs of ${POLL_BILLED_SECONDS} s at 128 MB arm64 a day, list prices of infra/plan/pricing.ts`,
    },
  },
  {
    name: 'wake on upload: the backend calls UpdateService after SendMessage',
    design: { wakeOnUpload: true },
  },
  {
    name: 'wake on upload, image half the size',
    design: { wakeOnUpload: true, imageSizeRatio: 0.5 },
  },
  {
    name: `business hours: workerBusinessHours ${BUSINESS_HOURS.start}–${BUSINESS_HOURS.end} UTC, ${BUSINESS_HOURS.minTasks} task`,
    config: { 'retainwise:workerBusinessHours': JSON.stringify(BUSINESS_HOURS) },
    design: {},
  },
];
