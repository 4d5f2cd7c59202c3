import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { BadInput } from '../cli/command.js';
import { describeError } from '../errors.js';
import { backendMessage } from './backend-message.js';
import { mainQueue, type OpsContext, type Outcome } from './context.js';
import { formatDuration } from './duration.js';
import { describeEvidence, splitOrphans } from './orphans.js';
import { failQueued, queuedSince, rowsById, touchQueued, type OpsRow } from './rows.js';
import { table } from './table.js';

/** predictions.error_message of a job `sweep --fail` gives up on: the user's only way on is a new upload */
export const NEVER_STARTED_MESSAGE = 'The job was never started - please upload the file again';

/** Why a QUEUED row's job cannot succeed however often it is published, or undefined when it can. */
function hopeless(row: OpsRow): string | undefined {
  if (row.uploadKey === null) return 'its upload row is gone';
  // the backend's fallback when S3 refused the file (message-contract.md §3.2): nothing to read
  if (!row.uploadKey.startsWith('uploads/')) return `its file never reached S3 (key ${row.uploadKey})`;
  if (row.uploadUserId !== row.userId) return "its upload belongs to another user than the prediction's";
  return undefined;
}

interface Published {
  predictionId: string;
  action: 'requeued' | 'failed' | 'skipped' | 'error';
  reason?: string;
  messageId?: string;
}

/**
 * Publishes the row's job exactly as the backend does (backend-message.ts, message-contract.md §3-4),
 * stamped now. The row is touched first, so that it counts as freshly published, and only while still QUEUED.
 */
async function publish(ctx: OpsContext, row: OpsRow): Promise<Published> {
  const { config } = ctx.settings;
  try {
    if (!(await touchQueued(ctx.clients.db, row.id))) {
      return { predictionId: row.id, action: 'skipped', reason: 'no longer QUEUED' };
    }
    const message = backendMessage({
      predictionId: row.id,
      uploadId: row.uploadId,
      userId: row.userId,
      bucket: config.bucket,
      key: row.uploadKey ?? '',
      publishedAt: ctx.now(),
    });
    const sent = await ctx.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: config.queueUrl, ...message }),
    );
    return { predictionId: row.id, action: 'requeued', messageId: sent.MessageId ?? '' };
  } catch (error) {
    return {
      predictionId: row.id,
      action: 'error',
      reason: `${describeError(error)}; still QUEUED: requeue it again`,
    };
  }
}

const render = (title: string, results: Published[], age: (id: string) => string) =>
  [
    title,
    table(
      ['PREDICTION', 'QUEUED FOR', 'ACTION'],
      results.map((r) => [
        r.predictionId,
        age(r.predictionId),
        r.reason ? `${r.action}: ${r.reason}` : r.action,
      ]),
    ),
  ]
    .filter(Boolean)
    .join('\n');

/**
 * `ops requeue <id>…`: for rows left QUEUED without a message. A row that does have one gets a duplicate, which
 * the worker absorbs (one claim wins; the other copy is dropped). Every id is checked before anything is sent.
 */
export async function requeue(ctx: OpsContext, ids: string[]): Promise<Outcome> {
  const rows = await rowsById(ctx.clients.db, ids);
  const refusals = ids.flatMap((id) => {
    const row = rows.get(id);
    if (!row) return [`${id}: unknown prediction (no such row)`];
    if (row.status !== 'QUEUED') {
      return [
        `${id}: is ${row.status}; only QUEUED rows are requeued${row.status === 'FAILED' ? ' (a dead-lettered job: dlq redrive)' : ''}`,
      ];
    }
    const why = hopeless(row);
    return why ? [`${id}: cannot succeed, ${why}; the user must upload again (sweep --fail)`] : [];
  });
  if (refusals.length > 0) throw new BadInput(`requeue refused, nothing sent: ${refusals.join('; ')}`);
  const now = ctx.now();
  const results: Published[] = [];
  for (const id of ids) results.push(await publish(ctx, rows.get(id) as OpsRow));
  const age = (id: string) =>
    formatDuration((now.getTime() - (rows.get(id)?.updatedAt.getTime() ?? now.getTime())) / 1000);
  const failed = results.some((r) => r.action !== 'requeued');
  return { exitCode: failed ? 1 : 0, json: { results }, text: render('Requeue:', results, age) };
}

export interface SweepOptions {
  olderThanSeconds: number;
  action: 'requeue' | 'fail' | undefined;
}

/**
 * `ops sweep --older-than <d> [--requeue | --fail]`: every QUEUED row older than <d> whose job has no message
 * (see orphans.ts for how that is decided, and its limits). Without an action it only lists them.
 */
export async function sweep(ctx: OpsContext, options: SweepOptions): Promise<Outcome> {
  const now = ctx.now();
  const main = await mainQueue(ctx);
  const rows = await queuedSince(ctx.clients.db, options.olderThanSeconds);
  const { orphaned, undecided } = splitOrphans(rows, main.evidence);
  const results: Published[] = [];
  for (const row of orphaned) {
    const why = hopeless(row);
    if (options.action === undefined) {
      results.push({
        predictionId: row.id,
        action: 'skipped',
        reason: why ? `no message; cannot succeed, ${why}` : 'no message',
      });
    } else if (options.action === 'fail') {
      const failed = await failQueued(
        ctx.clients.db,
        row.id,
        options.olderThanSeconds,
        NEVER_STARTED_MESSAGE,
      );
      results.push(
        failed
          ? { predictionId: row.id, action: 'failed' }
          : { predictionId: row.id, action: 'skipped', reason: 'changed meanwhile' },
      );
    } else if (why) {
      results.push({ predictionId: row.id, action: 'skipped', reason: `cannot succeed, ${why}; use --fail` });
    } else {
      results.push(await publish(ctx, row));
    }
  }
  for (const row of undecided) {
    results.push({
      predictionId: row.id,
      action: 'skipped',
      reason: `undecided: ${describeEvidence(main.evidence)}`,
    });
  }
  const since = new Map(rows.map((r) => [r.id, r.updatedAt]));
  const age = (id: string) =>
    formatDuration((now.getTime() - (since.get(id)?.getTime() ?? now.getTime())) / 1000);
  const done = options.action === 'fail' ? 'failed' : 'requeued';
  const problems = results.filter((r) => options.action === undefined || r.action !== done).length;
  const title =
    results.length === 0
      ? `No QUEUED row older than ${formatDuration(options.olderThanSeconds)} lacks a message.`
      : `QUEUED rows older than ${formatDuration(options.olderThanSeconds)} (${describeEvidence(main.evidence)}):`;
  return {
    exitCode: problems > 0 ? 1 : 0,
    json: {
      olderThanSeconds: options.olderThanSeconds,
      messageEvidence: describeEvidence(main.evidence),
      results,
    },
    text: render(title, results, age),
  };
}
