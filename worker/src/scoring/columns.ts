import {
  canonicalColumn,
  CANONICAL_COLUMNS,
  REQUIRED_COLUMNS,
  type CanonicalColumn,
} from './canonical-columns.js';
import { inputErrors } from './errors.js';
import { rememberedMatch, type HeaderMatch } from './header-match.js';
import { cleanHeaders, normaliseName } from './header-names.js';
import { isMissingCell } from './values.js';

/**
 * The column mapper (spec/csv-io.md §2-§4): which canonical column each input header feeds, each header
 * scored as the existing Python mapper scores it (header-match.ts), minus that mapper's defects: the mapping is applied to the *cleaned* headers (lessons #15), the Telco columns
 * the model reads are recognised too, and unit conversions come from the header only (lessons #16).
 */

export const MAX_COLUMNS = 1000;
export const MAX_HEADER_LENGTH = 255;

/** Multiplier from the header's unit (csv-io §5), e.g. `tenure_days` → months, `mrr_cents` → dollars. */
function unitScale(column: CanonicalColumn, header: string): number {
  const name = header.toLowerCase();
  if (column.name === 'tenure') {
    if (name.includes('day')) return 1 / 30.44;
    if (name.includes('year')) return 12;
  }
  if ((column.name === 'MonthlyCharges' || column.name === 'TotalCharges') && /cent|_cp/.test(name))
    return 1 / 100;
  return 1;
}

export interface MappedColumn extends HeaderMatch {
  /** position of the source column in each record */
  readonly index: number;
  /** the cleaned input header */
  readonly header: string;
  /** unit conversion applied to numeric cells (1 for none) */
  readonly scale: number;
}

export type IgnoredReason = 'unrecognised' | 'empty' | 'superseded';

export interface ColumnMapping {
  /** mapped columns in canonical order */
  readonly columns: readonly MappedColumn[];
  readonly ignored: readonly {
    readonly index: number;
    readonly header: string;
    readonly reason: IgnoredReason;
  }[];
  /** every cleaned input header, by position */
  readonly headers: readonly string[];
}

/**
 * Maps a header to canonical columns. `sample` (the first data records) decides what only the data can:
 * columns with no value in a non-empty sample are ignored, and when several headers match one canonical column the
 * higher score wins, then the one with more values in the sample, then the leftmost.
 * Throws InputError for too many columns, overlong names and missing required columns.
 */
export function mapColumns(
  rawHeader: readonly string[],
  sample: readonly (readonly string[])[],
): ColumnMapping {
  if (rawHeader.length > MAX_COLUMNS) {
    throw inputErrors.tooManyColumns(rawHeader.length, MAX_COLUMNS);
  }
  const headers = cleanHeaders(rawHeader);
  const tooLong = headers.findIndex((h) => h.length > MAX_HEADER_LENGTH);
  if (tooLong >= 0) {
    throw inputErrors.headerTooLong(tooLong + 1, MAX_HEADER_LENGTH);
  }
  const filled = headers.map((_, index) =>
    sample.reduce((n, record) => n + (isFilled(record[index]) ? 1 : 0), 0),
  );
  const ignored: { index: number; header: string; reason: IgnoredReason }[] = [];
  const winners = new Map<CanonicalColumn, MappedColumn>();
  headers.forEach((header, index) => {
    if (sample.length > 0 && filled[index] === 0) return ignored.push({ index, header, reason: 'empty' });
    const match = rememberedMatch(header);
    if (!match) return ignored.push({ index, header, reason: 'unrecognised' });
    const candidate: MappedColumn = { ...match, index, header, scale: unitScale(match.column, header) };
    const incumbent = winners.get(match.column);
    if (incumbent && !beats(candidate, incumbent, filled)) {
      return ignored.push({ index, header, reason: 'superseded' });
    }
    if (incumbent) ignored.push({ index: incumbent.index, header: incumbent.header, reason: 'superseded' });
    winners.set(match.column, candidate);
  });
  const columns = CANONICAL_COLUMNS.flatMap((c) => winners.get(c) ?? []);
  const missing = REQUIRED_COLUMNS.filter((name) => !columns.some((m) => m.column.name === name));
  if (missing.length > 0) throw missingColumnsError(missing);
  return { columns, ignored: ignored.sort((a, b) => a.index - b.index), headers };
}

const isFilled = (cell: string | undefined): boolean => cell !== undefined && !isMissingCell(cell);

function beats(candidate: MappedColumn, incumbent: MappedColumn, filled: readonly number[]): boolean {
  if (candidate.score !== incumbent.score) return candidate.score > incumbent.score;
  return (filled[candidate.index] ?? 0) > (filled[incumbent.index] ?? 0);
}

const SUGGESTED_ALIASES = 4;

/** spec/csv-io.md §2's error, with the accepted names of each missing column as the suggestions. */
function missingColumnsError(missing: readonly string[]) {
  const suggestions = missing.map((name) => {
    const column = canonicalColumn(name);
    const own = normaliseName(name);
    const spellings = new Map<string, string>();
    for (const alias of column?.aliases ?? []) {
      const key = normaliseName(alias);
      // one spelling per normalised form, preferring the snake_case one people are likeliest to use
      const previous = spellings.get(key);
      if (key === own || (previous !== undefined && (previous.includes('_') || !alias.includes('_'))))
        continue;
      spellings.set(key, alias);
    }
    return { name, alsoNamed: [...spellings.values()].slice(0, SUGGESTED_ALIASES) };
  });
  return inputErrors.missingColumns(suggestions, REQUIRED_COLUMNS);
}
