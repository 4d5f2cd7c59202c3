// The queue keep-alive: an hourly schedule invoking a one-call function, so that SQS keeps publishing the job
// queue's metrics while the worker has scaled to zero (infra/queue-keep-alive.ts says why).
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { KEEP_ALIVE_ALARM_HOURS, keepAliveCode } from '../queue-keep-alive.js';
import { alarmStates, MetricTimeline, type AlarmInputs } from '../simulate/alarm-timeline.js';
import { ALARM } from '../simulate/cloudwatch.js';
import { decide } from './support/iam.js';
import { ACCOUNT, deployStack, type Stack } from './support/program.js';

const FUNCTION = 'aws:lambda/function:Function';
const SCHEDULE = 'aws:scheduler/schedule:Schedule';
const role = (name: string) => `arn:aws:iam::${ACCOUNT}:role/${name}`;
const QUEUE_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-queue`;
const DLQ_ARN = `arn:aws:sqs:us-east-1:${ACCOUNT}:prod-retainwise-predictions-dlq`;
const FUNCTION_ARN = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:retainwise-queue-keep-alive`;
const BOUNDARY = `arn:aws:iam::${ACCOUNT}:policy/retainwise-permissions-boundary`;

describe('QueueKeepAlive', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await deployStack();
  });

  it('is on by default: an hourly EventBridge schedule invokes the keep-alive function', () => {
    const schedule = stack.one(SCHEDULE, 'queue-keep-alive').inputs;
    expect(schedule).toMatchObject({
      scheduleExpression: 'rate(1 hour)',
      flexibleTimeWindow: { mode: 'OFF' },
      target: { arn: FUNCTION_ARN, roleArn: role('retainwise-queue-keep-alive-scheduler-role') },
    });
  });

  it('runs the handler file as index.mjs on the Node.js 24 runtime, pointed at the job queue', async () => {
    const fn = stack.one(FUNCTION, 'queue-keep-alive').inputs;
    expect(fn).toMatchObject({
      name: 'retainwise-queue-keep-alive',
      runtime: 'nodejs24.x',
      architectures: ['arm64'],
      handler: 'index.handler',
      role: role('retainwise-queue-keep-alive-role'),
      environment: {
        variables: {
          QUEUE_URL: `https://sqs.us-east-1.amazonaws.com/${ACCOUNT}/prod-retainwise-predictions-queue`,
        },
      },
      loggingConfig: { logGroup: '/aws/lambda/retainwise-queue-keep-alive' },
    });
    const assets = await keepAliveCode().assets;
    expect(Object.keys(assets)).toEqual(['index.mjs']);
    const asset = assets['index.mjs'] as { text: Promise<string> };
    expect(await asset.text).toBe(
      readFileSync(new URL('../queue-keep-alive-handler.js', import.meta.url), 'utf8'),
    );
  });

  it('gives both of its roles the stack boundary, so the deploy role may manage them', () => {
    for (const name of ['queue-keep-alive-function', 'queue-keep-alive-scheduler']) {
      expect(stack.one('aws:iam/role:Role', name).inputs['permissionsBoundary'], name).toBe(BOUNDARY);
    }
  });

  it('is left out when queueKeepAlive is false', async () => {
    const off = await deployStack({ queueKeepAlive: false });
    expect(off.has(FUNCTION) || off.has(SCHEDULE)).toBe(false);
  });

  describe('what its roles may do (IAM evaluator)', () => {
    const functionMay = (action: string, resource: string) =>
      decide({
        principal: role('retainwise-queue-keep-alive-role'),
        action,
        resource,
        identityPolicies: [stack.rolePolicy('queue-keep-alive-function-queue-keep-alive')],
      });
    const schedulerMay = (action: string, resource: string) =>
      decide({
        principal: role('retainwise-queue-keep-alive-scheduler-role'),
        action,
        resource,
        identityPolicies: [stack.rolePolicy('queue-keep-alive-scheduler-invoke-keep-alive')],
      });

    it('the function reads the job queue attributes and nothing else of the queues', async () => {
      expect(await functionMay('sqs:GetQueueAttributes', QUEUE_ARN)).toBe('Allowed');
      for (const action of [
        'sqs:ReceiveMessage',
        'sqs:SendMessage',
        'sqs:PurgeQueue',
        'sqs:SetQueueAttributes',
      ])
        expect(await functionMay(action, QUEUE_ARN), action).not.toBe('Allowed');
      expect(await functionMay('sqs:GetQueueAttributes', DLQ_ARN)).not.toBe('Allowed');
    });

    it('the schedule invokes the keep-alive function and no other', async () => {
      expect(await schedulerMay('lambda:InvokeFunction', FUNCTION_ARN)).toBe('Allowed');
      const other = `arn:aws:lambda:us-east-1:${ACCOUNT}:function:something-else`;
      expect(await schedulerMay('lambda:InvokeFunction', other)).not.toBe('Allowed');
      expect(await schedulerMay('sqs:GetQueueAttributes', QUEUE_ARN)).not.toBe('Allowed');
    });
  });

  describe('its alarm, evaluated minute by minute over Lambda metric timelines', () => {
    const HOUR = 60;
    const DAY = 24 * HOUR;
    let alarm: AlarmInputs;
    const invocations = { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensions: {} };
    const errors = { namespace: 'AWS/Lambda', metricName: 'Errors', dimensions: {} };
    beforeAll(() => {
      alarm = stack.one(ALARM, 'queue-keep-alive-failing').inputs as unknown as AlarmInputs;
      const dimensions = { FunctionName: 'retainwise-queue-keep-alive' };
      Object.assign(invocations, { dimensions });
      Object.assign(errors, { dimensions });
    });
    /** One call at minute 17 of every hour in [from, to), failing when `fails(hour)`. */
    const calls = (timeline: MetricTimeline, from: number, to: number, fails: (hour: number) => boolean) => {
      timeline.script(invocations, from, to, (m) => (m % HOUR === 17 ? 1 : undefined));
      timeline.script(errors, from, to, (m) =>
        m % HOUR === 17 ? (fails(Math.floor(m / HOUR)) ? 1 : 0) : undefined,
      );
      return timeline;
    };
    const firstAlarmHour = (states: string[]) => {
      const i = states.indexOf('ALARM');
      return i < 0 ? undefined : i / HOUR;
    };

    it('stays OK through a day of hourly successful calls', () => {
      const states = alarmStates(
        alarm,
        calls(new MetricTimeline(), 0, DAY, () => false),
        DAY,
      );
      expect(states).not.toContain('ALARM');
    });

    it(`alarms within ${KEEP_ALIVE_ALARM_HOURS + 1} hours of the calls starting to fail, before the queue goes inactive at six`, () => {
      const states = alarmStates(
        alarm,
        calls(new MetricTimeline(), 0, DAY, (h) => h >= 10),
        DAY,
      );
      const at = firstAlarmHour(states);
      expect(at).toBeGreaterThanOrEqual(10 + KEEP_ALIVE_ALARM_HOURS - 1);
      expect(at).toBeLessThan(10 + 6);
    });

    it('does not page on a new stack, before the first call has published anything', () => {
      expect(alarmStates(alarm, new MetricTimeline(), 3 * KEEP_ALIVE_ALARM_HOURS * HOUR)).not.toContain(
        'ALARM',
      );
    });

    it('does not alarm on one or two failed hours', () => {
      const states = alarmStates(
        alarm,
        calls(new MetricTimeline(), 0, DAY, (h) => h === 5 || h === 6),
        DAY,
      );
      expect(states).not.toContain('ALARM');
    });
  });
});
