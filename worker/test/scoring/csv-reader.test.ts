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

describe('delimiters', () => {
  const HEADER = ['customerID', 'tenure', 'MonthlyCharges', 'TotalCharges', 'Contract'];

  it.each([
    ['semicolon.csv', [HEADER, ['c1', '1', '29,85', '29,85', 'Month-to-month']]],
    ['tab-separated.csv', [HEADER, ['c1', '1', '29.85', '29.85', 'Month-to-month']]],
    ['pipe-separated.csv', [HEADER, ['c1', '1', '29.85', '29.85', 'Month-to-month']]],
    // Excel's "sep=;" first line names the delimiter and is not the header
    ['excel-sep-line.csv', [HEADER, ['c1', '1', '29,85', '29,85', 'Month-to-month']]],
    [
      'comma-with-semicolons.csv',
      [
        [...HEADER, 'note'],
        ['c1', '1', '29.85', '29.85', 'Month-to-month', 'a;b;c'],
      ],
    ],
  ])('detects the delimiter of %s from its header and first records', async (name, expected) => {
    expect((await readAll(await fixture(name))).slice(0, 2)).toEqual(expected);
  });

  it('keeps quoted semicolons in a semicolon file', async () => {
    expect((await readAll(await fixture('semicolon.csv')))[3]?.[0]).toBe('c;3');
  });

  it('names the detected delimiter when a record has extra values', async () => {
    const bytes = Buffer.from(`${HEADER.join(';')}\nc1;1;2;3;Monthly\nc2;1;2;3;Monthly;x\n`);
    const error = await inputError(readAll(bytes));
    expect(error.message).toBe(
      'Record 3 has 6 fields but the header has 5. Enclose values that contain semicolons in double quotes and upload again.',
    );
  });
});
