import { describe, expect, it } from 'vitest';
import { BUNDLED_RDS_CA_FILE, ConfigError, loadConfig, WORKER_ENV_VARS } from '../../src/config.js';

const REQUIRED = {
  PREDICTIONS_QUEUE_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/prod-retainwise-predictions-queue',
  PREDICTIONS_DLQ_URL: 'https://sqs.us-east-1.amazonaws.com/123456789012/prod-retainwise-predictions-dlq',
  S3_BUCKET: 'retainwise-uploads-123456789012',
  DATABASE_URL: 'postgresql://retainwiseuser:s3cr3t@db.abc.us-east-1.rds.amazonaws.com:5432/retainwise',
};

function problems(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('worker configuration', () => {
  it('applies the contract defaults when only the required variables are set', () => {
    const config = loadConfig(REQUIRED);
    expect(config).toMatchObject({
      region: 'us-east-1',
      environment: 'local',
      concurrency: 2,
      waitTimeSeconds: 20,
      visibilityTimeoutSeconds: 300,
      heartbeatIntervalSeconds: 60,
      maxReceiveCount: 3,
      messageMaxAgeSeconds: 345_600,
      jobTimeoutSeconds: 3600,
      shutdownTimeoutSeconds: 90,
      requestTimeoutSeconds: 30,
      logLevel: 'info',
      metricsNamespace: 'RetainWise/Worker',
      endpoint: undefined,
      ecsAgentUri: undefined,
    });
    expect(config.database).toMatchObject({
      host: 'db.abc.us-east-1.rds.amazonaws.com',
      port: 5432,
      user: 'retainwiseuser',
      password: 's3cr3t',
      database: 'retainwise',
      ssl: 'verify-full',
      caFile: BUNDLED_RDS_CA_FILE,
      poolSize: 3,
      timeoutMs: 30_000,
    });
  });

  it('lists every missing required variable in one error', () => {
    expect(problems({})).toEqual([
      'PREDICTIONS_QUEUE_URL: required but not set',
      'PREDICTIONS_DLQ_URL: required but not set',
      'S3_BUCKET: required but not set',
      'DATABASE_URL: required but not set',
    ]);
  });

  it('treats an empty variable as unset', () => {
    expect(problems({ ...REQUIRED, S3_BUCKET: '  ' })).toEqual(['S3_BUCKET: required but not set']);
    expect(loadConfig({ ...REQUIRED, WORKER_CONCURRENCY: '' }).concurrency).toBe(2);
  });

  it('reports every malformed value at once, naming the variable', () => {
    const found = problems({
      ...REQUIRED,
      WORKER_CONCURRENCY: 'two',
      SQS_WAIT_TIME_SECONDS: '25',
      DATABASE_SSL: 'prefer',
      AWS_REGION: 'Virginia',
      PREDICTIONS_QUEUE_URL: 'prod-retainwise-predictions-queue',
    });
    expect(found.map((p) => p.split(':')[0]).sort()).toEqual([
      'AWS_REGION',
      'DATABASE_SSL',
      'PREDICTIONS_QUEUE_URL',
      'SQS_WAIT_TIME_SECONDS',
      'WORKER_CONCURRENCY',
    ]);
    expect(found).toContain('SQS_WAIT_TIME_SECONDS: must be between 0 and 20');
  });

  it('never echoes the database password in an error', () => {
    const found = problems({ ...REQUIRED, DATABASE_URL: 'mysql://user:hunter2@host/db' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/^DATABASE_URL: must be postgresql:/);
    expect(found.join()).not.toContain('hunter2');
  });

  it.each([
    ['postgresql://u:p@h:5432/d', 5432],
    ['postgres://u:p@h/d', 5432],
    ['postgresql+asyncpg://u:p@h:6543/d', 6543],
    ['postgres+psycopg2://u:p@h:5433/d', 5433],
  ])('accepts %s', (url, port) => {
    expect(loadConfig({ ...REQUIRED, DATABASE_URL: url }).database).toMatchObject({
      host: 'h',
      port,
      user: 'u',
      password: 'p',
      database: 'd',
    });
  });

  it('decodes a percent-encoded password and keeps an unencoded @ in it', () => {
    expect(loadConfig({ ...REQUIRED, DATABASE_URL: 'postgresql://u:a%2Fb@h/d' }).database.password).toBe(
      'a/b',
    );
    expect(loadConfig({ ...REQUIRED, DATABASE_URL: 'postgresql://u:p@ss@h/d' }).database).toMatchObject({
      host: 'h',
      password: 'p@ss',
    });
  });

  it('requires the heartbeat to be shorter than the visibility timeout', () => {
    expect(
      problems({ ...REQUIRED, SQS_VISIBILITY_TIMEOUT_SECONDS: '60', HEARTBEAT_INTERVAL_SECONDS: '60' }),
    ).toEqual([
      'HEARTBEAT_INTERVAL_SECONDS: must be shorter than the visibility timeout (60 s), or messages reappear mid-job',
    ]);
  });

  it('checks across variables even while another variable is malformed', () => {
    const found = problems({
      ...REQUIRED,
      WORKER_CONCURRENCY: 'two',
      SQS_VISIBILITY_TIMEOUT_SECONDS: '60',
      HEARTBEAT_INTERVAL_SECONDS: '60',
    });
    expect(found.map((p) => p.split(':')[0])).toEqual(['WORKER_CONCURRENCY', 'HEARTBEAT_INTERVAL_SECONDS']);
  });

  it('reports a check across variables on the one that was set, naming no variable that was not', () => {
    const found = problems({ ...REQUIRED, SQS_VISIBILITY_TIMEOUT_SECONDS: '30' });
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(
      /^SQS_VISIBILITY_TIMEOUT_SECONDS: must be longer than the heartbeat interval \(60 s\)/,
    );
    expect(found[0]).not.toContain('HEARTBEAT_INTERVAL_SECONDS');
  });

  it('checks the CA bundle is readable unless TLS is disabled', () => {
    expect(problems({ ...REQUIRED, DATABASE_CA_FILE: '/nonexistent/ca.pem' })).toEqual([
      'DATABASE_CA_FILE: cannot read /nonexistent/ca.pem',
    ]);
    expect(
      loadConfig({ ...REQUIRED, DATABASE_SSL: 'disable', DATABASE_CA_FILE: '/nonexistent/ca.pem' }).database
        .ssl,
    ).toBe('disable');
  });

  it('exports the variable list for the task-definition check', () => {
    const byName = Object.fromEntries(WORKER_ENV_VARS.map((v) => [v.name, v]));
    expect(WORKER_ENV_VARS.filter((v) => v.required).map((v) => v.name)).toEqual([
      'PREDICTIONS_QUEUE_URL',
      'PREDICTIONS_DLQ_URL',
      'S3_BUCKET',
      'DATABASE_URL',
    ]);
    expect(WORKER_ENV_VARS.filter((v) => v.secret).map((v) => v.name)).toEqual(['DATABASE_URL']);
    for (const name of [
      'AWS_REGION',
      'ENVIRONMENT',
      'WORKER_CONCURRENCY',
      'SQS_WAIT_TIME_SECONDS',
      'SQS_VISIBILITY_TIMEOUT_SECONDS',
      'HEARTBEAT_INTERVAL_SECONDS',
      'MAX_RECEIVE_COUNT',
      'MESSAGE_MAX_AGE_SECONDS',
      'JOB_TIMEOUT_SECONDS',
      'SHUTDOWN_TIMEOUT_SECONDS',
      'DATABASE_SSL',
      'DATABASE_CA_FILE',
      'DATABASE_POOL_SIZE',
      'LOG_LEVEL',
      'METRICS_NAMESPACE',
      'MODEL_DIR',
      'AWS_ENDPOINT_URL',
      'ECS_AGENT_URI',
    ]) {
      expect(byName[name], name).toMatchObject({ required: false, secret: false });
    }
  });
});
