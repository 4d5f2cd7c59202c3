import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { parse } from 'csv-parse';

/**
 * Writes a deterministic Telco-shaped CSV of `rows` data rows by cycling through the training file.
 * Each cycle suffixes the customer id (so ids stay unique) and, like many exporters, fields that contain
 * spaces are quoted, so the benchmark exercises the parser's quoted-field path as well.
 */
export async function generateTelcoCsv(source: string, target: string, rows: number): Promise<number> {
  const records: string[][] = [];
  for await (const record of createReadStream(source).pipe(parse({ relax_column_count: false }))) {
    records.push(record as string[]);
  }
  const [header, ...data] = records;
  if (!header || data.length === 0) throw new Error(`${source} has no data rows`);
  const quote = (cell: string): string => (cell.includes(' ') ? `"${cell}"` : cell);
  const lines = data.map((record) => record.slice(1).map(quote).join(','));
  const ids = data.map((record) => record[0] ?? '');

  await mkdir(dirname(target), { recursive: true });
  const out = createWriteStream(target);
  out.write(header.join(',') + '\n');
  const chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    const j = i % lines.length;
    chunk.push(`${ids[j]}-${Math.floor(i / lines.length)},${lines[j]}\n`);
    if (chunk.length === 4096 || i === rows - 1) {
      if (!out.write(chunk.join(''))) await once(out, 'drain');
      chunk.length = 0;
    }
  }
  out.end();
  await once(out, 'finish');
  return (await stat(target)).size;
}
