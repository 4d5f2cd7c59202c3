import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { once } from 'node:events';
import { parse } from 'csv-parse';

/**
 * Writes a deterministic Telco-shaped CSV of `rows` data rows by cycling through the training file.
 * Each cycle suffixes the customer id (so ids stay unique) and adds a cent per cycle to TotalCharges, so that,
 * as in a real customer base, nearly every row has a total of its own: an accumulated amount hardly ever repeats
 * (5,284 distinct among the training file's 5,634 rows), and a file that repeated 5,634 totals would let every
 * per-value cache of the explainer and the row writer hit, which no customer's file does. Like many exporters,
 * fields that contain spaces are quoted, so the benchmark exercises the parser's quoted-field path as well.
 */
export async function generateTelcoCsv(source: string, target: string, rows: number): Promise<number> {
  const records: string[][] = [];
  for await (const record of createReadStream(source).pipe(parse({ relax_column_count: false }))) {
    records.push(record as string[]);
  }
  const [header, ...data] = records;
  if (!header || data.length === 0) throw new Error(`${source} has no data rows`);
  const total = header.indexOf('TotalCharges');
  if (header[0] !== 'customerID' || total < 1) throw new Error(`${source} is not the Telco training file`);
  const quote = (cell: string): string => (cell.includes(' ') ? `"${cell}"` : cell);
  const before = data.map((record) => record.slice(1, total).map(quote).join(','));
  const after = data.map((record) =>
    record
      .slice(total + 1)
      .map(quote)
      .join(','),
  );
  const totals = data.map((record) => record[total] ?? '');
  const ids = data.map((record) => record[0] ?? '');
  /** the first cycle as the training file has it; later ones a cent per cycle more, a blank (` `) left blank */
  const totalIn = (j: number, cycle: number): string => {
    const text = totals[j] as string;
    const cents = Math.round(Number(text) * 100);
    return cycle === 0 || text.trim() === '' || !Number.isFinite(cents)
      ? quote(text)
      : String((cents + cycle) / 100);
  };

  await mkdir(dirname(target), { recursive: true });
  const out = createWriteStream(target);
  out.write(header.join(',') + '\n');
  const chunk: string[] = [];
  for (let i = 0; i < rows; i++) {
    const j = i % data.length;
    const cycle = Math.floor(i / data.length);
    chunk.push(`${ids[j]}-${cycle},${before[j]},${totalIn(j, cycle)},${after[j]}\n`);
    if (chunk.length === 4096 || i === rows - 1) {
      if (!out.write(chunk.join(''))) await once(out, 'drain');
      chunk.length = 0;
    }
  }
  out.end();
  await once(out, 'finish');
  return (await stat(target)).size;
}
