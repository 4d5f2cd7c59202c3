// The parts of `npm run ops` only AWS has, which the emulator cannot show: SQS message move tasks, CloudWatch's
// age of the oldest message and the ECS service. SQS, CloudWatch and ECS are fakes answering in the shapes of the
// SQS, CloudWatch and ECS API references; PostgreSQL is real, with the operator's role.
import type { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import type { ECSClient } from '@aws-sdk/client-ecs';
import type { SQSClient } from '@aws-sdk/client-sqs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { OpsContext, Outcome } from '../../src/ops/context.js';
import { dlqRedrive } from '../../src/ops/dlq.js';
import { status } from '../../src/ops/status.js';
import { telcoCsv, useStack } from '../support/harness.js';

const ctx = useStack();
let operatorDb: pg.Pool;
beforeAll(() => {
  operatorDb = new pg.Pool({ connectionString: ctx.stack.operatorDatabaseUrl, max: 2 });
});
afterAll(async () => {
  await operatorDb?.end();
});

const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:prod-retainwise-predictions-queue';
const DLQ_ARN = 'arn:aws:sqs:us-east-1:123456789012:prod-retainwise-predictions-dlq';
const QUEUE_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/prod-retainwise-predictions-queue';
const DLQ_URL = 'https://sqs.us-east-1.amazonaws.com/123456789012/prod-retainwise-predictions-dlq';

type Answer = (input: Record<string, unknown>) => unknown;

/** A client whose send() answers each command by its name, recording every call in order. */
function fake<T>(
  answers: Record<string, Answer>,
  calls: { command: string; input: Record<string, unknown> }[],
): T {
  return {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ command: name, input: command.input });
      const answer = answers[name];
      if (!answer) return Promise.reject(new Error(`unexpected ${name}`));
      return Promise.resolve(answer(command.input));
    },
  } as T;
}

function context(
  clients: Partial<OpsContext['clients']>,
  service?: { cluster: string; name: string },
): OpsContext {
  const config = loadConfig({
    ...ctx.stack.workerEnv(),
    PREDICTIONS_QUEUE_URL: QUEUE_URL,
    PREDICTIONS_DLQ_URL: DLQ_URL,
    AWS_ENDPOINT_URL: '',
  });
  return {
    settings: { config, service },
    clients: {
      sqs: clients.sqs as SQSClient,
      db: operatorDb,
      cloudwatch: clients.cloudwatch,
      ecs: clients.ecs,
      close: () => Promise.resolve(),
    },
    now: () => new Date(),
  };
}

const attributes = (arn: string, visible: number, inFlight = 0) => ({
  Attributes: {
    QueueArn: arn,
    ApproximateNumberOfMessages: String(visible),
    ApproximateNumberOfMessagesNotVisible: String(inFlight),
    ApproximateNumberOfMessagesDelayed: '0',
  },
});

