/**
 * What long commands (`score`, `npm start --file`) tell a person watching: one line redrawn in place while rows
 * are scored, and which input column fed which model field. The line is drawn only on a terminal: piped into a
 * file or a CI log, carriage returns would be noise.
 */

export interface ProgressLine {
  update(rows: number): void;
  /** erases the line, so whatever is written next starts on a clean one */
  clear(): void;
}

/** a redraw per scored batch would flood a slow terminal; ten a second still reads as live */
const REDRAW_MS = 100;

const number = (n: number): string => n.toLocaleString('en-US');

export function progressLine(
  stream: NodeJS.WriteStream,
  now: () => number = () => performance.now(),
): ProgressLine {
  if (!stream.isTTY) return { update: () => undefined, clear: () => undefined };
  const started = now();
  let drawnAt = -Infinity;
  let drawn = false;
  return {
    update(rows) {
      const at = now();
      if (at - drawnAt < REDRAW_MS) return;
      drawnAt = at;
      const seconds = (at - started) / 1000;
      const rate = seconds > 0 ? Math.round(rows / seconds) : 0;
      stream.write(`\r\x1b[K${number(rows)} rows, ${number(rate)} rows/s, ${seconds.toFixed(1)} s elapsed`);
      drawn = true;
    },
    clear() {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
    },
  };
}

/**
 * `Columns: plan_type → Contract, …; 7 more by their own names` from a summary's canonical field → input
 * header map: the renamed ones are what a user needs to check.
 */
export function describeMapping(mapped: Readonly<Record<string, string>>): string {
  const entries = Object.entries(mapped);
  const renamed = entries.filter(([field, header]) => field !== header);
  const same = entries.length - renamed.length;
  if (renamed.length === 0) return `Columns: all ${same} by their own names`;
  const list = renamed.map(([field, header]) => `${header} → ${field}`).join(', ');
  return `Columns: ${list}${same > 0 ? `; ${same} more by their own names` : ''}`;
}
