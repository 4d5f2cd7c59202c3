import { BadInput } from '../cli/command.js';
import { describeError } from '../errors.js';
import type { PredictionStatus } from '../store.js';
import type { OpsContext, Outcome } from './context.js';
import { judge, type JudgedLetter } from './dead-letters.js';
import { formatDuration } from './duration.js';
import {
  moveBack,
  queueDepth,
  receiveDeadLetters,
  releaseDeadLetters,
  startMoveTask,
  type MoveTask,
} from './queues.js';
import { requeueRow } from './rows.js';
import { table } from './table.js';

/** how long `dlq list` keeps the letters it looks at from others: the time to read them all */
const LIST_HOLD_SECONDS = 30;
/** how long a redrive keeps them: the time to set their rows back and move them */
const REDRIVE_HOLD_SECONDS = 120;

const heldNote = (held: number) =>
  held > 0
    ? `${held} more dead letter(s) are held in flight by another consumer (the worker's DLQ sweeper hides each one it looks at for 5 minutes) and cannot be seen now; run this again in a few minutes`
    : undefined;

function letterJson(j: JudgedLetter, now: Date) {
  return {
    predictionId: j.predictionId ?? null,
    messageId: j.letter.messageId,
    receiveCount: j.letter.receiveCount,
    rejectionReason: j.letter.rejectionReason ?? null,
    ageSeconds: j.letter.sentAt ? Math.round((now.getTime() - j.letter.sentAt.getTime()) / 1000) : null,
    rowStatus: j.row?.status ?? null,
    redrivable: j.verdict === 'redrive',
    ...(j.reason ? { reason: j.reason } : {}),
  };
}

/** `ops dlq list`: every dead letter that can be seen, with its job's row; the letters stay where they are. */
export async function dlqList(ctx: OpsContext): Promise<Outcome> {
  const { sqs } = ctx.clients;
  const { dlqUrl } = ctx.settings.config;
  const letters = await receiveDeadLetters(sqs, dlqUrl, LIST_HOLD_SECONDS);
  try {
    const judged = await judge(ctx, letters);
    const held = (await queueDepth(sqs, dlqUrl)).inFlight - letters.length;
    const now = ctx.now();
    const rows = judged.map((j) => letterJson(j, now));
    const note = heldNote(held);
    const text = [
      rows.length === 0 ? 'No dead letters to see.' : `${rows.length} dead letter(s):`,
      table(
        ['PREDICTION', 'ROW', 'RECEIVES', 'AGE', 'REDRIVE'],
        rows.map((r) => [
          r.predictionId ?? '(none)',
          r.rowStatus ?? '(missing)',
          r.receiveCount,
          r.ageSeconds === null ? '?' : formatDuration(r.ageSeconds),
          r.redrivable ? 'yes' : `no: ${r.reason}`,
        ]),
      ),
      ...(note ? [note] : []),
    ].filter(Boolean);
    return {
      exitCode: rows.length > 0 || held > 0 ? 1 : 0,
      json: { deadLetters: rows, heldElsewhere: Math.max(0, held) },
      text: text.join('\n'),
    };
  } finally {
    await releaseDeadLetters(sqs, dlqUrl, letters);
  }
}

interface RedriveResult {
  predictionId: string | null;
  messageId: string;
  rowStatus: PredictionStatus | null;
  action: 'moved' | 'would move' | 'moved by the move task' | 'not moved' | 'failed';
  reason?: string;
  newMessageId?: string;
}

/** Per message: the row back to QUEUED first (a message arriving before that would be skipped), then the move. */
async function moveOneByOne(ctx: OpsContext, letters: JudgedLetter[]): Promise<RedriveResult[]> {
  const { config } = ctx.settings;
  const results: RedriveResult[] = [];
  for (const j of letters) {
    const base = {
      predictionId: j.predictionId ?? null,
      messageId: j.letter.messageId,
      rowStatus: j.row?.status ?? null,
    };
    try {
      const previous = await requeueRow(ctx.clients.db, j.predictionId ?? '');
      if (previous === undefined) {
        await releaseDeadLetters(ctx.clients.sqs, config.dlqUrl, [j.letter]);
        results.push({
          ...base,
          action: 'not moved',
          reason: 'the row became COMPLETED or was deleted meanwhile',
        });
        continue;
      }
      const newMessageId = await moveBack(ctx.clients.sqs, config, j.letter);
      results.push({ ...base, action: 'moved', newMessageId });
    } catch (error) {
      results.push({
        ...base,
        action: 'failed',
        reason: `${describeError(error)}; the message is still in the DLQ: run the redrive again`,
      });
    }
  }
  return results;
}

export interface RedriveOptions {
  all: boolean;
  ids: string[];
  dryRun: boolean;
}

/**
 * `ops dlq redrive`: dead letters back to the main queue, their rows back to QUEUED (never a COMPLETED one).
 * Letters that can never succeed are reported and stay. `--all` hands the moving to an SQS message move task
 * when every letter can go; otherwise, and for named jobs, each letter is moved by itself.
 */
