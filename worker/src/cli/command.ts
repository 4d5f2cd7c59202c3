/**
 * What every command-line entry point shares (README, "Exit codes"): 0 done, 1 the job or check failed,
 * 2 bad input or usage, each failure one line on stderr without a stack trace.
 */
export const EXIT = { ok: 0, failed: 1, badInput: 2 } as const;

/** Something the user can fix (a path, a file, an argument): one line, exit 2. */
export class BadInput extends Error {}
