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

/** What a file that is not text turned out to be (file-type.ts). */
export type NotCsvKind = 'gzip' | 'zip' | 'xlsx' | 'xls' | 'json';

const SAVE_AS_CSV = 'Open it in Excel, save it as "CSV UTF-8" and upload that.';
const EXTRACT = 'Extract the CSV from it and upload that.';

const NOT_CSV: Record<NotCsvKind, string> = {
  gzip: `a gzip archive, not a CSV file. ${EXTRACT}`,
  zip: `a ZIP archive, not a CSV file. ${EXTRACT}`,
  xlsx: `an Excel workbook, not a CSV file. ${SAVE_AS_CSV}`,
  xls: `an Excel 97-2003 workbook, not a CSV file. ${SAVE_AS_CSV}`,
  json: 'JSON, not CSV. Export the data as CSV and upload that.',
};

const DELIMITER_NAMES: Record<string, string> = {
  ',': 'commas',
  ';': 'semicolons',
  '\t': 'tabs',
  '|': 'vertical bars',
};

/**
 * Every text a customer can be shown, one factory per code: they are product copy, reviewed and changed here
 * and nowhere else. The modules that detect a problem pass only its facts (line numbers, counts, names).
 */
export const inputErrors = {
  emptyFile: (): InputError =>
    new InputError(
      'empty_file',
      'The CSV file is empty. Upload a file with a header row and at least one customer row.',
    ),

  noDataRows: (): InputError =>
    new InputError('no_data_rows', 'CSV has no data rows. Add at least one customer row below the header.'),

  /** `missing`: each missing column's name and a few other names it is accepted under */
  missingColumns: (
    missing: readonly { readonly name: string; readonly alsoNamed: readonly string[] }[],
    required: readonly string[],
  ): InputError => {
    const suggestions = missing.map(({ name, alsoNamed }) =>
      alsoNamed.length > 0 ? `${name} may also be named ${alsoNamed.join(', ')}` : name,
    );
    return new InputError(
      'missing_columns',
      `Missing required columns: ${missing.map((m) => m.name).join(', ')}. ` +
        `Please ensure your CSV has columns for: ${required.join(', ')}. ` +
        `Suggestions: ${suggestions.join('; ')} (case, spaces, '_' and '-' are ignored).`,
    );
  },

  /** a column the training table was asked to copy through (not a customer upload) */
  missingColumn: (name: string): InputError => new InputError('missing_columns', `Missing column: ${name}.`),

  /** `at`: where UTF-8 decoding failed; none for a UTF-16 file */
  encoding: (at?: { readonly line: number; readonly byte: number }): InputError =>
    new InputError(
      'encoding',
      at === undefined
        ? 'The file is not valid UTF-16 text. Save it as "CSV UTF-8" and upload again.'
        : `The file is not valid UTF-8 text (line ${at.line}, byte ${at.byte}). Save it as "CSV UTF-8" and upload again.`,
    ),

  notCsv: (kind: NotCsvKind): InputError => new InputError('not_csv', `The file is ${NOT_CSV[kind]}`),

  malformedCsv: (
    problem:
      | { readonly unclosedQuoteNearLine: number }
      | {
          readonly record: number;
          readonly fields: number;
          readonly width: number;
          readonly delimiter: string;
        },
  ): InputError =>
    new InputError(
      'malformed_csv',
      'unclosedQuoteNearLine' in problem
        ? `The CSV could not be parsed near line ${problem.unclosedQuoteNearLine}: a double quote is not closed. Enclose values in double quotes, double any quote inside them, and upload again.`
        : `Record ${problem.record} has ${problem.fields} fields but the header has ${problem.width}. ` +
            `Enclose values that contain ${DELIMITER_NAMES[problem.delimiter] ?? 'delimiters'} in double quotes and upload again.`,
    ),

  tooManyColumns: (columns: number, max: number): InputError =>
    new InputError(
      'too_many_columns',
      `The CSV has ${columns} columns; at most ${max} are supported. Remove unused columns and upload again.`,
    ),

  headerTooLong: (column: number, max: number): InputError =>
    new InputError(
      'header_too_long',
      `The name of column ${column} is longer than ${max} characters. Shorten the header and upload again.`,
    ),

  lineTooLong: (line: number, maxMiB: number): InputError =>
    new InputError(
      'line_too_long',
      `A record near line ${line} is larger than ${maxMiB} MiB; usually a double quote is not closed. Check the quoting and upload again.`,
    ),
};
