export const ALARM = 'aws:cloudwatch/metricAlarm:MetricAlarm';

/** One entry of a metric alarm's `metricQueries` (or a customized target-tracking metric) as the mocks see it. */
export interface MetricQuery {
  id: string;
  expression?: string;
  returnData?: boolean;
  metric?: {
    namespace: string;
    metricName: string;
    dimensions: Record<string, string>;
    stat: string;
    period: number;
  };
}
