import type { LocalStack } from '../../local/stack.js';
import { runOps } from '../../src/ops/main.js';
import { telcoCsv, waitFor, type StackContext } from './harness.js';

export interface OpsRun {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as JSON (for --json runs) */
  json<T = Record<string, unknown>>(): T;
}

/**
 * `npm run ops -- <argv>` in this process, pointed at the stack as the runbook says: the lines `npm start -s --
 * --serve` prints, with DATABASE_URL the operator's role of docs/database-roles.sql.
 */
export async function ops(stack: LocalStack, ...argv: string[]): Promise<OpsRun> {
  let stdout = '';
  let stderr = '';
  const code = await runOps(argv, {
    env: { ...stack.serveEnv(), DATABASE_URL: stack.operatorDatabaseUrl },
    stdout: (text) => (stdout += text),
    stderr: (text) => (stderr += text),
  });
  return { code, stdout, stderr, json: <T>() => JSON.parse(stdout) as T };
}

/** A job the backend inserted `minutes` ago whose message it never sent (its PREDICTIONS_QUEUE_URL was empty). */
export async function orphan(context: StackContext, minutes: number): Promise<string> {
  const job = await context.submitJob({ csv: telcoCsv(10), withoutMessage: true });
  await context.stack.db.query(
    `UPDATE predictions SET created_at = now() - make_interval(mins => $2), updated_at = now() - make_interval(mins => $2)
      WHERE id = $1`,
    [job.predictionId, minutes],
  );
  return job.predictionId;
}

/** What `ops status --json` reports, as far as the tests read it. */
export interface StatusJson {
  dlq: { visible: number; inFlight: number };
  queue: { visible: number; inFlight: number; delayed: number; oldestMessageAgeUnknown: string };
  service: null;
  serviceUnknown: string;
  predictions: {
    byStatus: Record<string, number>;
    queuedWithoutMessage: { id: string }[];
    runningTooLong: { id: string }[];
  };
  problems: string[];
}

/** until the worker has deleted the message of the job it finished last (just after the row's commit) */
export async function drained(stack: LocalStack): Promise<void> {
  await waitFor(async () => {
    const { queue } = (await ops(stack, 'status', '--json')).json<StatusJson>();
    return queue.visible + queue.inFlight + queue.delayed === 0;
  });
}
