import { Parser } from 'csv-parse';
import Papa from 'papaparse';

/**
 * Parse-only baselines over chunks of file bytes: each returns the number of data records and keeps none,
 * so they measure the parsers alone. csv-parse in array mode is the fixed reference of the benchmark targets.
 */

export function csvParseRecords(chunks: readonly Uint8Array[]): number {
  const parser = new Parser({
    bom: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  let n = 0;
  for (const chunk of chunks) {
    parser.write(chunk);
    while (parser.read() !== null) n++;
  }
  parser.end();
  while (parser.read() !== null) n++;
  return n - 1;
}

/** Papa Parse's core parser driven as the scoring reader drives it (carry + piece, ignoreLastRow). */
export function papaParseRecords(chunks: readonly Uint8Array[]): number {
  const parser = new Papa.Parser({ delimiter: ',', newline: '\n', quoteChar: '"' });
  const decoder = new TextDecoder('utf-8', { ignoreBOM: false });
  let carry = '';
  let n = 0;
  for (const chunk of chunks) {
    const text = carry + decoder.decode(chunk, { stream: true });
    const result = parser.parse(text, 0, true) as { data: unknown[]; meta: { cursor: number } };
    n += result.data.length;
    carry = text.slice(result.meta.cursor);
  }
  if (carry !== '') n += (parser.parse(carry, 0, false) as { data: unknown[] }).data.length;
  return n - 1;
}

export function chunksOf(bytes: Buffer, size = 64 * 1024): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return chunks;
}
