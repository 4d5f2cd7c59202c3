import { beforeAll, describe, expect, it } from 'vitest';
import { alarmStates, MetricTimeline, type AlarmInputs } from '../simulate/alarm-timeline.js';
import { ALARM, type MetricQuery as Query } from '../simulate/cloudwatch.js';
import { deployStack, type Stack } from './support/program.js';

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:retainwise-cloudwatch-alerts';
const DLQ = 'prod-retainwise-predictions-dlq';
const QUEUE = 'prod-retainwise-predictions-queue';
const sqs = (metricName: string, queue: string) => ({
  namespace: 'AWS/SQS',
  metricName,
  dimensions: { QueueName: queue },
});

describe('Alarms', () => {
  let stack: Stack;
  const alarm = (id: string) => stack.one(ALARM, `alarms-${id}`).inputs;
  const queries = (id: string) => alarm(id)['metricQueries'] as Query[];
  beforeAll(async () => {
    stack = await deployStack({ alarmEmail: 'ops@retainwise.example' });
  });

  it('notifies the retainwise-cloudwatch-alerts topic, with the optional e-mail subscription', () => {
    expect(stack.one('aws:sns/topic:Topic').inputs['name']).toBe('retainwise-cloudwatch-alerts');
    expect(stack.one('aws:sns/topicSubscription:TopicSubscription').inputs).toMatchObject({
      topic: TOPIC_ARN,
      protocol: 'email',
      endpoint: 'ops@retainwise.example',
    });
    for (const a of stack.all(ALARM).filter((x) => x.name.startsWith('alarms-'))) {
      expect(a.inputs).toMatchObject({ alarmActions: [TOPIC_ARN], okActions: [TOPIC_ARN] });
      expect(['notBreaching', 'breaching', 'missing', 'ignore']).toContain(a.inputs['treatMissingData']);
    }
  });

  it('tells whoever is paged where the runbook is and which ops command to run first', () => {
    for (const a of stack.all(ALARM).filter((x) => x.name.startsWith('alarms-'))) {
      expect(a.inputs['alarmDescription'], a.name).toMatch(
        /Runbook docs\/operations\.md: .*npm run ops -- (status|dlq list)/,
      );
    }
  });

  it('alarms when the DLQ holds more than 5 messages, visible or in flight, on the DLQ this stack created', () => {
    expect(alarm('dlq-messages')).toMatchObject({
      comparisonOperator: 'GreaterThanThreshold',
      threshold: 5,
      treatMissingData: 'notBreaching',
    });
    expect(queries('dlq-messages').map((q) => [q.metric?.metricName, q.metric?.dimensions])).toEqual([
      ['ApproximateNumberOfMessagesVisible', { QueueName: 'prod-retainwise-predictions-dlq' }],
      ['ApproximateNumberOfMessagesNotVisible', { QueueName: 'prod-retainwise-predictions-dlq' }],
      [undefined, undefined],
    ]);
  });

  it('alarms when jobs wait while the oldest message in the job queue is more than 30 minutes old', () => {
    expect(alarm('oldest-job-age')).toMatchObject({
      threshold: 1800,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    expect(queries('oldest-job-age').map((q) => q.metric?.metricName ?? q.expression)).toEqual([
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      'IF(visible >= 1, age, 0)',
    ]);
  });

  it('alarms when jobs wait 15 minutes with none in progress, on SQS metrics alone', () => {
    expect(alarm('backlog-without-workers')).toMatchObject({
      evaluationPeriods: 15,
      datapointsToAlarm: 15,
      threshold: 1,
      treatMissingData: 'notBreaching',
    });
    expect(queries('backlog-without-workers').map((q) => q.metric?.dimensions ?? q.expression)).toEqual([
      { QueueName: 'prod-retainwise-predictions-queue' },
      { QueueName: 'prod-retainwise-predictions-queue' },
      'IF(visible >= 1 AND inFlight == 0, 1, 0)',
    ]);
  });

  it('alarms on the job failure rate from exactly the metrics and the one dimension the worker emits', () => {
    expect(alarm('job-failure-rate')).toMatchObject({
      threshold: 5,
      evaluationPeriods: 3,
      datapointsToAlarm: 3,
      treatMissingData: 'notBreaching',
    });
    const [failed, completed, rate] = queries('job-failure-rate');
    for (const [q, name] of [
      [failed, 'JobsFailed'],
      [completed, 'JobsCompleted'],
    ] as const) {
      expect(q?.metric).toEqual({
        namespace: 'RetainWise/Worker',
        metricName: name,
        dimensions: { Environment: 'prod' },
        stat: 'Sum',
        period: 300,
      });
    }
    expect(rate?.expression).toBe(
      'IF(FILL(failed, 0) + FILL(completed, 0) > 0, 100 * FILL(failed, 0) / (FILL(failed, 0) + FILL(completed, 0)), 0)',
    );
  });

  it('alarms on any rejected job message (MessageParseError, Environment dimension only)', () => {
    expect(alarm('message-parse-errors')).toMatchObject({
      namespace: 'RetainWise/Worker',
      metricName: 'MessageParseError',
      dimensions: { Environment: 'prod' },
      statistic: 'Sum',
      threshold: 0,
      comparisonOperator: 'GreaterThanThreshold',
    });
  });

  it('draws a dashboard of the same queues, service and worker metrics, with every alarm', () => {
    const body = stack.json<{
      widgets: { type: string; properties: { alarms?: string[]; metrics?: unknown[][] } }[];
    }>('aws:cloudwatch/dashboard:Dashboard', 'alarms-dashboard', 'dashboardBody');
    const alarmWidget = body.widgets.find((w) => w.type === 'alarm');
    expect(alarmWidget?.properties.alarms).toHaveLength(5);
    const text = JSON.stringify(body);
    for (const name of [
      'prod-retainwise-predictions-queue',
      'prod-retainwise-predictions-dlq',
      'retainwise-cluster',
      'retainwise-worker',
      'JobsFailed',
      'QueueWait',
    ]) {
      expect(text).toContain(name);
    }
    expect(stack.outputs['dashboardUrl']).toBe(
      'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards/dashboard/retainwise-prod',
    );
  });

  it('names dimensions after the configured resources, not fixed strings', async () => {
    const renamed = await deployStack({
      queueName: 'prod-jobs',
      dlqName: 'prod-jobs-dlq',
      workerServiceName: 'churn-worker',
    });
    const dlq = renamed.one(ALARM, 'alarms-dlq-messages').inputs['metricQueries'] as Query[];
    expect(dlq[0]?.metric?.dimensions).toEqual({ QueueName: 'prod-jobs-dlq' });
    const oldest = renamed.one(ALARM, 'alarms-oldest-job-age').inputs['metricQueries'] as Query[];
    expect(oldest[1]?.metric?.dimensions).toEqual({ QueueName: 'prod-jobs' });
    const backlog = renamed.one(ALARM, 'alarms-backlog-without-workers').inputs['metricQueries'] as Query[];
    expect(backlog[1]?.metric?.dimensions).toEqual({ QueueName: 'prod-jobs' });
    expect(
      renamed.input('aws:cloudwatch/dashboard:Dashboard', 'alarms-dashboard', 'dashboardBody'),
    ).toContain('"ServiceName","churn-worker"');
  });
});

describe('Alarms over time', () => {
  let stack: Stack;
  const states = (id: string, timeline: MetricTimeline, minutes: number) =>
    alarmStates(stack.one(ALARM, `alarms-${id}`).inputs as unknown as AlarmInputs, timeline, minutes);
  beforeAll(async () => {
    stack = await deployStack();
  });

  /** Dead letters while something keeps reading them (an operator paging through the DLQ): every minute up to 10
   *  are received and each stays hidden for 5 minutes. */
  function sweptDeadLetters(count: number, minutes: number): MetricTimeline {
    const hiddenUntil = Array.from({ length: count }, () => 0);
    const timeline = new MetricTimeline();
    for (let m = 0; m < minutes; m++) {
      let received = 0;
      hiddenUntil.forEach((until, i) => {
        if (until <= m && received < 10) {
          hiddenUntil[i] = m + 5;
          received++;
        }
      });
      const visible = hiddenUntil.filter((until) => until <= m).length;
      timeline.record(sqs('ApproximateNumberOfMessagesVisible', DLQ), m, visible);
      timeline.record(sqs('ApproximateNumberOfMessagesNotVisible', DLQ), m, count - visible);
    }
    return timeline;
  }

  it('keeps alarming on 26 dead letters while readers hold them in flight', () => {
    const timeline = sweptDeadLetters(26, 60);
    expect(timeline.sample(sqs('ApproximateNumberOfMessagesVisible', DLQ), 30)).toBe(0);
    expect(new Set(states('dlq-messages', timeline, 60).slice(5))).toEqual(new Set(['ALARM']));
  });

  /** The job queue's SQS metrics, minute by minute: messages waiting, in flight, and the age of the oldest. */
  function jobQueue(
    minutes: number,
    at: (minute: number) => { visible: number; inFlight: number; oldestSentAt?: number },
  ): MetricTimeline {
    const timeline = new MetricTimeline();
    for (let m = 0; m < minutes; m++) {
      const { visible, inFlight, oldestSentAt } = at(m);
      timeline.record(sqs('ApproximateNumberOfMessagesVisible', QUEUE), m, visible);
      timeline.record(sqs('ApproximateNumberOfMessagesNotVisible', QUEUE), m, inFlight);
      // The age of the oldest non-deleted message, in flight or not (SQS developer guide, available CloudWatch
      // metrics for Amazon SQS).
      timeline.record(sqs('ApproximateAgeOfOldestMessage', QUEUE), m, (m - (oldestSentAt ?? m)) * 60);
    }
    return timeline;
  }
  /** One job sent at minute 0, received at minute 1 and worked on (heartbeat-extended) until `endsAt`. */
  const healthyJob = (endsAt: number) => (m: number) =>
    m === 0
      ? { visible: 1, inFlight: 0, oldestSentAt: 0 }
      : m < endsAt
        ? { visible: 0, inFlight: 1, oldestSentAt: 0 }
        : { visible: 0, inFlight: 0 };

  it('does not call a healthy 50-minute job, with nothing waiting, an old waiting job', () => {
    expect(new Set(states('oldest-job-age', jobQueue(80, healthyJob(51)), 80))).toEqual(new Set(['OK']));
  });

  it('does not fire when a job waits two minutes for a new task beside a long one in progress', () => {
    const job = healthyJob(51);
    const timeline = jobQueue(80, (m) => (m === 40 || m === 41 ? { ...job(m), visible: 1 } : job(m)));
    expect(new Set(states('oldest-job-age', timeline, 80))).toEqual(new Set(['OK']));
  });

  it('fires on a job that has waited 35 minutes with no worker to take it', () => {
    const timeline = jobQueue(36, () => ({ visible: 1, inFlight: 0, oldestSentAt: 0 }));
    const s = states('oldest-job-age', timeline, 36);
    expect(s.slice(0, 30)).not.toContain('ALARM');
    expect(s[35]).toBe('ALARM');
  });

  it('fires when jobs wait 15 minutes and no task takes them, though Container Insights reports nothing at zero tasks', () => {
    // Tasks fail to start (image, secret, model load): no task runs, so no RunningTaskCount datapoint exists.
    const timeline = jobQueue(30, () => ({ visible: 3, inFlight: 0, oldestSentAt: 0 }));
    const s = states('backlog-without-workers', timeline, 30);
    expect(s.slice(0, 14)).not.toContain('ALARM');
    expect(s.slice(16)).toEqual(Array.from({ length: 14 }, () => 'ALARM'));
  });

  it('does not fire while workers are busy, even with jobs waiting behind them', () => {
    const timeline = jobQueue(60, () => ({ visible: 4, inFlight: 2, oldestSentAt: 0 }));
    expect(new Set(states('backlog-without-workers', timeline, 60))).toEqual(new Set(['OK']));
  });

  const worker = (metricName: string) => ({
    namespace: 'RetainWise/Worker',
    metricName,
    dimensions: { Environment: 'prod' },
  });

  it('fires on a failure rate above 5 % for three 5-minute periods, even when no job completes at all', () => {
    const someFail = new MetricTimeline()
      .script(worker('JobsCompleted'), 0, 60, () => 2)
      .script(worker('JobsFailed'), 0, 60, (m) => (m % 5 === 0 ? 1 : undefined));
    const s = states('job-failure-rate', someFail, 60);
    expect(s.slice(0, 14)).not.toContain('ALARM');
    expect(s[14]).toBe('ALARM');
    const allFail = new MetricTimeline().script(worker('JobsFailed'), 0, 20, () => 1);
    expect(states('job-failure-rate', allFail, 20)[14]).toBe('ALARM');
  });

  it('does not fire on no jobs, or on failures within a single 5-minute period', () => {
    expect(new Set(states('job-failure-rate', new MetricTimeline(), 60))).toEqual(new Set(['OK']));
    const burst = new MetricTimeline()
      .script(worker('JobsCompleted'), 0, 60, () => 1)
      .script(worker('JobsFailed'), 20, 25, () => 3);
    expect(new Set(states('job-failure-rate', burst, 60))).toEqual(new Set(['OK']));
  });

  it('fires on a single rejected message, until its period leaves the evaluation range', () => {
    const rejected = new MetricTimeline().script(worker('MessageParseError'), 7, 8, () => 1);
    const s = states('message-parse-errors', rejected, 30);
    expect(s.slice(0, 9)).not.toContain('ALARM');
    // The last real datapoint keeps deciding while it is within the evaluation range ("alarms may repeatedly
    // re-evaluate the last set of data points … after the metric has stopped flowing").
    expect(s.slice(9, 20)).toEqual(Array.from({ length: 11 }, () => 'ALARM'));
    expect(s.slice(24)).toEqual(Array.from({ length: 6 }, () => 'OK'));
  });

  it('stays quiet on an empty DLQ, reported or not', () => {
    const empty = new MetricTimeline()
      .script(sqs('ApproximateNumberOfMessagesVisible', DLQ), 0, 30, () => 0)
      .script(sqs('ApproximateNumberOfMessagesNotVisible', DLQ), 0, 30, () => 0);
    expect(new Set(states('dlq-messages', empty, 60))).toEqual(new Set(['OK']));
    expect(sweptDeadLetters(5, 60).sample(sqs('ApproximateNumberOfMessagesNotVisible', DLQ), 30)).toBe(5);
    expect(new Set(states('dlq-messages', sweptDeadLetters(5, 60), 60))).toEqual(new Set(['OK']));
  });
});
