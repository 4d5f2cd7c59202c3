/**
 * The two kinds of job failure (existing-system-lessons.md #2). A permanent failure cannot be fixed by trying
 * again (bad input, missing object): the row is FAILED at once with a message the customer can act on. A transient
 * failure is the infrastructure's (S3 or the database unreachable, throttling): the row stays RUNNING and SQS
 * redelivers the message after a back-off; only the last attempt marks the row FAILED.
 *
 * `userMessage` is what reaches predictions.error_message: short, categorised, free of data values and internals
 * (lessons #14). The technical detail stays in `message`/`cause`, which only go to the logs.
 */
export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(
    readonly userMessage: string,
    options?: { cause?: unknown; detail?: string },
  ) {
    super(options?.detail ?? userMessage, { cause: options?.cause });
  }
}

export class TransientError extends Error {
  override readonly name = 'TransientError';
  /** the JobsFailed metric's `reason` when this fails a job's last attempt (the default is `transient`) */
  readonly reason: string;
  constructor(
    readonly userMessage: string,
    options?: { cause?: unknown; detail?: string; reason?: string },
  ) {
    super(options?.detail ?? userMessage, { cause: options?.cause });
    this.reason = options?.reason ?? 'transient';
  }
}

/** A short, log-safe description of any thrown value (class, code and message, no stack). */
export function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const code = (error as { code?: unknown }).code;
  const parts = [error.name, typeof code === 'string' ? `[${code}]` : '', error.message].filter(Boolean);
  const cause = error.cause === undefined ? '' : ` (cause: ${describeError(error.cause)})`;
  return parts.join(' ') + cause;
}

/** Why a running job's AbortSignal fired: its JOB_TIMEOUT passed, or the worker is shutting down. */
export class JobAborted extends Error {
  override readonly name = 'JobAborted';
  constructor(readonly reason: 'timeout' | 'shutdown') {
    super(reason === 'timeout' ? 'job exceeded JOB_TIMEOUT_SECONDS' : 'worker shutting down');
  }
}
