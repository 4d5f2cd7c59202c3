import type { Message } from '@aws-sdk/client-sqs';
import { retryDelaySeconds } from './backoff.js';
import type { Disposition, Handler } from './consumer.js';
import { describeError, JobAborted, PermanentError, TransientError } from './errors.js';
import type { Logger } from './logger.js';
import { formatNaiveUtc, parseJobMessage, type JobMessage, type ParseResult } from './message.js';
import type { Metrics } from './metrics.js';
import { sentAt, type Queue } from './queue.js';
import { InputError, scoreCsv, type ChurnModel, type ScoreSummary } from './scoring/index.js';
import { outputKey, type Storage } from './storage.js';
import type { ClaimedPrediction, PredictionMetrics, Store } from './store.js';

/**
 * One prediction job, end to end: message -> validate -> claim -> stream CSV -> score -> write -> complete.
 * Every path that claimed the row ends with it COMPLETED or FAILED, or leaves it RUNNING for a redelivery that
 * will (existing-system-lessons.md #7); nothing here ever writes a row other than the message's own (#1).
 */

export interface JobSettings {
  bucket: string;
  messageMaxAgeSeconds: number;
  maxReceiveCount: number;
  visibilityTimeoutSeconds: number;
  retryBaseDelaySeconds: number;
}

export interface JobDependencies {
  store: Store;
  storage: Storage;
  queue: Pick<Queue, 'sendToDlq'>;
  model: ChurnModel;
  metrics: Metrics;
  logger: Logger;
  settings: JobSettings;
  now?: () => Date;
  /** told of each job's scoring (npm start shows it to the person waiting) */
  observer?: JobObserver;
}

export interface JobObserver {
  /** rows scored so far, after each batch */
  progress(predictionId: string, rows: number): void;
  scored(predictionId: string, summary: ScoreSummary): void;
}

/** `reason` is the JobsFailed metric's reason when the failure is final */
type Failure = { kind: 'permanent' | 'transient'; userMessage: string; reason: string; unexpected?: true };

const MISMATCH = 'The job does not match its upload - please upload the file again';

/** Checks the message against the rows it names (lessons #10): a mismatch means the message cannot be trusted. */
export function mismatchReason(job: JobMessage, claimed: ClaimedPrediction): string | undefined {
  if (claimed.uploadId !== job.uploadId) return 'upload_id differs from the prediction row';
  if (claimed.userId !== job.userId) return 'user_id differs from the prediction row';
  if (claimed.uploadUserId === null) return 'upload row missing';
  if (claimed.uploadUserId !== claimed.userId) return "upload belongs to another user than the prediction's";
  if (claimed.uploadKey !== job.key) return 'input key differs from the upload row';
  return undefined;
}

/** Sorts any error from a claimed job into permanent or transient (lessons #2), with user-safe text (#14). */
export function classifyFailure(error: unknown): Failure {
  if (error instanceof InputError) {
    return { kind: 'permanent', userMessage: error.message, reason: 'permanent' };
  }
  if (error instanceof PermanentError) {
    return { kind: 'permanent', userMessage: error.userMessage, reason: 'permanent' };
  }
  if (error instanceof JobAborted) {
    return { kind: 'transient', userMessage: 'Processing took too long', reason: 'transient' };
  }
  if (error instanceof TransientError) {
    return { kind: 'transient', userMessage: error.userMessage, reason: error.reason };
  }
  // Unknown errors are bugs or unforeseen faults: retried like transient ones (a fix may ship in between) and
  // logged in full, but never shown to the user.
  return {
    kind: 'transient',
    userMessage: 'An unexpected error occurred',
    reason: 'unexpected',
    unexpected: true,
  };
}

