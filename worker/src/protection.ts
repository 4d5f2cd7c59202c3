import { describeError } from './errors.js';
import type { Logger } from './logger.js';

/**
 * ECS task scale-in protection while jobs run: a scale-in (queue drained) or a deployment must not stop a task in
 * the middle of an hour-long job. Uses the container agent endpoint, `PUT ${ECS_AGENT_URI}/task-protection/v1/state`
 * with `{"ProtectionEnabled": bool, "ExpiresInMinutes": n}` (ECS developer guide, "Task scale-in protection
 * endpoint"); the task role needs `ecs:UpdateTaskProtection`. Outside ECS (no ECS_AGENT_URI) it does nothing.
 *
 * Protection is a courtesy, never a reason to fail a job: errors are logged and the job carries on.
 */
export interface TaskProtection {
  setBusy(busy: boolean): void;
  /** waits for the last request (so an exiting task leaves itself unprotected) */
  settle(): Promise<void>;
}

const RENEW_AFTER_MS = 60_000;

export function createTaskProtection(options: {
  agentUri: string | undefined;
  /** how long one enable lasts: a job's time limit plus the shutdown drain, so a hung job cannot pin the task */
  expiresInMinutes: number;
  logger: Logger;
  fetch?: typeof fetch;
}): TaskProtection {
  const { agentUri, logger } = options;
  if (!agentUri) return { setBusy: () => undefined, settle: () => Promise.resolve() };
  const doFetch = options.fetch ?? fetch;
  const expiresInMinutes = Math.min(2880, Math.max(1, Math.ceil(options.expiresInMinutes)));
  let chain = Promise.resolve();
  // when the last enable was requested; requests are chained, so this is set before the request completes
  let enabledAt = 0;

  async function put(enabled: boolean): Promise<void> {
    const body = enabled
      ? { ProtectionEnabled: true, ExpiresInMinutes: expiresInMinutes }
      : { ProtectionEnabled: false };
    try {
      const response = await doFetch(`${agentUri}/task-protection/v1/state`, {
        method: 'PUT',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(5000),
      });
      const payload = (await response.json().catch(() => ({}))) as {
        protection?: unknown;
        failure?: unknown;
        error?: unknown;
      };
      if (!response.ok || payload.protection === undefined) {
        logger.warn(
          { status: response.status, failure: payload.failure ?? payload.error },
          'task protection refused',
        );
        return;
      }
      logger.debug(
        { enabled, expires_in_minutes: enabled ? expiresInMinutes : undefined },
        'task protection set',
      );
    } catch (error) {
      if (enabled) enabledAt = 0;
      logger.warn({ err: describeError(error) }, 'task protection request failed');
    }
  }

  return {
    setBusy(busy) {
      // Requests are serialised so an enable and the following disable can never arrive out of order.
      if (busy && enabledAt !== 0 && Date.now() - enabledAt < RENEW_AFTER_MS) return;
      enabledAt = busy ? Date.now() : 0;
      chain = chain.then(() => put(busy));
    },
    settle: () => chain,
  };
}
