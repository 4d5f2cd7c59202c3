import { mismatchReason } from '../job.js';
import { parseJobMessage } from '../message.js';
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

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function namedPrediction(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { prediction_id?: unknown }).prediction_id;
    return typeof id === 'string' && UUID.test(id) ? id.toLowerCase() : undefined;
  } catch {
    return undefined;
  }
}

export async function judge(ctx: OpsContext, letters: DeadLetter[]): Promise<JudgedLetter[]> {
  const { config } = ctx.settings;
  const ids = letters.map((l) => namedPrediction(l.body)).filter((id): id is string => id !== undefined);
  const rows = await rowsById(ctx.clients.db, [...new Set(ids)]);
  return letters.map((letter) => {
    const predictionId = namedPrediction(letter.body);
    const row = predictionId === undefined ? undefined : rows.get(predictionId);
    const judged = (verdict: Verdict, reason = ''): JudgedLetter => ({
      letter,
      predictionId,
      row,
      verdict,
      reason,
    });
    if (letter.rejectionReason !== undefined)
      return judged('rejected', `rejected as invalid: ${letter.rejectionReason}`);
    const parsed = parseJobMessage(
      { Body: letter.body, MessageAttributes: letter.attributes },
      { bucket: config.bucket, maxAgeSeconds: config.messageMaxAgeSeconds, now: ctx.now() },
    );
    if (!parsed.ok) {
      return judged('invalid', `invalid: ${parsed.issues.map((i) => `${i.field} ${i.reason}`).join('; ')}`);
    }
    if (!row) return judged('missing', 'no such prediction row');
    if (row.status === 'COMPLETED') return judged('completed', 'already COMPLETED');
    const mismatch = mismatchReason(parsed.job, row);
    return mismatch ? judged('invalid', `invalid: ${mismatch}`) : judged('redrive');
  });
}