function metricsJson(summary: ScoreSummary, durationMs: number, at: Date): PredictionMetrics {
  return {
    rows_processed: summary.rowsProcessed,
    original_rows: summary.originalRows,
    positive_rate: Number.isFinite(summary.positiveRate) ? summary.positiveRate : 0,
    processing_timestamp: formatNaiveUtc(at),
    model_version: summary.modelVersion,
    variant: summary.variant,
    imputed_cells: summary.imputedCells,
    input_encoding: summary.inputEncoding,
    input_delimiter: summary.inputDelimiter,
    decimal_separator: summary.decimalSeparator,
    duration_ms: Math.round(durationMs),
  };
}

export function createJobHandler(deps: JobDependencies): Handler {
  const { store, storage, queue, model, metrics, settings } = deps;
  const now = deps.now ?? (() => new Date());

  const retryLater = (receiveCount: number): Extract<Disposition, { action: 'retry' }> => ({
    action: 'retry',
    delaySeconds: retryDelaySeconds(receiveCount, settings.retryBaseDelaySeconds),
  });

  /** message-contract.md §8: DLQ copy with the reason, fail only the named row, delete from the main queue. */
  async function reject(
    message: Message,
    parsed: Extract<ParseResult, { ok: false }>,
    receiveCount: number,
    log: Logger,
  ) {
    log.warn(
      { issues: parsed.issues, prediction_id: parsed.predictionId, error_type: parsed.errorType },
      'rejected invalid job message',
    );
    await metrics.messageParseError(parsed.errorType, message.MessageId);
    try {
      if (parsed.predictionId !== undefined && (await store.fail(parsed.predictionId, parsed.userMessage))) {
        await metrics.jobFailed({
          durationMs: 0,
          reason: parsed.errorType,
          predictionId: parsed.predictionId,
        });
      }
      await queue.sendToDlq(message, parsed.issues.map((i) => `${i.field} ${i.reason}`).join('; '));
    } catch (error) {
      // Nothing is lost by waiting: the message stays on the queue until the DLQ copy exists.
      log.warn({ err: describeError(error) }, 'could not reject message yet; will retry');
      return retryLater(receiveCount);
    }
    return { action: 'delete' } as const;
  }

  async function score(job: JobMessage, key: string, signal: AbortSignal): Promise<ScoreSummary> {
    const input = await storage.openInput(job.key, signal);
    const output = storage.createOutput(key);
    const stop = () => void output.abort();
    signal.addEventListener('abort', stop, { once: true });
    try {
      const summary = await scoreCsv(model, input, output.sink, {
        signal,
        // the upload copies each chunk into a part buffer before it calls back (results-upload.ts)
        sinkReleasesChunks: true,
        onProgress: deps.observer && ((rows) => deps.observer?.progress(job.predictionId, rows)),
      });
      deps.observer?.scored(job.predictionId, summary);
      if (!output.sink.writableEnded) output.sink.end();
      await output.done();
      return summary;
    } catch (error) {
      input.destroy();
      // Read before abort(), which would record nothing: a failed upload reaches the scorer only as a destroyed
      // sink, so its own error is the one that says what went wrong.
      const uploadFailure = output.failure;
      await output.abort();
      if (signal.aborted && signal.reason instanceof JobAborted) throw signal.reason;
      throw uploadFailure ?? error;
    } finally {
      signal.removeEventListener('abort', stop);
    }
  }

  async function fail(
    job: JobMessage,
    output: string | undefined,
    failure: Failure,
    receiveCount: number,
    startedAt: number,
    log: Logger,
  ) {
    const lastAttempt = receiveCount >= settings.maxReceiveCount;
    if (failure.kind === 'transient' && !lastAttempt) {
      const disposition = retryLater(receiveCount);
      log.warn(
        { reason: failure.userMessage, retry_in_s: disposition.delaySeconds },
        'job failed transiently; will retry',
      );
      return disposition;
    }
    const errorMessage =
      failure.kind === 'permanent'
        ? failure.userMessage
        : `${failure.userMessage} on every attempt (${receiveCount}) - please upload the file again later`;
    let failed: boolean;
    try {
      failed = await store.fail(job.predictionId, errorMessage);
    } catch (error) {
      log.error(
        { err: describeError(error) },
        'could not record the failure; leaving the message for a retry',
      );
      return retryLater(receiveCount);
    }
    // Only once this attempt has made the row FAILED: a row that became COMPLETED (a commit whose answer was
    // lost) is serving this very object.
    if (failed && output !== undefined) {
      await storage
        .discardOutput(output)
        .catch((error: unknown) =>
          log.warn(
            { err: describeError(error), output_key: output },
            'could not empty the results of a failed job',
          ),
        );
    }
    const durationMs = performance.now() - startedAt;
    await metrics.jobFailed({ durationMs, reason: failure.reason, predictionId: job.predictionId });
    log.warn({ error_message: errorMessage, duration_ms: Math.round(durationMs) }, 'job failed');
    // A transient failure that used up its attempts stays on the queue so SQS moves it to the DLQ for inspection.
    return failure.kind === 'permanent'
      ? ({ action: 'delete' } as const)
      : ({ action: 'retry', delaySeconds: 0 } as const);
  }

  return async (message, { signal, receiveCount }) => {
    const startedAt = performance.now();
    const messageLog = deps.logger.child({ message_id: message.MessageId, receive_count: receiveCount });
    const parsed = parseJobMessage(message, {
      bucket: settings.bucket,
      maxAgeSeconds: settings.messageMaxAgeSeconds,
      now: now(),
    });
    if (!parsed.ok) return reject(message, parsed, receiveCount, messageLog);
    const job = parsed.job;
    const log = messageLog.child({ prediction_id: job.predictionId });

    let claim;
    try {
      claim = await store.claim(job.predictionId, {
        receiveCount,
        visibilityTimeoutSeconds: settings.visibilityTimeoutSeconds,
      });
    } catch (error) {
      log.warn({ err: describeError(error) }, 'could not claim prediction; will retry');
      return retryLater(receiveCount);
    }
    if (claim.outcome !== 'claimed') {
      log.info(
        { outcome: claim.outcome, status: 'status' in claim ? claim.status : undefined },
        'message skipped',
      );
      return { action: 'delete' };
    }
    const sent = sentAt(message);
    if (sent) await metrics.queueWait(now().getTime() - sent.getTime());

    const key = outputKey(claim.prediction.userId, job.predictionId);
    // set once this attempt has written the results, which only a COMPLETED row may then leave in place
    let output: string | undefined;
    try {
      const mismatch = mismatchReason(job, claim.prediction);
      if (mismatch) throw new PermanentError(MISMATCH, { detail: mismatch });
      const summary = await score(job, key, signal);
      output = key;
      const durationMs = performance.now() - startedAt;
      const completed = await store.complete(job.predictionId, {
        uploadId: claim.prediction.uploadId,
        outputKey: key,
        rowsProcessed: summary.rowsProcessed,
        metrics: metricsJson(summary, durationMs, now()),
      });
      if (!completed) {
        log.warn('prediction no longer RUNNING (settled by another attempt); result left unrecorded');
        return { action: 'delete' };
      }
      await metrics.jobCompleted({ durationMs, rows: summary.rowsProcessed, predictionId: job.predictionId });
      log.info(
        {
          rows: summary.rowsProcessed,
          variant: summary.variant,
          duration_ms: Math.round(durationMs),
          output_key: key,
        },
        'job completed',
      );
      return { action: 'delete' };
    } catch (error) {
      if (signal.aborted && signal.reason instanceof JobAborted && signal.reason.reason === 'shutdown') {
        // Handed back by the consumer: leave the row RUNNING for the next worker, which may reclaim it.
        log.info('job interrupted by shutdown; handed back');
        return { action: 'retry', delaySeconds: 0 };
      }
      const failure = classifyFailure(error);
      if (failure.unexpected) log.error({ err: error }, 'unexpected error in job');
      else log.info({ err: describeError(error), kind: failure.kind }, 'job error');
      return fail(job, output, failure, receiveCount, startedAt, log);
    }
  };
}
