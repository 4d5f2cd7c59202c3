import { runOps } from '../../src/ops/main.js';
import type { LocalStack } from '../../local/stack.js';

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
