/**
 * Cell canonicalisation ("column mapping version 1", brief contracts.md §B). Every function here is pure
 * and total: a cell that cannot be read becomes *missing* (NaN or category -1), never an exception, so one
 * bad cell costs one imputed value instead of the whole job (lessons #17).
 */

/** Category code of a missing or unrecognised cell. */
export const MISSING_CATEGORY = -1;

// Python's pandas NA tokens (compared case-insensitively) plus whitespace-only cells, which pandas keeps
// as text and which then broke the existing mapper (lessons #17).
const NA_TOKENS = new Set([
  '',
  'na',
  'n/a',
  '#n/a',
  '#n/a n/a',
  '#na',
  '<na>',
  'null',
  'nan',
  '-nan',
  'none',
  '-1.#ind',
  '1.#ind',
  '-1.#qnan',
  '1.#qnan',
]);

/**
 * ASCII characters a missing cell cannot start with: neither whitespace `trim` removes nor the first letter of an
 * NA token in either case. Nearly every cell with a value starts with one, and is then known to have a value
 * without a lower-cased copy and a hash (the reader asks this of every record's first cell, for blank lines).
 */
const VALUE_START = new Uint8Array(128).map((_, c) => {
  const char = String.fromCharCode(c);
  const starts = [...NA_TOKENS].some((token) => token.startsWith(char.toLowerCase()));
  return char.trim() === '' || starts ? 0 : 1;
});

/** True for a cell that carries no value: empty, whitespace only, or an NA token. */
export function isMissingCell(cell: string): boolean {
  if (cell === '') return true;
  const first = cell.charCodeAt(0);
  if (first < 128 && VALUE_START[first] === 1) return false;
  return NA_TOKENS.has(cell.trim().toLowerCase());
}

const PLAIN_NUMBER = /^-?(?:\d+\.?\d*|\.\d+)$/;
// Thousands separators are accepted only in proper groups of three, so a decimal comma ("29,85") is
// unreadable (missing) rather than silently read as 2985.
const LOOSE_NUMBER = /^[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const DECORATION = /[\s$£€]/g;

/**
 * A numeric cell of a file with a decimal point: surrounding and inner whitespace, currency symbols and
 * thousands separators are stripped; anything else that is not a finite decimal number (blank, NA tokens,
 * "29,85", "12 months") is missing (NaN).
 */
export function parseNumber(cell: string): number {
  const plain = plainDecimal(cell, 46 /* . */);
  if (!Number.isNaN(plain)) return plain;
  // a plain number with more digits than plainDecimal reads exactly
  if (PLAIN_NUMBER.test(cell)) return Number(cell);
  const stripped = cell.replace(DECORATION, '');
  if (!LOOSE_NUMBER.test(stripped)) return NaN;
  const value = Number(stripped.replaceAll(',', ''));
  return Number.isFinite(value) ? value : NaN;
}

/**
 * The decimal mark of a file's numbers. Excel writes a decimal comma exactly where the list separator is a
 * semicolon (European locales), so the reader takes it from the delimiter (csv-reader.ts).
 */
export type DecimalSeparator = '.' | ',';

/** The number reader for a file's decimal mark, chosen once per column so the per-cell path has no branch on it. */
export function numberParser(decimal: DecimalSeparator): (cell: string) => number {
  return decimal === ',' ? parseDecimalCommaNumber : parseNumber;
}

// Dot thousands groups of three, then an optional decimal comma (pandas' `decimal=',', thousands='.'`).
const COMMA_DECIMAL_NUMBER = /^[+-]?(?:(?:\d{1,3}(?:\.\d{3})+|\d+)(?:,\d*)?|,\d+)(?:e[+-]?\d+)?$/i;
// A decimal point: in a decimal-comma file the only reading of "29.85" or "0.5", as no thousands group
// has two digits or starts with 0.
const DOT_DECIMAL_NUMBER = /^[+-]?(?:\d+\.\d*|\.\d+)(?:e[+-]?\d+)?$/i;
// "1.234" is 1234 with a thousands dot and 1.234 with a decimal point; neither is safe to guess.
const AMBIGUOUS_DOT = /^[+-]?[1-9]\d{0,2}\.\d{3}$/;

/**
 * A numeric cell of a decimal-comma file: "29,85" → 29.85, "1.234,50" → 1234.5, "1 234,50", "€ 29,85".
 * Unlike pandas, whose C tokenizer skips a thousands separator after any digit (tokenizer.c, xstrtod), so
 * that "29.85" would read as 2985, dots are thousands separators only in groups of three; a dot that cannot
 * be one ("29.85") is a decimal point, and a lone group of three ("1.234") is missing (NaN).
 */
function parseDecimalCommaNumber(cell: string): number {
  const plain = plainDecimal(cell, 44 /* , */);
  if (!Number.isNaN(plain)) return plain;
  const stripped = cell.replace(DECORATION, '');
  if (AMBIGUOUS_DOT.test(stripped)) return NaN;
  const value = DOT_DECIMAL_NUMBER.test(stripped)
    ? Number(stripped)
    : COMMA_DECIMAL_NUMBER.test(stripped)
      ? Number(stripped.replaceAll('.', '').replace(',', '.'))
      : NaN;
  return Number.isFinite(value) ? value : NaN;
}

const POWERS_OF_TEN = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];
/** Digits that always fit a double's 53-bit integer exactly. */
const MAX_PLAIN_DIGITS = 15;

