import { CANONICAL_COLUMNS, type CanonicalColumn } from './canonical-columns.js';
import { normaliseName } from './header-names.js';
import { sequenceRatio } from './sequence-matcher.js';

/**
 * One header → its best canonical column, with the existing Python mapper's scoring reproduced exactly
 * (spec/csv-io.md §3), so customers' files map as they did before.
 */

export type MatchStrategy = 'exact' | 'normalised' | 'partial' | 'fuzzy' | 'alias';

export interface HeaderMatch {
  readonly column: CanonicalColumn;
  readonly score: number;
  readonly strategy: MatchStrategy;
}

const ACCEPT_SCORE = 70;
const PARTIAL_BELOW = 90;
const FUZZY_BELOW = 85;
const FUZZY_MIN_RATIO = 0.75;
const ALIAS_SCORE = 95;

const alphaRuns = (normalised: string): Set<string> => new Set(normalised.match(/[a-z]{3,}/g) ?? []);

interface Target {
  readonly column: CanonicalColumn;
  readonly normalised: string;
  readonly runs: Set<string>;
}

const TARGETS: readonly Target[] = CANONICAL_COLUMNS.map((column) => {
  const normalised = normaliseName(column.name);
  return { column, normalised, runs: alphaRuns(normalised) };
});

// The first column listing an alias wins, as in the existing mapper's table order.
const ALIASES = new Map<string, CanonicalColumn>();
for (const column of CANONICAL_COLUMNS) {
  for (const alias of column.aliases) {
    const key = normaliseName(alias);
    if (!ALIASES.has(key)) ALIASES.set(key, column);
  }
}

/** "partial": share of the larger set of 3+-letter runs that both names contain, if at least half. */
function partialScore(runs: Set<string>, target: Set<string>): number {
  const larger = Math.max(runs.size, target.size);
  if (larger === 0) return 0;
  let shared = 0;
  for (const run of runs) if (target.has(run)) shared++;
  const overlap = shared / larger;
  return overlap >= 0.5 ? 70 + 20 * overlap : 0;
}

/** The best canonical column for one cleaned header, scored exactly as spec/csv-io.md §3. */
export function matchHeader(cleaned: string): HeaderMatch | undefined {
  const normalised = normaliseName(cleaned);
  const runs = alphaRuns(normalised);
  let best: HeaderMatch | undefined;
  const offer = (column: CanonicalColumn, score: number, strategy: MatchStrategy): void => {
    if (score > (best?.score ?? 0)) best = { column, score, strategy };
  };
  for (const target of TARGETS) {
    if (cleaned === target.column.name) {
      best = { column: target.column, score: 100, strategy: 'exact' };
      break;
    }
    if (normalised === target.normalised) offer(target.column, 100, 'normalised');
    if ((best?.score ?? 0) < PARTIAL_BELOW) offer(target.column, partialScore(runs, target.runs), 'partial');
    if ((best?.score ?? 0) < FUZZY_BELOW) {
      const ratio = sequenceRatio(normalised, target.normalised);
      if (ratio >= FUZZY_MIN_RATIO) offer(target.column, 100 * ratio, 'fuzzy');
    }
  }
  const alias = ALIASES.get(normalised);
  if (alias && (best?.score ?? 0) < ALIAS_SCORE)
    best = { column: alias, score: ALIAS_SCORE, strategy: 'alias' };
  return best && best.score >= ACCEPT_SCORE ? best : undefined;
}

// Scoring a header against every alias (SequenceMatcher included) costs more than scoring a small file, and a
// customer's files repeat their headers: the matches are remembered, up to a bound.
const MATCH_CACHE_LIMIT = 4096;
const matches = new Map<string, HeaderMatch | undefined>();

export function rememberedMatch(cleaned: string): HeaderMatch | undefined {
  if (matches.has(cleaned)) return matches.get(cleaned);
  const match = matchHeader(cleaned);
  if (matches.size >= MATCH_CACHE_LIMIT) matches.clear();
  matches.set(cleaned, match);
  return match;
}
