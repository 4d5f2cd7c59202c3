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

/** True for a cell that carries no value: empty, whitespace only, or an NA token. */
export function isMissingCell(cell: string): boolean {
  return cell === '' || NA_TOKENS.has(cell.trim().toLowerCase());
}

const PLAIN_NUMBER = /^-?(?:\d+\.?\d*|\.\d+)$/;
// Thousands separators are accepted only in proper groups of three, so a decimal comma ("29,85") is
// unreadable (missing) rather than silently read as 2985.
const LOOSE_NUMBER = /^[+-]?(?:(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?$/i;
const DECORATION = /[\s$£€]/g;

/**
 * A numeric cell: surrounding and inner whitespace, currency symbols and thousands separators are
 * stripped; anything else that is not a finite decimal number (blank, NA tokens, "29,85", "12 months")
 * is missing (NaN).
 */
export function parseNumber(cell: string): number {
  if (PLAIN_NUMBER.test(cell)) return Number(cell);
  const stripped = cell.replace(DECORATION, '');
  if (!LOOSE_NUMBER.test(stripped)) return NaN;
  const value = Number(stripped.replaceAll(',', ''));
  return Number.isFinite(value) ? value : NaN;
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
 * Parsers of one categorical vocabulary: the spelling table is built once, each parser (one per column of a
 * file) gets its own cell cache.
 */
export function categoryParsers(
  labels: readonly string[],
  synonyms: Record<string, string> = {},
): () => CategoryParser {
  const byKey = new Map<string, number>(labels.map((label, index) => [categoryKey(label), index]));
  for (const [spelling, label] of Object.entries(synonyms)) {
    const index = labels.indexOf(label);
    if (index < 0) throw new Error(`synonym ${spelling} names unknown label ${label}`);
    byKey.set(categoryKey(spelling), index);
  }
  return () => {
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
export const yesNoOr = (notApplicable: string): (() => CategoryParser) =>
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