/**
 * `-?digits[<mark>digits]` (at most 15 digits) read without a regular expression or, for a decimal comma,
 * building a "29.85" string: the common cell, read without allocating. Digits and power of ten are exact
 * integers, and IEEE division rounds correctly, so the result is the double nearest the decimal: the same
 * as Number("29.85"). NaN when the cell is not of that shape.
 */
function plainDecimal(cell: string, mark: number): number {
  const length = cell.length;
  let at = cell.charCodeAt(0) === 45 /* - */ ? 1 : 0;
  const negative = at === 1;
  let mantissa = 0;
  let digits = 0;
  let decimals = -1;
  for (; at < length; at++) {
    const code = cell.charCodeAt(at);
    if (code >= 48 && code <= 57) {
      mantissa = mantissa * 10 + (code - 48);
      digits++;
      if (decimals >= 0) decimals++;
    } else if (code === mark && decimals < 0) decimals = 0;
    else return NaN;
  }
  if (digits === 0 || digits > MAX_PLAIN_DIGITS) return NaN;
  const value = decimals > 0 ? mantissa / (POWERS_OF_TEN[decimals] as number) : mantissa;
  return negative ? -value : value;
}

/** Case-, whitespace- and `_`/`-`-insensitive key: "Month-to-month", "month to month", "MONTH_TO_MONTH". */
export function categoryKey(cell: string): string {
  return cell
    .trim()
    .toLowerCase()
    .replace(/\s+/g, '')
    .replace(/(?<=[a-z0-9])[_-]+(?=[a-z0-9])/g, '');
}

/** Reads a categorical cell as the index of its canonical label, or MISSING_CATEGORY. */
export interface CategoryParser {
  readonly labels: readonly string[];
  parse(cell: string): number;
}

// Real files repeat a handful of spellings per column, so the raw cell is cached; the cap keeps a column
// of free text from growing the cache without bound.
const CACHE_LIMIT = 1024;
// The first spellings seen are also compared directly: every cell is a new string whose hash a Map lookup
// must compute, while a column's two to four spellings compare equal in a few nanoseconds.
const FIRST_SPELLINGS = 6;

/**
 * One categorical vocabulary: its labels, which the encoder and explainer read without building a parser, and
 * its parsers (one per column of a file, each with its own cell cache).
 */
export interface CategoryParsers {
  readonly labels: readonly string[];
  (): CategoryParser;
}

/** The spelling table is built once per vocabulary, not per parser. */
export function categoryParsers(
  labels: readonly string[],
  synonyms: Record<string, string> = {},
): CategoryParsers {
  const byKey = new Map<string, number>(labels.map((label, index) => [categoryKey(label), index]));
  for (const [spelling, label] of Object.entries(synonyms)) {
    const index = labels.indexOf(label);
    if (index < 0) throw new Error(`synonym ${spelling} names unknown label ${label}`);
    byKey.set(categoryKey(spelling), index);
  }
  const parser = (): CategoryParser => {
    const cache = new Map<string, number>();
    const spellings: string[] = [];
    const codes: number[] = [];
    return {
      labels,
      parse(cell: string): number {
        for (let i = 0; i < spellings.length; i++) if (spellings[i] === cell) return codes[i] as number;
        const cached = cache.get(cell);
        if (cached !== undefined) return cached;
        const code = byKey.get(categoryKey(cell)) ?? MISSING_CATEGORY;
        if (spellings.length < FIRST_SPELLINGS) {
          spellings.push(cell);
          codes.push(code);
        } else if (cache.size < CACHE_LIMIT) cache.set(cell, code);
        return code;
      },
    };
  };
  return Object.assign(parser, { labels });
}

const BOOLEAN_SPELLINGS = {
  y: 'Yes',
  true: 'Yes',
  '1': 'Yes',
  '1.0': 'Yes',
  n: 'No',
  false: 'No',
  '0': 'No',
  '0.0': 'No',
};

/** `Yes`/`No` from yes/no/y/n/true/false/1/0 in any case; "No" is never read as yes (lessons #19). */
export const yesNo = categoryParsers(['Yes', 'No'], BOOLEAN_SPELLINGS);

/** A Telco Yes/No column with a third "not applicable" label, e.g. `No internet service`. */
export const yesNoOr = (notApplicable: string): CategoryParsers =>
  categoryParsers(['Yes', 'No', notApplicable], BOOLEAN_SPELLINGS);

/**
 * Contract terms mapped to the Telco labels the model was trained on (csv-io §5's table, made case- and
 * spacing-insensitive, lessons #18). Quarterly is a sub-annual commitment, so it counts as month-to-month.
 */
export const contract = categoryParsers(['Month-to-month', 'One year', 'Two year'], {
  monthly: 'Month-to-month',
  quarterly: 'Month-to-month',
  professional: 'Month-to-month',
  starter: 'Month-to-month',
  basic: 'Month-to-month',
  free: 'Month-to-month',
  m2m: 'Month-to-month',
  mtm: 'Month-to-month',
  annual: 'One year',
  yearly: 'One year',
  '1-year': 'One year',
  enterprise: 'One year',
  premium: 'One year',
  'two years': 'Two year',
  '2-year': 'Two year',
  '2 years': 'Two year',
  'multi-year': 'Two year',
});
