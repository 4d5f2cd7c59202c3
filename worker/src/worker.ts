import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import type { Config } from './config.js';
import { createConsumer, type Consumer } from './consumer.js';
import { s3Deadline, sqsDeadline, type CallDeadline } from './deadlines.js';
import { abandonedAfterSeconds, createDeadLetterSweeper } from './dlq.js';
import { describeError } from './errors.js';
import { createLiveness } from './health.js';
import { createJobHandler, type JobObserver } from './job.js';
import { createLogger, type Logger } from './logger.js';
import { createMetrics } from './metrics.js';
import { createTaskProtection } from './protection.js';
import { createQueue, type Queue } from './queue.js';
import { loadModel } from './scoring/index.js';
import { createStorage } from './storage.js';
import { createPool, createStore } from './store.js';

/** The worker wired together: config -> clients -> job handler -> consumer. main.ts adds the process around it. */
export interface RunningWorker {
  readonly logger: Logger;
  readonly consumer: Consumer;
  /** stops receiving, drains or hands back jobs within SHUTDOWN_TIMEOUT_SECONDS, then closes every client */
  stop(): Promise<void>;
  /** cuts a running stop()'s drain short: unfinished jobs are handed back now */
  hurry(): void;
}

/** how often the database is checked for rows left RUNNING by jobs no attempt will finish (see dlq.ts) */
const DEAD_LETTER_SWEEP_INTERVAL_MS = 60_000;

export function awsClientConfig(config: Config, deadline: CallDeadline) {
  return {
    region: config.region,
    maxAttempts: 3,
    // A dead connection must fail a call, not hang the loop: the health check relies on the loop turning.
    requestHandler: new NodeHttpHandler({
      connectionTimeout: Math.min(5000, deadline.requestTimeoutMs),
      requestTimeout: deadline.requestTimeoutMs,
      throwOnRequestTimeout: true,
      socketTimeout: deadline.idleTimeoutMs,
    }),
    // Only ever set locally: in AWS the SDK resolves the regional endpoint itself (message-contract.md §2).
    ...(config.endpoint
      ? { endpoint: config.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }
      : {}),
  };
}

/** The worker's SQS and S3 clients, with its deadlines and its endpoint rule. */
export function workerClients(config: Config): { sqs: SQSClient; s3: S3Client } {
  return {
    sqs: new SQSClient(awsClientConfig(config, sqsDeadline(config))),
    s3: new S3Client({
      ...awsClientConfig(config, s3Deadline(config)),
      forcePathStyle: config.endpoint !== undefined,
    }),
  };
}

/** The job queue as the worker receives from it. */
export function workerQueue(sqs: SQSClient, config: Config): Queue {
  return createQueue(sqs, {
    queueUrl: config.queueUrl,
    dlqUrl: config.dlqUrl,
    waitTimeSeconds: config.waitTimeSeconds,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
  });
}

export async function startWorker(
  config: Config,
  options: { logger?: Logger; observer?: JobObserver } = {},
): Promise<RunningWorker> {
  const startedAt = performance.now();
  const logger = options.logger ?? createLogger({ level: config.logLevel, environment: config.environment });
  const { sqs, s3 } = workerClients(config);
  const pool = createPool(config.database, (error) =>
    logger.warn({ err: describeError(error) }, 'idle database connection lost'),
  );
  const store = createStore(pool);
  const queue = workerQueue(sqs, config);
  const model = await loadModel(config.modelDir);
  const metrics = createMetrics({
    namespace: config.metricsNamespace,
    environment: config.environment,
    enabled: config.environment !== 'local',
  });
  const protection = createTaskProtection({
    agentUri: config.ecsAgentUri,
    expiresInMinutes: (config.jobTimeoutSeconds + config.shutdownTimeoutSeconds) / 60 + 1,
    logger,
  });
  const liveness = createLiveness(config.healthFile);
  const consumer = createConsumer({
    queue,
    logger,
    concurrency: config.concurrency,
    waitTimeSeconds: config.waitTimeSeconds,
    visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
    heartbeatIntervalSeconds: config.heartbeatIntervalSeconds,
    jobTimeoutSeconds: config.jobTimeoutSeconds,
    onBusyChange: (busy) => protection.setBusy(busy),
    onAlive: (withinMs) => liveness.alive(withinMs),
    handler: createJobHandler({
      store,
      storage: createStorage(s3, config.bucket),
      queue,
      model,
      metrics,
      logger,
      observer: options.observer,
      settings: {
        bucket: config.bucket,
        messageMaxAgeSeconds: config.messageMaxAgeSeconds,
        maxReceiveCount: config.maxReceiveCount,
        visibilityTimeoutSeconds: config.visibilityTimeoutSeconds,
        retryBaseDelaySeconds: config.retryBaseDelaySeconds,
      },
    }),
  });
  consumer.start();
  const deadLetterSweeper = createDeadLetterSweeper({
    store,
    metrics,
    logger,
    abandonedAfterSeconds: abandonedAfterSeconds(config),
  });
  deadLetterSweeper.start(DEAD_LETTER_SWEEP_INTERVAL_MS);
  // Not awaited: a database that is down at start is a transient condition every job already handles; this only
  // makes a wrong password or host visible in the first second rather than at the first job.
  pool.query('SELECT 1').then(
    () => logger.debug('database reachable'),
    (error: unknown) => logger.error({ err: describeError(error) }, 'database not reachable at start'),
  );
  logger.info(
    {
      ready_ms: Math.round(performance.now() - startedAt),
      since_process_start_ms: Math.round(process.uptime() * 1000),
      concurrency: config.concurrency,
      queue_url: config.queueUrl,
    },
    'worker ready',
  );

  let stopping: Promise<void> | undefined;
  return {
    logger,
    consumer,
    stop() {
      stopping ??= (async () => {
        logger.info({ in_flight: consumer.inFlight }, 'worker stopping');
        deadLetterSweeper.stop();
        const { handedBack } = await consumer.stop(config.shutdownTimeoutSeconds * 1000);
        await protection.settle();
        await store.close().catch(() => undefined);
        sqs.destroy();
        s3.destroy();
        logger.info({ handed_back: handedBack }, 'worker stopped');
      })();
      return stopping;
    },
    hurry: () => consumer.hurry(),
  };
}
