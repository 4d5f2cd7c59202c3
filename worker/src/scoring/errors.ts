/**
 * The one error type a customer can act on. Its message is stored in `predictions.error_message` and shown
 * to the user, so it is short, names the fix, and never contains cell values or a stack trace.
 */
export type InputErrorCode =
  | 'empty_file'
  | 'no_data_rows'
  | 'missing_columns'
  | 'encoding'
  | 'not_csv'
  | 'malformed_csv'
  | 'too_many_columns'
  | 'header_too_long'
  | 'line_too_long';

export class InputError extends Error {
  override readonly name = 'InputError';

  constructor(
    readonly code: InputErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export function isInputError(error: unknown): error is InputError {
  return error instanceof InputError;
}
