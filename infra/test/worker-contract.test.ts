// The one place infra and worker meet: the task definition's environment and secrets (contracts.md §D) against
// what worker/src/config.ts declares and accepts.
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, WORKER_ENV_VARS } from '../../worker/src/config.js';
import { parseConfig, type StackConfig } from '../config.js';
import { workerEnvironment } from '../worker-settings.js';
import { workerContainer, type Container } from './support/ecs.js';
import { deployStack, engineConfig, MINIMAL_CONFIG } from './support/program.js';

/** Set only by ECS or only outside AWS: the task definition must not set them. */
const NOT_FROM_THE_TASK_DEFINITION = ['ECS_AGENT_URI', 'AWS_ENDPOINT_URL'];

describe('worker environment contract', () => {
  let container: Container;
  beforeAll(async () => {
    container = workerContainer(
      await deployStack({ visibilityTimeoutSeconds: '600', maxReceiveCount: '5', workerConcurrency: '3' }),
    );
  });

  it('sets only variables the worker reads, and none of its secrets as plain values', () => {
    const known = new Map(WORKER_ENV_VARS.map((v) => [v.name as string, v]));
    for (const { name } of container.environment) {
      expect(known.has(name), `${name} is not read by the worker`).toBe(true);
      expect(known.get(name)?.secret, `${name} is a secret`).toBe(false);
      expect(NOT_FROM_THE_TASK_DEFINITION).not.toContain(name);
    }
  });

  it('injects every secret the worker declares from Secrets Manager', () => {
    const secrets = WORKER_ENV_VARS.filter((v) => v.secret).map((v) => v.name as string);
    expect(container.secrets.map((s) => s.name).sort()).toEqual(secrets.sort());
  });

  it('provides every required variable', () => {
    const provided = [...container.environment.map((e) => e.name), ...container.secrets.map((s) => s.name)];
    for (const v of WORKER_ENV_VARS.filter((x) => x.required)) expect(provided).toContain(v.name);
  });

  it('is accepted by the worker, with the queue and service settings the stack configured', () => {
    const env = Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
    const config = loadConfig({
      ...env,
      DATABASE_URL: 'postgresql://worker:secret@db.internal:5432/retainwise',
    });
    expect(config).toMatchObject({
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/prod-retainwise-predictions-queue',
      dlqUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/prod-retainwise-predictions-dlq',
      bucket: 'retainwise-uploads-123456789012',
      region: 'us-east-1',
      environment: 'prod',
      concurrency: 3,
      waitTimeSeconds: 20,
      visibilityTimeoutSeconds: 600,
      maxReceiveCount: 5,
      messageMaxAgeSeconds: 345_600,
      shutdownTimeoutSeconds: 90,
      metricsNamespace: 'RetainWise/Worker',
    });
    expect(config.endpoint).toBeUndefined();
  });
});

/** Whole numbers around every bound either side has today, and each value of the worker's enumerations. */
const PROBES: Record<string, string[]> = {
  ...Object.fromEntries(
    [
      'workerConcurrency',
      'heartbeatIntervalSeconds',
      'jobTimeoutSeconds',
      'shutdownTimeoutSeconds',
      'databasePoolSize',
      'visibilityTimeoutSeconds',
      'receiveWaitTimeSeconds',
      'maxReceiveCount',
      'messageRetentionSeconds',
    ].map((key) => [
      key,
      [0, 1, 2, 4, 5, 9, 10, 11, 12, 16, 17, 19, 20, 21, 59, 60, 61, 110, 111, 1000, 1001, 3600, 3601]
        .concat([43_200, 43_201, 345_600, 1_209_599, 1_209_600, 1_209_601])
        .map(String),
    ]),
  ),
  logLevel: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent', 'verbose'],
  databaseSsl: ['verify-full', 'require', 'disable', 'prefer'],
  environment: ['a', 'staging-2', 'x'.repeat(20), 'x'.repeat(21)],
};

describe('every value the stack accepts for a worker setting, the worker accepts', () => {
  const accepted = (settings: Record<string, string>): StackConfig | undefined => {
    try {
      return parseConfig(engineConfig({ ...MINIMAL_CONFIG, ...settings }), {
        project: 'retainwise',
        stack: 'prod',
      });
    } catch {
      return undefined;
    }
  };
  it.each(Object.entries(PROBES))('probes %s with values the stack accepts', (key, values) => {
    expect(values.some((value) => accepted({ [key]: value }))).toBe(true);
  });

  const cases = Object.entries(PROBES).flatMap(([key, values]) => values.map((value) => [key, value]));

  it.each(cases)('%s = %s', (key, value) => {
    // Settings that only make sense together move along, so the value itself decides.
    const companions: Record<string, string> =
      key === 'messageRetentionSeconds' ? { dlqMessageRetentionSeconds: '1209600' } : {};
    const config = accepted({ ...companions, [key]: value });
    if (!config) return;
    const environment = workerEnvironment({
      queueUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/q',
      dlqUrl: 'https://sqs.us-east-1.amazonaws.com/123456789012/dlq',
      bucketName: 'retainwise-uploads-123456789012',
      region: config.region,
      environment: config.environment,
      queue: config.queues,
      worker: config.worker,
    }) as Record<string, string>;
    expect(() =>
      loadConfig({ ...environment, DATABASE_URL: 'postgresql://worker:secret@db.internal:5432/retainwise' }),
    ).not.toThrow();
  });
});
