import type { LocalStack } from '../../local/stack.js';
import type { Container } from '../../../infra/test/support/ecs.js';
import type { startTask } from './task-sandbox.js';

// What production-layout.test.ts checks on a container started from the replayed image under the task definition.

/** The variables that address AWS or the database: there is no AWS here, so they name the local stack's. */
const LOCAL_STACK_VARIABLES = [
  'PREDICTIONS_QUEUE_URL',
  'PREDICTIONS_DLQ_URL',
  'S3_BUCKET',
  'DATABASE_SSL',
  'AWS_ENDPOINT_URL',
] as const;

/** The container's registered environment and secrets, with what addresses AWS pointed at the local stack. */
export function taskEnvironment(container: Container, stack: LocalStack): Record<string, string> {
  const local = stack.workerEnv();
  const localValue = (name: string): string => {
    const value = local[name];
    if (value === undefined) throw new Error(`the local stack has no value for ${name}`);
    return value;
  };
  return {
    ...Object.fromEntries(container.environment.map(({ name, value }) => [name, value])),
    ...Object.fromEntries(container.secrets.map(({ name }) => [name, localValue(name)])),
    ...Object.fromEntries(LOCAL_STACK_VARIABLES.map((name) => [name, localValue(name)])),
  };
}

/**
 * The warnings and errors in a container's output: the worker's (pino JSON, level 40 and up) and
 * onnxruntime's (`[W:onnxruntime…`). Node.js's own process warnings are left out: they concern the Node.js
 * running the tests, which stands in for the image's.
 */
export function loggedProblems(output: string): string[] {
  return output.split('\n').filter((line) => {
    if (/\[[WEF]:onnxruntime/.test(line)) return true;
    try {
      const entry = JSON.parse(line) as { level?: unknown } | null;
      return typeof entry?.level === 'number' && entry.level >= 40;
    } catch {
      return false; // not a log entry
    }
  });
}

/**
 * Runs the container's health check as ECS does until it passes, for as long as ECS would wait (the start
 * period, in which failures do not count, then `retries` checks `interval` apart) or until the container exits.
 * Checks every second rather than every `interval`, so a passing check is seen early.
 */
export async function untilHealthy(
  container: Container,
  task: Awaited<ReturnType<typeof startTask>>,
): Promise<{ code: number | null; output: string }> {
  const { command, startPeriod = 0, retries = 3, interval = 30 } = container.healthCheck;
  const deadline = Date.now() + (startPeriod + retries * interval) * 1000;
  let exited = false;
  void task.exited.then(() => (exited = true));
  for (;;) {
    const result = await task.exec(command);
    if (result.code === 0 || exited || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}