describe('dlq redrive --all against AWS', () => {
  it('sets the rows back to QUEUED, releases the letters, and then starts one move task from the DLQ to the main queue', async () => {
    const job = await ctx.submitJob({ csv: telcoCsv(5), withoutMessage: true });
    await ctx.stack.db.query(`UPDATE predictions SET status = 'FAILED', error_message = 'x' WHERE id = $1`, [
      job.predictionId,
    ]);
    const calls: { command: string; input: Record<string, unknown> }[] = [];
    let received = false;
    let rowWhenStarted: string | undefined;
    const sqs = fake<SQSClient>(
      {
        GetQueueAttributes: (input) => attributes(input.QueueUrl === DLQ_URL ? DLQ_ARN : QUEUE_ARN, 0, 1),
        ReceiveMessage: () => {
          if (received) return {};
          received = true;
          return {
            Messages: [
              {
                MessageId: 'a1b2c3d4-0000-4000-8000-000000000001',
                ReceiptHandle: 'handle-1',
                Body: job.body,
                Attributes: { ApproximateReceiveCount: '4', SentTimestamp: String(Date.now() - 60_000) },
                MessageAttributes: {
                  task_type: { DataType: 'String', StringValue: 'ml_prediction' },
                  user_id: { DataType: 'String', StringValue: job.userId },
                },
              },
            ],
          };
        },
        ChangeMessageVisibilityBatch: (input) => ({
          Successful: (input.Entries as { Id: string }[]).map(({ Id }) => ({ Id })),
          Failed: [],
        }),
        StartMessageMoveTask: async () => {
          rowWhenStarted = (await ctx.readPrediction(job.predictionId))?.status;
          return { TaskHandle: 'eyJ0YXNrSWQiOiJ0YXNrLTEifQ==' };
        },
        ListMessageMoveTasks: () => ({
          Results: [
            {
              TaskHandle: 'eyJ0YXNrSWQiOiJ0YXNrLTEifQ==',
              Status: 'RUNNING',
              SourceArn: DLQ_ARN,
              DestinationArn: QUEUE_ARN,
              ApproximateNumberOfMessagesMoved: 0,
              ApproximateNumberOfMessagesToMove: 1,
              StartedTimestamp: Date.now(),
            },
          ],
        }),
      },
      calls,
    );

    const outcome: Outcome = await dlqRedrive(context({ sqs }), { all: true, ids: [], dryRun: false });
    expect(outcome.exitCode).toBe(0);
    expect(rowWhenStarted).toBe('QUEUED');
    const start = calls.find((c) => c.command === 'StartMessageMoveTask');
    expect(start?.input).toEqual({ SourceArn: DLQ_ARN, DestinationArn: QUEUE_ARN });
    const order = calls.map((c) => c.command);
    expect(order.indexOf('ChangeMessageVisibilityBatch')).toBeLessThan(order.indexOf('StartMessageMoveTask'));
    expect(order).not.toContain('SendMessage'); // SQS moves them, not us
    expect(outcome.json).toMatchObject({
      method: 'move task',
      moveTask: { taskHandle: 'eyJ0YXNrSWQiOiJ0YXNrLTEifQ==', status: 'RUNNING', toMove: 1 },
      results: [{ predictionId: job.predictionId, rowStatus: 'FAILED', action: 'moved by the move task' }],
    });
    expect(await ctx.readPrediction(job.predictionId)).toMatchObject({
      status: 'QUEUED',
      error_message: null,
    });
  });
});

describe('status against AWS', () => {
  it("reads the worker service's tasks from ECS and decides orphans by CloudWatch's oldest message age", async () => {
    const orphan = await ctx.submitJob({ csv: telcoCsv(5), withoutMessage: true });
    const waiting = await ctx.submitJob({ csv: telcoCsv(5), withoutMessage: true });
    await ctx.stack.db.query(
      `UPDATE predictions SET updated_at = now() - make_interval(mins => CASE WHEN id = $1 THEN 90 ELSE 20 END)
        WHERE id IN ($1, $2)`,
      [orphan.predictionId, waiting.predictionId],
    );
    const calls: { command: string; input: Record<string, unknown> }[] = [];
    const sqs = fake<SQSClient>(
      { GetQueueAttributes: (input) => attributes(input.QueueUrl === DLQ_URL ? DLQ_ARN : QUEUE_ARN, 3, 1) },
      calls,
    );
    // the oldest message in the queue, measured two minutes ago, was 30 minutes old
    const measured = new Date(Date.now() - 120_000);
    const cloudwatch = fake<CloudWatchClient>(
      {
        GetMetricData: () => ({
          MetricDataResults: [
            { Id: 'age', Label: 'age', Timestamps: [measured], Values: [1800], StatusCode: 'Complete' },
          ],
        }),
      },
      calls,
    );
    const ecs = fake<ECSClient>(
      {
        DescribeServices: () => ({
          services: [{ serviceName: 'retainwise-worker', runningCount: 2, desiredCount: 3, pendingCount: 1 }],
          failures: [],
        }),
      },
      calls,
    );
    const outcome = await status(
      context({ sqs, cloudwatch, ecs }, { cluster: 'retainwise-cluster', name: 'retainwise-worker' }),
      {
        olderThanSeconds: 600,
      },
    );
    const json = outcome.json as {
      queue: Record<string, unknown>;
      service: Record<string, unknown>;
      predictions: { queuedWithoutMessage: { id: string }[]; queuedUndecided: { id: string }[] };
    };
    expect(json.queue).toMatchObject({ visible: 3, inFlight: 1, oldestMessageAgeSeconds: 1800 });
    expect(json.service).toEqual({ running: 2, desired: 3, pending: 1 });
    expect(json.predictions.queuedWithoutMessage.map((r) => r.id)).toContain(orphan.predictionId);
    expect(json.predictions.queuedUndecided.map((r) => r.id)).toContain(waiting.predictionId);
    expect(json.predictions.queuedWithoutMessage.map((r) => r.id)).not.toContain(waiting.predictionId);
    expect(calls.find((c) => c.command === 'DescribeServices')?.input).toEqual({
      cluster: 'retainwise-cluster',
      services: ['retainwise-worker'],
    });
    expect(outcome.exitCode).toBe(1);
  });
});
