// The stack's CloudWatch dashboard: alarm states, then queue, service and job panels.
import { CONTAINER_INSIGHTS, SQS } from './metrics.js';
import { WORKER_METRICS_NAMESPACE } from './worker-settings.js';

export interface DashboardInputs {
  queueName: string;
  dlqName: string;
  clusterName: string;
  serviceName: string;
  environment: string;
  region: string;
  alarmArns: string[];
}

/** The dashboard: alarm states, then queue, service and job panels. */
export function dashboardBody(d: DashboardInputs): { widgets: Record<string, unknown>[] } {
  const graph = (
    title: string,
    metrics: unknown[][],
    y: number,
    x: number,
    extra: Record<string, unknown> = {},
  ) => ({
    type: 'metric',
    x,
    y,
    width: 12,
    height: 6,
    properties: { title, region: d.region, view: 'timeSeries', period: 60, metrics, ...extra },
  });
  const env = ['Environment', d.environment];
  const service = ['ClusterName', d.clusterName, 'ServiceName', d.serviceName];
  // A queue's jobs waiting and in progress, as SQS counts its messages visible and not visible.
  const queueRows = (queueName: string, waiting: string, inProgress: string) => [
    [SQS, 'ApproximateNumberOfMessagesVisible', 'QueueName', queueName, { stat: 'Maximum', label: waiting }],
    [
      SQS,
      'ApproximateNumberOfMessagesNotVisible',
      'QueueName',
      queueName,
      { stat: 'Maximum', label: inProgress },
    ],
  ];
  return {
    widgets: [
      {
        type: 'alarm',
        x: 0,
        y: 0,
        width: 24,
        height: 3,
        properties: { title: 'Alarms', alarms: d.alarmArns },
      },
      graph(
        'Jobs waiting and in progress',
        [
          ...queueRows(d.queueName, 'Waiting', 'In progress'),
          ...queueRows(d.dlqName, 'Dead-lettered', 'Dead-lettered, held by an operator reading them'),
        ],
        3,
        0,
      ),
      graph(
        'Oldest message, waiting or in progress (s)',
        [[SQS, 'ApproximateAgeOfOldestMessage', 'QueueName', d.queueName, { stat: 'Maximum' }]],
        3,
        12,
      ),
      graph(
        'Worker tasks',
        [
          [CONTAINER_INSIGHTS, 'DesiredTaskCount', ...service, { stat: 'Maximum', label: 'Desired' }],
          [CONTAINER_INSIGHTS, 'RunningTaskCount', ...service, { stat: 'Maximum', label: 'Running' }],
        ],
        9,
        0,
      ),
      graph(
        'Worker CPU and memory (%)',
        [
          ['AWS/ECS', 'CPUUtilization', ...service, { stat: 'Maximum' }],
          ['AWS/ECS', 'MemoryUtilization', ...service, { stat: 'Maximum' }],
        ],
        9,
        12,
      ),
      graph(
        'Jobs',
        [
          [WORKER_METRICS_NAMESPACE, 'JobsCompleted', ...env, { stat: 'Sum', label: 'Completed' }],
          [WORKER_METRICS_NAMESPACE, 'JobsFailed', ...env, { stat: 'Sum', label: 'Failed' }],
          [WORKER_METRICS_NAMESPACE, 'MessageParseError', ...env, { stat: 'Sum', label: 'Invalid messages' }],
        ],
        15,
        0,
        { period: 300 },
      ),
      graph(
        'Job duration and queue wait (ms)',
        [
          [WORKER_METRICS_NAMESPACE, 'JobDuration', ...env, { stat: 'p50', label: 'Duration p50' }],
          [WORKER_METRICS_NAMESPACE, 'JobDuration', ...env, { stat: 'p99', label: 'Duration p99' }],
          [WORKER_METRICS_NAMESPACE, 'QueueWait', ...env, { stat: 'p90', label: 'Queue wait p90' }],
        ],
        15,
        12,
        { period: 300 },
      ),
      graph('Rows scored', [[WORKER_METRICS_NAMESPACE, 'RowsScored', ...env, { stat: 'Sum' }]], 21, 0, {
        period: 300,
      }),
    ],
  };
}
