// The metrics SQS and Container Insights publish for the stack's queue and worker service, named as the alarms name
// them (infra/metrics.ts), for the simulations to record.
import { CONTAINER_INSIGHTS, SQS } from '../metrics.js';
import type { MetricRef } from './alarm-timeline.js';

export function publishedMetrics(names: { queue: string; cluster: string; service: string }) {
  const queue = (metricName: string): MetricRef => ({
    namespace: SQS,
    metricName,
    dimensions: { QueueName: names.queue },
  });
  const service = (metricName: string): MetricRef => ({
    namespace: CONTAINER_INSIGHTS,
    metricName,
    dimensions: { ClusterName: names.cluster, ServiceName: names.service },
  });
  return {
    visible: queue('ApproximateNumberOfMessagesVisible'),
    inFlight: queue('ApproximateNumberOfMessagesNotVisible'),
    oldestAge: queue('ApproximateAgeOfOldestMessage'),
    desired: service('DesiredTaskCount'),
    running: service('RunningTaskCount'),
  };
}
