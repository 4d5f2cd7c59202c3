import type { OpsClients } from './clients.js';
import { oldestMessage, type OldestMessage } from './cloud.js';
import { messageEvidence, type Evidence } from './orphans.js';
import { queueDepth, type QueueDepth } from './queues.js';
import type { OpsSettings } from './settings.js';

/** What every command gets, and what it gives back: an exit code, a JSON document and the same as text. */
export interface OpsContext {
  settings: OpsSettings;
  clients: OpsClients;
  now(): Date;
}

export interface Outcome {
  /** 0 nothing wrong, 1 problems found or a step failed (bad input throws instead: exit 2) */
  exitCode: 0 | 1;
  json: unknown;
  text: string;
}

export const queueName = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

export const NO_CLOUDWATCH = 'no CloudWatch on the local stack';

export interface MainQueue {
  depth: QueueDepth;
  oldest: OldestMessage | undefined;
  /** why the oldest message's age is not known */
  oldestUnknown: string | undefined;
  evidence: Evidence;
}

/** The main queue's depth and the oldest message's age: what decides whether a QUEUED row has a message. */
export async function mainQueue(ctx: OpsContext): Promise<MainQueue> {
  const { config } = ctx.settings;
  const depth = await queueDepth(ctx.clients.sqs, config.queueUrl);
  const { cloudwatch } = ctx.clients;
  const oldest = cloudwatch
    ? await oldestMessage(cloudwatch, queueName(config.queueUrl), ctx.now())
    : undefined;
  const oldestUnknown = cloudwatch
    ? oldest
      ? undefined
      : 'CloudWatch has no ApproximateAgeOfOldestMessage for the last 15 minutes'
    : NO_CLOUDWATCH;
  return { depth, oldest, oldestUnknown, evidence: messageEvidence(depth, oldest, oldestUnknown ?? '') };
}
