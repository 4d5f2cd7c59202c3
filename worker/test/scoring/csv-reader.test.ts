import { gzipSync } from 'node:zlib';
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

/** Header and every data record of a file delivered in `size`-byte chunks, and the encoding it was read in. */
async function read(bytes: Uint8Array, size?: number): Promise<{ records: string[][]; encoding: string }> {
  const csv = await openCsv(chunked(bytes, size));
  const records = [[...csv.header]];
  for await (const batch of csv.batches(100)) records.push(...batch);
  return { records, encoding: csv.encoding };
}

const readAll = async (bytes: Uint8Array, size?: number): Promise<string[][]> =>
  (await read(bytes, size)).records;

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

  it.each([
    ['semicolon.csv', ';', ','],
    ['excel-sep-line.csv', ';', ','],
    ['tab-separated.csv', '\t', '.'],
    ['pipe-separated.csv', '|', '.'],
    ['comma-with-semicolons.csv', ',', '.'],
  ])('reads %s with delimiter %j and decimal mark %j', async (name, delimiter, decimal) => {
    const csv = await openCsv(chunked(await fixture(name)));
    expect(csv.dialect).toEqual({ delimiter, decimal });
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

describe('encodings', () => {
  const text = 'customerID\tContract\r\nJosé’s €1\tOne year\r\n';
  const records = [
    ['customerID', 'Contract'],
    ['José’s €1', 'One year'],
  ];
  const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
  const utf16be = Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);
  // Windows-1252 bytes of the same text: é E9, ’ 92, € 80 (WHATWG Encoding, index-windows-1252)
  const cp1252 = Buffer.from(text.replace('’', '\x92').replace('€', '\x80'), 'latin1');

  it.each([
    ['UTF-16LE with a BOM (Excel "Unicode Text")', utf16le, 'utf-16le'],
    ['UTF-16BE with a BOM', utf16be, 'utf-16be'],
    ['Windows-1252', cp1252, 'windows-1252'],
    ['UTF-8', Buffer.from(text), 'utf-8'],
  ])('reads %s at any chunking and reports the encoding', async (_, bytes, encoding) => {
    for (const size of [1, 3, CHUNK]) expect(await read(bytes, size)).toEqual({ records, encoding });
  });

  it('reads a Latin-1 export whose first accented letter comes after the first records', async () => {
    const { records: rows, encoding } = await read(await fixture('latin1.csv'), 16);
    expect(rows[2]?.[0]).toBe('cé');
    expect(encoding).toBe('windows-1252');
  });

  it('refuses binary data that no encoding reads as text', async () => {
    const binary = Buffer.from([...Buffer.from('customerID,tenure\n'), 0x00, 0x9d, 0xff, 0x01, 0x0a]);
    const error = await inputError(readAll(binary));
    expect(error.code).toBe('encoding');
    expect(error.message).toBe(
      'The file is not valid UTF-8 text (line 2, byte 20). Save it as "CSV UTF-8" and upload again.',
    );
  });

  it('refuses a UTF-8 file with an invalid byte after UTF-8 text, rather than guessing per line', async () => {
    const mixed = Buffer.concat([Buffer.from('customerID,city\nc1,Zürich\nc2,'), Buffer.from([0xe9, 0x0a])]);
    expect((await inputError(readAll(mixed))).message).toMatch(
      /^The file is not valid UTF-8 text \(line 3, byte 31\)/,
    );
  });

  it('refuses invalid UTF-16', async () => {
    const broken = Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('a,b\n', 'utf16le'),
      Buffer.from([0x00, 0xd8, 0x41, 0x00]),
    ]);
    const error = await inputError(readAll(broken));
    expect(error.code).toBe('encoding');
    expect(error.message).toBe('The file is not valid UTF-16 text. Save it as "CSV UTF-8" and upload again.');
  });
});

describe('files that are not CSV', () => {
  const csv = Buffer.from('customerID,tenure,MonthlyCharges,TotalCharges,Contract\nc1,1,20,20,Monthly\n');
  /** the start of a ZIP file: a local file header (PKWARE APPNOTE 4.3.7) naming `name` */
  const zipEntry = (name: string): Buffer => {
    const header = Buffer.alloc(30);
    header.writeUInt32LE(0x04034b50, 0);
    header.writeUInt16LE(name.length, 26);
    return Buffer.concat([header, Buffer.from(name)]);
  };
  const xlsx = Buffer.concat([
    zipEntry('[Content_Types].xml'),
    Buffer.alloc(300, 7),
    zipEntry('xl/workbook.xml'),
  ]);
  const xls = Buffer.concat([Buffer.from('d0cf11e0a1b11ae1', 'hex'), Buffer.alloc(504)]);

  it.each([
    [
      'a gzip file',
      gzipSync(csv),
      'The file is a gzip archive, not a CSV file. Extract the CSV from it and upload that.',
    ],
    [
      'an Excel workbook',
      xlsx,
      'The file is an Excel workbook, not a CSV file. Open it in Excel, save it as "CSV UTF-8" and upload that.',
    ],
    [
      'an Excel 97-2003 workbook',
      xls,
      'The file is an Excel 97-2003 workbook, not a CSV file. Open it in Excel, save it as "CSV UTF-8" and upload that.',
    ],
    [
      'another ZIP archive',
      zipEntry('customers.csv'),
      'The file is a ZIP archive, not a CSV file. Extract the CSV from it and upload that.',
    ],
    [
      'a JSON array',
      Buffer.from('\ufeff [\n  {"customerID": "c1", "tenure": 1}\n]\n'),
      'The file is JSON, not CSV. Export the data as CSV and upload that.',
    ],
    [
      'a JSON object',
      Buffer.from('{"customers": []}'),
      'The file is JSON, not CSV. Export the data as CSV and upload that.',
    ],
  ])('says the file is %s and what to do, at any chunking', async (_, bytes, message) => {
    for (const size of [1, CHUNK]) {
      const error = await inputError(readAll(bytes, size));
      expect([error.code, error.message]).toEqual(['not_csv', message]);
    }
  });

  it('still reads a CSV whose first header starts with a bracket', async () => {
    expect((await readAll(Buffer.from('[id],tenure\nc1,1\n')))[1]).toEqual(['c1', '1']);
  });
});
