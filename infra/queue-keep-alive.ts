// Keeps the job queue "active" while the worker has scaled to zero, so the alarm that starts the first task
// reads fresh metrics (issue #15). SQS publishes a queue's CloudWatch metrics only while the queue is active: for
// up to six hours after it held a message or any action accessed it; once reactivated, its metrics resume "up to
// 15 minutes" late (SQS Developer Guide, "Monitoring Amazon SQS queues using CloudWatch"). After a quiet night the
// first upload therefore waited for metrics as well as for Fargate: `npm run simulate` puts the time to first
// result from idle at p50 461 s without this, 78 s with it.
//
// A GetQueueAttributes call accesses the queue (the same page: the console's GetQueueAttributes call "activates
// the queue"). EventBridge Scheduler cannot make that call itself: its universal targets refuse read-only actions
// (names starting get, describe, list, receive, … — Scheduler User Guide, "Using universal targets"), so an
// hourly schedule invokes a one-call Lambda function (queue-keep-alive-handler.js). Neither needs the VPC: the
// queue policy binds only the workloads' roles to the endpoint, and GetQueueAttributes is not a message action.
import { readFileSync } from 'node:fs';
import * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';
import type { Alarms } from './alarms.js';
import { environmentName } from './names.js';
import { policyDocument, policyJson, serviceRole, type PolicyDocument } from './policy.js';
import type { PredictionQueues } from './prediction-queues.js';

/** Hourly: well inside the six hours a queue stays active, so one or two failed calls in a row cost nothing. */
export const KEEP_ALIVE_SCHEDULE = 'rate(1 hour)';
const KEEP_ALIVE_PERIOD_SECONDS = 3600;
/** Hours without a successful call before the alarm: the queue still has three hours of activity left. */
export const KEEP_ALIVE_ALARM_HOURS = 3;

/** The keep-alive settings of the stack config (`retainwise:<key>`). */
export interface KeepAliveSettings {
  /** Call GetQueueAttributes on the job queue every hour so that its metrics never pause. @default true */
  queueKeepAlive?: boolean | undefined;
}

export interface ResolvedKeepAliveSettings {
  queueKeepAlive: boolean;
  /** @default 'retainwise-queue-keep-alive' (`-<environment>` outside prod) */
  functionName: string;
  /** The function's execution role. @default 'retainwise-queue-keep-alive-role' (`-<environment>` outside prod) */
  functionRoleName: string;
  /** The role the schedule invokes the function with. @default 'retainwise-queue-keep-alive-scheduler-role' (…) */
  schedulerRoleName: string;
}

/** The keep-alive settings with every default applied (the only place they are). */
export function resolveKeepAliveSettings(
  s: KeepAliveSettings,
  environment: string,
): ResolvedKeepAliveSettings {
  const named = (base: string) => environmentName(base, environment);
  return {
    queueKeepAlive: s.queueKeepAlive ?? true,
    functionName: named('retainwise-queue-keep-alive'),
    functionRoleName: named('retainwise-queue-keep-alive-role'),
    schedulerRoleName: named('retainwise-queue-keep-alive-scheduler-role'),
  };
}

/** The function reads the job queue's attributes and writes its own log lines; nothing else. */
export function keepAliveFunctionPolicy(p: { queueArn: string; logGroupArn: string }): PolicyDocument {
  return policyDocument([
    { Sid: 'ReadQueueAttributes', Effect: 'Allow', Action: 'sqs:GetQueueAttributes', Resource: p.queueArn },
    {
      Sid: 'WriteOwnLogs',
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: `${p.logGroupArn}:*`,
    },
  ]);
}

/** The schedule may invoke this one function (and its versions), nothing else. */
export function keepAliveSchedulerPolicy(p: { functionArn: string }): PolicyDocument {
  return policyDocument([
    {
      Sid: 'InvokeKeepAlive',
      Effect: 'Allow',
      Action: 'lambda:InvokeFunction',
      Resource: [p.functionArn, `${p.functionArn}:*`],
    },
  ]);
}

/**
 * The function's code: the handler file as `index.mjs` (an ES module whatever package.json says). Its text, not
 * its path: a FileAsset's path is recorded in the state, and it differs between a workstation and a CI runner.
 */
export function keepAliveCode(): pulumi.asset.AssetArchive {
  const source = readFileSync(new URL('./queue-keep-alive-handler.js', import.meta.url), 'utf8');
  return new pulumi.asset.AssetArchive({ 'index.mjs': new pulumi.asset.StringAsset(source) });
}

export interface QueueKeepAliveArgs extends KeepAliveSettings {
  environment: string;
  accountId: pulumi.Input<string>;
  /** The job queue to keep active. */
  queues: PredictionQueues;
  /** Its alarm notifies the stack's alarm topic. */
  alarms: Alarms;
  /** Retention of the function's log group. */
  logRetentionDays: number;
}

export class QueueKeepAlive extends pulumi.ComponentResource {
  readonly function: aws.lambda.Function;
  readonly schedule: aws.scheduler.Schedule;
  readonly alarm: aws.cloudwatch.MetricAlarm;

