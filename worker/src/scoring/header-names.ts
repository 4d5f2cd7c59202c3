/** Header names as the mapper reads and compares them (spec/csv-io.md §3). */

/** Unicode NFKD, non-ASCII dropped, lower-cased, everything outside `a-z0-9` removed. */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\P{ASCII}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/**
 * One header name as the mapper sees it: a single leading formula character (`=`, `+`, `-`, `@`, tab,
 * CR, as spreadsheets add to defuse formulas) removed, control characters removed, whitespace trimmed.
 */
export function cleanHeader(raw: string): string {
  return raw
    .replace(/^[=+\-@\t\r]/, '')
    .replace(/\p{Cc}/gu, '')
    .trim();
}

/** Cleaned names made unique the way the existing mapper does: the second `x` is `x_1`, the third `x_2`. */
export function cleanHeaders(raw: readonly string[]): string[] {
  const seen = new Set<string>();
  return raw.map((name) => {
    const cleaned = cleanHeader(name);
    let unique = cleaned;
    for (let n = 1; seen.has(unique); n++) unique = `${cleaned}_${n}`;
    seen.add(unique);
    return unique;
  });
}
