import { GetMetricDataCommand, type CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { DescribeServicesCommand, type ECSClient } from '@aws-sdk/client-ecs';

/**
 * What only AWS can say: the age of the main queue's oldest message, which SQS publishes to CloudWatch but does
 * not return as a queue attribute, and the worker service's task counts. The local stack has neither.
 */

export interface OldestMessage {
  ageSeconds: number;
  /** the start of the minute it was measured in (SQS metrics arrive a few minutes late) */
  at: Date;
}

/** The newest datapoint of AWS/SQS ApproximateAgeOfOldestMessage (Maximum per minute) of the last 15 minutes. */
export async function oldestMessage(
  cloudwatch: CloudWatchClient,
  queueName: string,
  now: Date,
): Promise<OldestMessage | undefined> {
  const result = await cloudwatch.send(
    new GetMetricDataCommand({
      StartTime: new Date(now.getTime() - 15 * 60_000),
      EndTime: now,
      ScanBy: 'TimestampDescending',
      MetricDataQueries: [
        {
          Id: 'age',
          MetricStat: {
            Metric: {
              Namespace: 'AWS/SQS',
              MetricName: 'ApproximateAgeOfOldestMessage',
              Dimensions: [{ Name: 'QueueName', Value: queueName }],
            },
            Period: 60,
            Stat: 'Maximum',
          },
        },
      ],
    }),
  );
  const series = result.MetricDataResults?.[0];
  const at = series?.Timestamps?.[0];
  const ageSeconds = series?.Values?.[0];
  return at === undefined || ageSeconds === undefined ? undefined : { ageSeconds, at };
}

export interface ServiceTasks {
  running: number;
  desired: number;
  pending: number;
}

export async function serviceTasks(
  ecs: ECSClient,
  service: { cluster: string; name: string },
): Promise<ServiceTasks> {
  const result = await ecs.send(
    new DescribeServicesCommand({ cluster: service.cluster, services: [service.name] }),
  );
  const found = result.services?.[0];
  if (!found) {
    const reason = result.failures?.[0]?.reason ?? 'not found';
    throw new Error(`ECS service ${service.name} in ${service.cluster}: ${reason}`);
  }
  return {
    running: found.runningCount ?? 0,
    desired: found.desiredCount ?? 0,
    pending: found.pendingCount ?? 0,
  };
}
