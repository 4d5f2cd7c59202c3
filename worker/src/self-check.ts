import { GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import type { Config } from './config.js';
import { describeError } from './errors.js';
import { sqsDeadline } from './deadlines.js';
import { createLiveness } from './health.js';
import { loadModel } from './scoring/index.js';
import { createPool, endPool } from './store.js';
import { awsClientConfig } from './worker.js';

/**
 * `main.js --self-check`: everything a task needs before its first job, checked once with the task's own
 * configuration, role and network, and nothing consumed. The deploy workflow runs it as a one-off ECS task of
 * each new task definition, because a service that is scaled to zero never starts one to prove it.
 */
export interface CheckResult {
  name: string;
  /** undefined when the check passed */
  problem: string | undefined;
}

export async function selfCheck(config: Config): Promise<CheckResult[]> {
  const sqs = new SQSClient(awsClientConfig(config, sqsDeadline({ ...config, waitTimeSeconds: 0 })));
  const pool = createPool(config.database, () => undefined);
  const queueAttributes = (url: string) =>
    sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const checks: [string, () => Promise<unknown>][] = [
    ['model', () => loadModel(config.modelDir)],
    // The columns and grants every job uses (database.md §7), without touching a row.
    [
      'database',
      () =>
        pool
          .query('SELECT id, status FROM predictions LIMIT 0')
          .then(() => pool.query('SELECT id FROM uploads LIMIT 0')),
    ],
    ['queue', () => queueAttributes(config.queueUrl)],
    ['dead-letter queue', () => queueAttributes(config.dlqUrl)],
    // The health check's liveness file: a read-only root needs a writable scratch volume here.
    ['scratch space', () => Promise.resolve().then(() => createLiveness(config.healthFile).alive(1000))],
  ];
  try {
    const results: CheckResult[] = [];
    for (const [name, run] of checks) {
      const problem = await run().then(
        () => undefined,
        (error: unknown) => describeError(error),
      );
      results.push({ name, problem });
    }
    return results;
  } finally {
    sqs.destroy();
    await endPool(pool).catch(() => undefined);
  }
}
