import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SQSClient } from '@aws-sdk/client-sqs';
import type pg from 'pg';
import { sqsDeadline } from '../deadlines.js';
import { describeError } from '../errors.js';
import { createPool, endPool } from '../store.js';
import { awsClientConfig } from '../worker.js';
import type { OpsSettings } from './settings.js';

/** The clients one ops command uses, built as the worker builds its own (same deadlines, same endpoint rule). */
export interface OpsClients {
  sqs: SQSClient;
  db: pg.Pool;
  /** AWS only: neither exists on the local stack */
  cloudwatch: CloudWatchClient | undefined;
  ecs: ECSClient | undefined;
  close(): Promise<void>;
}

export function createClients({ config }: OpsSettings): OpsClients {
  // Short waits: an operator's receive must come back promptly, not long-poll like the worker.
  const aws = awsClientConfig(config, sqsDeadline({ ...config, waitTimeSeconds: 1 }));
  const sqs = new SQSClient(aws);
  const db = createPool({ ...config.database, poolSize: 2 }, (error) =>
    process.stderr.write(`ops: database connection lost: ${describeError(error)}\n`),
  );
  const local = config.endpoint !== undefined;
  const cloudwatch = local ? undefined : new CloudWatchClient(aws);
  const ecs = local ? undefined : new ECSClient(aws);
  return {
    sqs,
    db,
    cloudwatch,
    ecs,
    async close() {
      sqs.destroy();
      cloudwatch?.destroy();
      ecs?.destroy();
      await endPool(db).catch(() => undefined);
    },
  };
}