export async function dlqRedrive(ctx: OpsContext, options: RedriveOptions): Promise<Outcome> {
  const { sqs } = ctx.clients;
  const { config } = ctx.settings;
  const letters = await receiveDeadLetters(sqs, config.dlqUrl, REDRIVE_HOLD_SECONDS);
  let released = false;
  const moved = new Set<string>();
  const release = async (which = letters) => {
    await releaseDeadLetters(sqs, config.dlqUrl, which);
  };
  try {
    const judged = await judge(ctx, letters);
    const held = Math.max(0, (await queueDepth(sqs, config.dlqUrl)).inFlight - letters.length);
    let chosen: JudgedLetter[];
    let reported: JudgedLetter[];
    const problems: string[] = [];
    if (options.all) {
      chosen = judged.filter((j) => j.verdict === 'redrive');
      reported = judged.filter((j) => j.verdict !== 'redrive');
      const note = heldNote(held);
      if (note) problems.push(note);
    } else {
      const refusals: string[] = [];
      chosen = [];
      for (const id of options.ids) {
        const named = judged.filter((j) => j.predictionId === id);
        if (named.length === 0) {
          if (held > 0)
            problems.push(`${id}: not among the dead letters that can be seen; ${heldNote(held) ?? ''}`);
          else refusals.push(`${id}: no dead letter names it`);
          continue;
        }
        const bad = named.find((j) => j.verdict !== 'redrive');
        if (bad)
          refusals.push(
            `${id}: ${bad.verdict === 'missing' ? 'unknown prediction (no such row)' : bad.reason}`,
          );
        else chosen.push(...named);
      }
      if (refusals.length > 0)
        throw new BadInput(`dlq redrive refused, nothing changed: ${refusals.join('; ')}`);
      reported = [];
    }

    const notMoved = (j: JudgedLetter): RedriveResult => ({
      predictionId: j.predictionId ?? null,
      messageId: j.letter.messageId,
      rowStatus: j.row?.status ?? null,
      action: 'not moved',
      reason: j.reason,
    });
    let results: RedriveResult[];
    let moveTask: MoveTask | undefined;
    let method: 'dry run' | 'move task' | 'one by one';
    if (options.dryRun || chosen.length === 0) {
      method = 'dry run';
      results = chosen.map((j) => ({ ...notMoved(j), action: 'would move', reason: undefined }));
    } else if (options.all && reported.length === 0) {
      ({ results, moveTask, method } = await redriveWithMoveTask(ctx, chosen, async () => {
        released = true;
        await release();
      }));
    } else {
      method = 'one by one';
      results = await moveOneByOne(ctx, chosen);
    }
    for (const r of results) if (r.action === 'moved') moved.add(r.messageId);
    results.push(...reported.map(notMoved));
    if (results.some((r) => r.action === 'failed')) problems.push('some moves failed: see above');
    if (reported.length > 0) {
      problems.push(`${reported.length} dead letter(s) can never succeed and stay in the DLQ (see dlq list)`);
    }

    const text = [
      results.length === 0
        ? 'Nothing to redrive.'
        : `Redrive (${method}${options.dryRun ? ', nothing changed' : ''}):`,
      table(
        ['PREDICTION', 'ROW WAS', 'ACTION'],
        results.map((r) => [
          r.predictionId ?? '(none)',
          r.rowStatus ?? '(missing)',
          r.reason ? `${r.action}: ${r.reason}` : r.action,
        ]),
      ),
      ...(moveTask
        ? [
            `Move task ${moveTask.taskHandle}: ${moveTask.status ?? 'started'}, ${moveTask.toMove ?? '?'} to move`,
          ]
        : []),
      ...problems,
    ].filter(Boolean);
    return {
      exitCode: problems.length > 0 ? 1 : 0,
      json: { method, results, ...(moveTask ? { moveTask } : {}), problems },
      text: text.join('\n'),
    };
  } finally {
    // What was not moved (a dry run's letters, those reported) is visible again at once; should that fail,
    // they reappear when their hold ends anyway.
    if (!released) await release(letters.filter((l) => !moved.has(l.messageId))).catch(() => undefined);
  }
}

/**
 * `--all` with nothing to hold back: rows first, then the letters are released and one SQS move task takes
 * them all. Should SQS refuse the task (an emulator without move tasks, a task already running), the letters are
 * received again and moved one by one, so a redrive never ends with rows QUEUED and their messages still dead.
 */
async function redriveWithMoveTask(
  ctx: OpsContext,
  chosen: JudgedLetter[],
  releaseAll: () => Promise<void>,
): Promise<{ results: RedriveResult[]; moveTask?: MoveTask; method: 'move task' | 'one by one' }> {
  const { sqs, db } = ctx.clients;
  const { config } = ctx.settings;
  const results: RedriveResult[] = [];
  for (const j of chosen) {
    const previous = await requeueRow(db, j.predictionId ?? '');
    results.push({
      predictionId: j.predictionId ?? null,
      messageId: j.letter.messageId,
      rowStatus: j.row?.status ?? null,
      action: 'moved by the move task',
      ...(previous === undefined
        ? { reason: 'the row became COMPLETED meanwhile; the worker will drop its message' }
        : {}),
    });
  }
  const [queue, dlq] = await Promise.all([queueDepth(sqs, config.queueUrl), queueDepth(sqs, config.dlqUrl)]);
  await releaseAll();
  try {
    const moveTask = await startMoveTask(sqs, { dlqArn: dlq.arn, queueArn: queue.arn });
    return { results, moveTask, method: 'move task' };
  } catch (error) {
    const again = await judge(ctx, await receiveDeadLetters(sqs, config.dlqUrl, REDRIVE_HOLD_SECONDS));
    const wanted = new Set(chosen.map((j) => j.letter.messageId));
    const moved = await moveOneByOne(
      ctx,
      again.filter((j) => wanted.has(j.letter.messageId)),
    );
    await releaseDeadLetters(
      sqs,
      config.dlqUrl,
      again.filter((j) => !wanted.has(j.letter.messageId)).map((j) => j.letter),
    );
    const note = `SQS refused the move task (${describeError(error)})`;
    // the rows are QUEUED by now: report the status each had before this redrive
    const before = new Map(results.map((r) => [r.messageId, r.rowStatus]));
    return {
      results: moved.map((r) => ({
        ...r,
        rowStatus: before.get(r.messageId) ?? r.rowStatus,
        reason: r.reason ?? note,
      })),
      method: 'one by one',
    };
  }
}
