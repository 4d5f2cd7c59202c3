import { mismatchReason } from '../job.js';
import { parseJobMessage, type ParseResult } from '../message.js';
import type { OpsContext } from './context.js';
import type { DeadLetter } from './queues.js';
import { rowsById, type OpsRow } from './rows.js';

/**
 * Whether a dead letter could succeed if it went back: the worker's own checks of the message and of the rows it
 * names (worker/src/message.ts, job.ts), and the row's status. Only a row that is not COMPLETED is ever set back.
 */
export type Verdict = 'redrive' | 'rejected' | 'invalid' | 'missing' | 'completed';

export interface JudgedLetter {
  letter: DeadLetter;
  predictionId: string | undefined;
  row: OpsRow | undefined;
  verdict: Verdict;
  /** why it cannot succeed (empty for `redrive`) */
  reason: string;
}

export async function judge(ctx: OpsContext, letters: DeadLetter[]): Promise<JudgedLetter[]> {
  const { config } = ctx.settings;
  const rules = { bucket: config.bucket, maxAgeSeconds: config.messageMaxAgeSeconds, now: ctx.now() };
  const parsed = letters.map((letter) =>
    parseJobMessage({ Body: letter.body, MessageAttributes: letter.attributes }, rules),
  );
  // an invalid message still names its row when the id is a UUID: the only row it could concern
  const ids = parsed.map((p) => (p.ok ? p.job.predictionId : p.predictionId));
  const rows = await rowsById(ctx.clients.db, [...new Set(ids.filter((id) => id !== undefined))]);
  return letters.map((letter, i) => {
    const result = parsed[i] as ParseResult;
    const predictionId = ids[i];
    const row = predictionId === undefined ? undefined : rows.get(predictionId);
    const judged = (verdict: Verdict, reason = ''): JudgedLetter => ({
      letter,
      predictionId,
      row,
      verdict,
      reason,
    });
    if (letter.rejectionReason !== undefined) {
      return judged('rejected', `rejected as invalid: ${letter.rejectionReason}`);
    }
    if (!result.ok) {
      return judged(
        'invalid',
        `invalid: ${result.issues.map((issue) => `${issue.field} ${issue.reason}`).join('; ')}`,
      );
    }
    if (!row) return judged('missing', 'no such prediction row');
    if (row.status === 'COMPLETED') return judged('completed', 'already COMPLETED');
    const mismatch = mismatchReason(result.job, row);
    return mismatch ? judged('invalid', `invalid: ${mismatch}`) : judged('redrive');
  });
}
