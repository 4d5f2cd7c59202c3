import type { OldestMessage } from './cloud.js';
import type { QueueDepth } from './queues.js';
import type { OpsRow } from './rows.js';

/**
 * Which QUEUED rows have no message: the backend's empty-queue-URL case (message-contract.md §6), or a message
 * that expired or was purged. SQS cannot be searched by body, and receiving from the main queue to look would
 * take jobs away from the workers (the operator role may not), so the answer comes from time instead:
 *
 * - a row's message is sent after the row is written (the backend commits first; redrive and requeue touch
 *   `updated_at` first), so it is no older than the row's `updated_at`;
 * - when the main queue holds nothing at all (waiting, in flight and delayed are all 0), no row has a message;
 * - otherwise every message in it was sent after (time of the oldest-message figure − its age), from CloudWatch's
 *   ApproximateAgeOfOldestMessage, which counts in-flight messages too; a row QUEUED before that has none;
 * - without that figure (the local stack has no CloudWatch) a row in a non-empty queue is undecided.
 *
 * The limits: SQS's counts are approximate and its metrics a few minutes late (hence the minute of margin and
 * the operator's --older-than); a decision is only as good as the moment it was made.
 */

export type Evidence =
  | { kind: 'queue-empty' }
  /** every message in the main queue was sent after `sentAfter` */
  | { kind: 'oldest-message'; sentAfter: Date }
  | { kind: 'unknown'; messages: number; why: string };

const MARGIN_MS = 60_000;

export function messageEvidence(depth: QueueDepth, oldest: OldestMessage | undefined, why: string): Evidence {
  const messages = depth.visible + depth.inFlight + depth.delayed;
  if (messages === 0) return { kind: 'queue-empty' };
  if (oldest) {
    return {
      kind: 'oldest-message',
      sentAfter: new Date(oldest.at.getTime() - oldest.ageSeconds * 1000 - MARGIN_MS),
    };
  }
  return { kind: 'unknown', messages, why };
}

export function splitOrphans(
  rows: OpsRow[],
  evidence: Evidence,
): { orphaned: OpsRow[]; undecided: OpsRow[] } {
  if (evidence.kind === 'queue-empty') return { orphaned: rows, undecided: [] };
  if (evidence.kind === 'unknown') return { orphaned: [], undecided: rows };
  return {
    orphaned: rows.filter((row) => row.updatedAt < evidence.sentAfter),
    undecided: rows.filter((row) => row.updatedAt >= evidence.sentAfter),
  };
}

export function describeEvidence(evidence: Evidence): string {
  if (evidence.kind === 'queue-empty') return 'the main queue is empty';
  if (evidence.kind === 'oldest-message') {
    return `every message in the main queue was sent after ${evidence.sentAfter.toISOString()}`;
  }
  return `the main queue holds ${evidence.messages} message(s) and ${evidence.why}`;
}
