import { describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, openCsv, type ByteSource } from '../../src/scoring/csv-reader.js';
import { chunked, fixture, inputError } from './helpers.js';

const CHUNK = 64 * 1024;

/** `total` bytes of `byte` in 64 KiB chunks, counting how many chunks the reader pulled. */
function endless(byte: string, total: number): { source: ByteSource; pulled: () => number } {
  let pulled = 0;
  const chunk = Buffer.alloc(CHUNK, byte);
  function* chunks(): Generator<Uint8Array> {
    for (let sent = 0; sent < total; sent += CHUNK) {
      pulled++;
      yield chunk;
    }
  }
  return { source: chunks(), pulled: () => pulled };
}

describe('record size limit', () => {
  it('fails a file with no line break as soon as it passes the limit, without reading the rest', async () => {
    const input = endless('x', 16 * MAX_RECORD_BYTES);
    const error = await inputError(openCsv(input.source));
    expect(error.code).toBe('line_too_long');
    expect(error.message).toMatch(/^A record near line 1 is larger than 1 MiB/);
    expect(input.pulled()).toBeLessThanOrEqual(MAX_RECORD_BYTES / CHUNK + 2);
  });
});

/** Header and every data record of a file delivered in `size`-byte chunks. */
async function readAll(bytes: Uint8Array, size?: number): Promise<string[][]> {
  const csv = await openCsv(chunked(bytes, size));
  const records = [[...csv.header]];
  for await (const batch of csv.batches(100)) records.push(...batch);
  return records;
}

describe('line breaks', () => {
  it('ends a record at every CR, LF and CRLF in one file, as pandas does, at any chunking', async () => {
    // header CRLF; rows LF, CR, CRLF; a quoted LF; an LF then a CR (an empty line); no final break
    const bytes = await fixture('mixed-line-endings.csv');
    const expected = [
      ['customerID', 'tenure', 'MonthlyCharges', 'TotalCharges', 'Contract'],
      ['lf', '1', '20', '20', 'Month-to-month'],
      ['cr', '2', '30', '60', 'One year'],
      ['crlf', '3', '40', '120', 'Two year'],
      ['quoted\nid', '4', '50', '200', 'Month-to-month'],
      ['last', '5', '60', '300', 'One year'],
    ];
    for (const size of [1, 2, 3, 7, 64, CHUNK]) expect(await readAll(bytes, size)).toEqual(expected);
  });
});
