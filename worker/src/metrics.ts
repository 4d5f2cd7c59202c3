import { Configuration, createMetricsLogger, Unit } from 'aws-embedded-metrics';

/**
 * Worker metrics in CloudWatch embedded metric format (contracts.md §E): JSON lines on stdout that CloudWatch Logs
 * turns into metrics, so no PutMetricData permission is needed (existing-system-lessons.md #34). Every metric
 * carries exactly one dimension set, { Environment }, matching the alarms (lessons #35); anything of higher
 * cardinality (error type, prediction id) is an EMF property, searchable in Logs Insights but not a dimension.
 */
export interface Metrics {
  jobCompleted(values: { durationMs: number; rows: number; predictionId: string }): Promise<void>;
  jobFailed(values: { durationMs: number; reason: string; predictionId: string }): Promise<void>;
  queueWait(waitMs: number): Promise<void>;
  messageParseError(errorType: string, messageId: string | undefined): Promise<void>;
}

type Emit = (
  metrics: [name: string, value: number, unit: Unit][],
  properties: Record<string, unknown>,
) => Promise<void>;

function emfEmitter(namespace: string, environment: string): Emit {
  // 'Local' writes plain EMF lines to stdout with no auto-detected metadata (awslogs ships stdout to CloudWatch
  // Logs); the ECS/EC2 environments would instead look for a CloudWatch agent on a TCP socket.
  Configuration.environmentOverride = 'Local' as typeof Configuration.environmentOverride;
  Configuration.namespace = namespace;
  return async (metrics, properties) => {
    const logger = createMetricsLogger();
    logger.setNamespace(namespace);
    // setDimensions replaces the library's default dimensions (ServiceName, ServiceType, LogGroup).
    logger.setDimensions({ Environment: environment });
    for (const [name, value, unit] of metrics) logger.putMetric(name, value, unit);
    for (const [key, value] of Object.entries(properties)) logger.setProperty(key, value);
    await logger.flush();
  };
}

export function createMetrics(options: {
  namespace: string;
  environment: string;
  enabled: boolean;
}): Metrics {
  const emit: Emit = options.enabled
    ? emfEmitter(options.namespace, options.environment)
    : () => Promise.resolve();
  return {
    jobCompleted: ({ durationMs, rows, predictionId }) =>
      emit(
        [
          ['JobsCompleted', 1, Unit.Count],
          ['RowsScored', rows, Unit.Count],
          ['JobDuration', durationMs, Unit.Milliseconds],
        ],
        { prediction_id: predictionId },
      ),
    jobFailed: ({ durationMs, reason, predictionId }) =>
      emit(
        [
          ['JobsFailed', 1, Unit.Count],
          ['JobDuration', durationMs, Unit.Milliseconds],
        ],
        { prediction_id: predictionId, reason },
      ),
    queueWait: (waitMs) => emit([['QueueWait', Math.max(0, waitMs), Unit.Milliseconds]], {}),
    messageParseError: (errorType, messageId) =>
      emit([['MessageParseError', 1, Unit.Count]], { ErrorType: errorType, message_id: messageId }),
  };
}
