import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { createTaskProtection } from '../../src/protection.js';

/**
 * Task scale-in protection against a stand-in for the ECS container agent (the one piece of AWS that cannot run
 * here), answering like the agent: `{"protection": {...}}` on success, `{"failure": {...}}` otherwise.
 */

const requests: { method?: string; url?: string; body: unknown }[] = [];
let refuse = false;
let agent: Server;
let agentUri: string;
const logger = createLogger({ level: 'silent', environment: 'test', pretty: false });

async function body(request: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return JSON.parse(text) as unknown;
}

beforeAll(async () => {
  agent = createServer((request, response) => {
    void body(request).then((parsed) => {
      requests.push({ method: request.method, url: request.url, body: parsed });
      response.setHeader('content-type', 'application/json');
      if (refuse) {
        response.statusCode = 400;
        response.end(JSON.stringify({ failure: { Reason: 'TASK_NOT_VALID' } }));
      } else {
        response.end(
          JSON.stringify({
            protection: { ProtectionEnabled: (parsed as { ProtectionEnabled: boolean }).ProtectionEnabled },
          }),
        );
      }
    });
  });
  await new Promise<void>((resolve) => agent.listen(0, '127.0.0.1', resolve));
  agentUri = `http://127.0.0.1:${(agent.address() as AddressInfo).port}/api/task-1`;
});
afterAll(() => new Promise<void>((resolve) => agent.close(() => resolve())));
beforeEach(() => {
  requests.length = 0;
  refuse = false;
});

it('protects the task while a job runs and releases it when idle', async () => {
  const protection = createTaskProtection({ agentUri, expiresInMinutes: 62.5, logger });
  protection.setBusy(true);
  protection.setBusy(true); // a second job within a minute does not re-send
  protection.setBusy(false);
  await protection.settle();
  expect(requests).toEqual([
    {
      method: 'PUT',
      url: '/api/task-1/task-protection/v1/state',
      body: { ProtectionEnabled: true, ExpiresInMinutes: 63 },
    },
    { method: 'PUT', url: '/api/task-1/task-protection/v1/state', body: { ProtectionEnabled: false } },
  ]);
});

it('never fails a job because protection was refused or unreachable', async () => {
  refuse = true;
  const refused = createTaskProtection({ agentUri, expiresInMinutes: 10, logger });
  refused.setBusy(true);
  await expect(refused.settle()).resolves.toBeUndefined();
  const unreachable = createTaskProtection({ agentUri: 'http://127.0.0.1:1', expiresInMinutes: 10, logger });
  unreachable.setBusy(true);
  await expect(unreachable.settle()).resolves.toBeUndefined();
});

it('does nothing outside ECS', async () => {
  const none = createTaskProtection({ agentUri: undefined, expiresInMinutes: 10, logger });
  none.setBusy(true);
  await none.settle();
  expect(requests).toEqual([]);
});
