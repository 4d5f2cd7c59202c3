/** A plain text table: a header, aligned columns, no borders (readable in a terminal and in a ticket). */
export function table(header: string[], rows: (string | number)[][]): string {
  if (rows.length === 0) return '';
  const cells = [header, ...rows.map((row) => row.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  return cells
    .map((row) =>
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}
