import { LocalSink, MetricsLogger, Unit } from 'aws-embedded-metrics';

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

type EnvironmentProvider = ConstructorParameters<typeof MetricsLogger>[0];
type Environment = Awaited<ReturnType<EnvironmentProvider>>;

function emfEmitter(namespace: string, environment: string): Emit {
  // Plain EMF lines on stdout (awslogs ships them to CloudWatch Logs). The library's own environment detection
  // runs once at import and in ECS would look for a CloudWatch agent on a TCP socket instead, so the worker
  // supplies this fixed environment rather than relying on AWS_EMF_ENVIRONMENT being set before the import.
  const sink = new LocalSink();
  const stdout: Environment = {
    probe: () => Promise.resolve(true),
    getName: () => 'retainwise-worker',
    getType: () => 'ECS',
    getLogGroupName: () => '',
    configureContext: () => undefined,
    getSink: () => sink,
  };
  const provider: EnvironmentProvider = () => Promise.resolve(stdout);
  return async (metrics, properties) => {
    const logger = new MetricsLogger(provider);
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
