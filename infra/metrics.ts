// CloudWatch metric references shared by the scaling policies, the alarms and the dashboard.
import type * as aws from '@pulumi/aws';
import * as pulumi from '@pulumi/pulumi';

export const SQS = 'AWS/SQS';
/** Published because the cluster has Container Insights on; includes RunningTaskCount and DesiredTaskCount. */
export const CONTAINER_INSIGHTS = 'ECS/ContainerInsights';

export interface Dimension {
  name: string;
  value: pulumi.Input<string>;
}

/** Dimensions as CloudWatch takes them: a name → value map, once every value is known. */
export function dimensionMap(dimensions: Dimension[]): pulumi.Output<Record<string, string>> {
  return pulumi
    .all(dimensions.map((d) => pulumi.all([d.name, d.value])))
    .apply((pairs) => Object.fromEntries(pairs));
}

/** One metric of an alarm's metric-math query, at a one-minute period. */
export function metric(
  id: string,
  namespace: string,
  metricName: string,
  dimensions: Dimension[],
  stat: string,
  period = 60,
): aws.types.input.cloudwatch.MetricAlarmMetricQuery {
  return {
    id,
    returnData: false,
    metric: {
      namespace,
      metricName,
      dimensions: dimensionMap(dimensions),
      stat,
      period,
    },
  };
}

/** A queue's jobs waiting (`visible`) and in progress (`inFlight`): SQS's visible and not-visible messages. */
export function queueCounts(
  queue: Dimension[],
  period = 60,
): aws.types.input.cloudwatch.MetricAlarmMetricQuery[] {
  return [
    metric('visible', SQS, 'ApproximateNumberOfMessagesVisible', queue, 'Maximum', period),
    metric('inFlight', SQS, 'ApproximateNumberOfMessagesNotVisible', queue, 'Maximum', period),
  ];
}