  constructor(name: string, args: QueueKeepAliveArgs, opts?: pulumi.ComponentResourceOptions) {
    super('retainwise:queue:QueueKeepAlive', name, {}, opts);
    const parent = { parent: this };
    const s = resolveKeepAliveSettings(args, args.environment);
    const { queue } = args.queues;

    const logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      { name: `/aws/lambda/${s.functionName}`, retentionInDays: args.logRetentionDays },
      parent,
    );
    const fn = serviceRole(
      `${name}-function`,
      {
        roleName: s.functionRoleName,
        description: 'RetainWise queue keep-alive function: reads the job queue attributes',
        service: 'lambda.amazonaws.com',
        accountId: args.accountId,
        policies: {
          inline: {
            'queue-keep-alive': policyJson([queue.arn, logGroup.arn], ([queueArn, logGroupArn]) =>
              keepAliveFunctionPolicy({ queueArn, logGroupArn }),
            ),
          },
        },
      },
      parent,
    );
    this.function = new aws.lambda.Function(
      name,
      {
        name: s.functionName,
        description: `Keeps ${args.environment}'s job queue active so that SQS keeps publishing its metrics`,
        runtime: aws.lambda.Runtime.NodeJS24dX,
        architectures: ['arm64'],
        handler: 'index.handler',
        code: keepAliveCode(),
        memorySize: 128,
        timeout: 30,
        role: fn.role.arn,
        environment: { variables: { QUEUE_URL: queue.url } },
        loggingConfig: { logFormat: 'JSON', logGroup: logGroup.name },
      },
      { ...parent, dependsOn: fn.policies },
    );

    const scheduler = serviceRole(
      `${name}-scheduler`,
      {
        roleName: s.schedulerRoleName,
        description: 'RetainWise queue keep-alive schedule: invokes the keep-alive function',
        service: 'scheduler.amazonaws.com',
        accountId: args.accountId,
        policies: {
          inline: {
            'invoke-keep-alive': policyJson([this.function.arn], ([functionArn]) =>
              keepAliveSchedulerPolicy({ functionArn }),
            ),
          },
        },
      },
      parent,
    );
    this.schedule = new aws.scheduler.Schedule(
      name,
      {
        name: s.functionName,
        description: `Invokes ${s.functionName} hourly: see infra/queue-keep-alive.ts`,
        scheduleExpression: KEEP_ALIVE_SCHEDULE,
        flexibleTimeWindow: { mode: 'OFF' },
        target: {
          arn: this.function.arn,
          roleArn: scheduler.role.arn,
          // A missed hour is harmless (see KEEP_ALIVE_SCHEDULE); retries only add noise to the alarm.
          retryPolicy: { maximumRetryAttempts: 2, maximumEventAgeInSeconds: 900 },
        },
      },
      { ...parent, dependsOn: scheduler.policies },
    );

    const byFunction = { FunctionName: this.function.name };
    const lambdaSum = (
      id: string,
      metricName: string,
    ): aws.types.input.cloudwatch.MetricAlarmMetricQuery => ({
      id,
      metric: {
        namespace: 'AWS/Lambda',
        metricName,
        dimensions: byFunction,
        stat: 'Sum',
        period: KEEP_ALIVE_PERIOD_SECONDS,
      },
    });
    const notify = { alarmActions: [args.alarms.topic.arn], okActions: [args.alarms.topic.arn] };
    this.alarm = new aws.cloudwatch.MetricAlarm(
      `${name}-failing`,
      {
        name: `retainwise-${args.environment}-queue-keep-alive-failing`,
        alarmDescription: pulumi.interpolate`No successful call of ${s.functionName} for ${KEEP_ALIVE_ALARM_HOURS} hours: once the job queue ${queue.name} has been idle for six hours, SQS stops publishing its metrics and the first upload waits up to 15 minutes longer for a worker. No job is lost. Runbook docs/operations.md (Queue keep-alive): read the function's log group ${logGroup.name}.`,
        metricQueries: [
          lambdaSum('invocations', 'Invocations'),
          lambdaSum('errors', 'Errors'),
          {
            id: 'successes',
            // An hour with invocations but no Errors datapoint counts them all as successes.
            expression: 'FILL(invocations, 0) - FILL(errors, 0)',
            label: 'Successful keep-alive calls',
            returnData: true,
          },
        ],
        comparisonOperator: 'LessThanThreshold',
        threshold: 1,
        evaluationPeriods: KEEP_ALIVE_ALARM_HOURS,
        datapointsToAlarm: KEEP_ALIVE_ALARM_HOURS,
        // An hour without invocations has no datapoint at all. Breaching would page on every new stack (no
        // history) and within an hour of each deploy that replaces the function; so a stopped schedule is left
        // to drift detection (`pulumi preview --refresh`) and the runbook, and the alarm counts failed calls.
        treatMissingData: 'notBreaching',
        ...notify,
      },
      parent,
    );
    this.registerOutputs({});
  }
}
