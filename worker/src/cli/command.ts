/**
 * What every command-line entry point shares (README, "Exit codes"): 0 done, 1 the job or check failed,
 * 2 bad input or usage, each failure one line on stderr without a stack trace.
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

export const EXIT_CODES = 'Exit codes: 0 done, 1 the job or check failed, 2 bad input or usage.';

/** Something the user can fix (a path, a file, an argument): one line, exit 2. */
export class BadInput extends Error {}

/** A command line that does not parse: the message and then the usage line, exit 2. */
export class UsageError extends BadInput {}

/** Node's strict parseArgs errors, as the usage error they are. */
export function parsing<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** The one line a failure prints, and the exit code it earns. */
export function reportFailure(
  command: string,
  usage: string,
  error: unknown,
  isBadInput = false,
  write: (text: string) => void = (text) => process.stderr.write(text),
): number {
  const message = error instanceof Error ? error.message : String(error);
  write(`${command}: ${message}\n${error instanceof UsageError ? `${usage}\n` : ''}`);
  return error instanceof BadInput || isBadInput ? EXIT.badInput : EXIT.failed;
}

/**
 * A write to a pipe whose reader has gone, as under `| head`: the reader took what it wanted, so the command
 * ends quietly and successfully, as Unix tools killed by SIGPIPE appear to (Node ignores SIGPIPE and reports EPIPE
 * instead, https://nodejs.org/api/process.html#signal-events).
 */
export function isClosedPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}
