import { describe, expect, it } from 'vitest';
import { canonicalColumn } from '../../src/scoring/canonical-columns.js';
import {
  contract,
  isMissingCell,
  MISSING_CATEGORY,
  numberParser,
  parseNumber,
  yesNo,
} from '../../src/scoring/values.js';

const label = (column: string, cell: string): string | undefined => {
  const value = canonicalColumn(column)?.value;
  if (value?.kind !== 'category') throw new Error(`${column} is not categorical`);
  const parser = value.parser();
  const code = parser.parse(cell);
  return code === MISSING_CATEGORY ? undefined : parser.labels[code];
};

describe('numbers (contracts.md §B, lessons #17)', () => {
  it.each([
    ['42', 42],
    ['29.85', 29.85],
    ['-3', -3],
    ['.5', 0.5],
    ['7.', 7],
    ['$1,234.50', 1234.5],
    [' 1,234.50 ', 1234.5],
    ['$ 99', 99],
    ['1 234', 1234],
    ['12,345,678', 12345678],
    ['£12.00', 12],
    ['€7', 7],
    ['1e3', 1000],
    ['+5', 5],
  ])('reads %j as %d', (cell, expected) => {
    expect(parseNumber(cell)).toBe(expected);
  });

  it.each([
    '',
    ' ',
    '   ',
    'NA',
    'N/A',
    'n/a',
    'NULL',
    'null',
    'NaN',
    'nan',
    'None',
    '#N/A',
    '<NA>',
    'abc',
    '29,85',
    '1,23',
    '12 months',
    '0x1A',
    'Infinity',
    '1e999',
    '(5)',
    '5%',
    '--1',
  ])('reads %j as missing', (cell) => {
    expect(parseNumber(cell)).toBeNaN();
  });

  describe('with a decimal comma (semicolon files)', () => {
    const parse = numberParser(',');
    it.each([
      ['42', 42],
      ['29,85', 29.85],
      ['-3,5', -3.5],
      [',5', 0.5],
      ['7,', 7],
      ['1.234,50', 1234.5],
      ['12.345.678', 12345678],
      ['1 234,50', 1234.5],
      ['1\u00a0234,50', 1234.5],
      ['€ 29,85', 29.85],
      ['29,85 €', 29.85],
      ['+5', 5],
      ['1,5e3', 1500],
      // a dot no thousands group could have is a decimal point
      ['29.85', 29.85],
      ['0.123', 0.123],
      ['1234.567', 1234.567],
      ['0,1', 0.1],
      ['123456789012,345', 123456789012.345],
      // past 15 digits the string path reads it, as Number() would
      ['1234567890123,4567', Number('1234567890123.4567')],
    ])('reads %j as %d', (cell, expected) => {
      expect(parse(cell)).toBe(expected);
    });

    it.each([
      '',
      ' ',
      'NA',
      'abc',
      '1.234',
      '-12.345',
      '1,234.50',
      '1.23,4',
      '1,2,3',
      '29,85,',
      '-',
      ',',
      '1e999',
    ])('reads %j as missing', (cell) => {
      expect(parse(cell)).toBeNaN();
    });

    it('reads a decimal comma as the same double as the decimal point', () => {
      for (let cents = 0; cents < 200_000; cents += 7) {
        const text = (cents / 100).toFixed(2);
        expect(parse(text.replace('.', ','))).toBe(Number(text));
      }
    });
  });

  it('treats empty, whitespace-only and NA-token cells as missing', () => {
    for (const cell of ['', ' ', '\t', 'NA', 'n/a', 'NULL', 'NaN', 'None', '#N/A', '<NA>', ' null ']) {
      expect(isMissingCell(cell)).toBe(true);
    }
    for (const cell of ['0', 'No', 'x', '-']) expect(isMissingCell(cell)).toBe(false);
  });
});

// pandas' NA tokens (read_csv's default na_values), the definition the reader's fast path must agree with
const NA_SPELLINGS = ['', 'NA', 'N/A', '#N/A', '#N/A N/A', '#NA', '<NA>', 'NULL', 'NaN', '-NaN', 'None'];
const NA_SPELLINGS_MORE = ['-1.#IND', '1.#IND', '-1.#QNAN', '1.#QNAN', 'nan', 'null', 'n/a'];
const missingByDefinition = (cell: string): boolean =>
  [...NA_SPELLINGS, ...NA_SPELLINGS_MORE].map((t) => t.toLowerCase()).includes(cell.trim().toLowerCase());

describe('missing cells', () => {
  it('are exactly the cells whose trimmed text is an NA token in any case, whatever they start with', () => {
    const tokens = [...NA_SPELLINGS, ...NA_SPELLINGS_MORE];
    const around = ['', ' ', '\t', '\u00a0', '\ufeff', '\u2028', '\u3000'];
    for (const token of tokens)
      for (const before of around)
        for (const spelled of [token, token.toLowerCase(), token.toUpperCase()])
          expect(isMissingCell(`${before}${spelled}${before}`)).toBe(true);
    const wrong: string[] = [];
    for (let c = 0; c < 0x3100; c++) {
      for (const rest of ['', 'a', 'ull', '/a', '.#ind', 'A', ' 12']) {
        const cell = String.fromCharCode(c) + rest;
        if (isMissingCell(cell) !== missingByDefinition(cell)) wrong.push(JSON.stringify(cell));
      }
    }
    expect(wrong).toEqual([]);
  });
});

describe('Yes/No columns', () => {
  const parser = yesNo();
  const read = (cell: string): string | undefined => parser.labels[parser.parse(cell)];
  it.each(['Yes', 'yes', 'YES', ' y ', 'Y', 'true', 'TRUE', 'True', '1', '1.0'])('%j is Yes', (cell) => {
    expect(read(cell)).toBe('Yes');
  });
  it.each(['No', 'no', 'NO', 'n', 'N', 'false', 'False', 'FALSE', '0', '0.0'])(
    '%j is No, never yes',
    (cell) => {
      expect(read(cell)).toBe('No');
    },
  );
  it.each(['', 'maybe', '2', '-1', 'NA', 'nope', 'yess'])('%j is missing', (cell) => {
    expect(parser.parse(cell)).toBe(MISSING_CATEGORY);
  });
  it("reads the Telco file's SeniorCitizen 0/1 and the SaaS flags as Yes/No", () => {
    expect(label('SeniorCitizen', '0')).toBe('No');
    expect(label('SeniorCitizen', '1')).toBe('Yes');
    expect(label('has_integration', 'No')).toBe('No');
    expect(label('trial_converted', 'TRUE')).toBe('Yes');
  });
});

describe('contracts (csv-io §5 synonyms, case- and spacing-insensitive)', () => {
  const parser = contract();
  const read = (cell: string): string | undefined => parser.labels[parser.parse(cell)];
  it.each([
    ...[
      'Month-to-month',
      'month-to-month',
      'MONTH TO MONTH',
      'Monthly',
      'MONTHLY',
      'monthly',
      'Professional',
      'Starter',
      'Basic',
      'Free',
      'M2M',
      'MTM',
      'Quarterly',
      'quarterly',
    ].map((c) => [c, 'Month-to-month']),
    ...[
      'One year',
      'One Year',
      'one-year',
      ' Annual',
      'Annual',
      'ANNUAL',
      'annual',
      'Yearly',
      'YEARLY',
      'yearly',
      '1-year',
      '1 year',
      'Enterprise',
      'Premium',
    ].map((c) => [c, 'One year']),
    ...[
      'Two year',
      'Two Year',
      'two years',
      'Two years',
      '2-year',
      '2 years',
      'Multi-year',
      'multi year',
    ].map((c) => [c, 'Two year']),
  ])('%j → %s', (cell, expected) => {
    expect(read(cell)).toBe(expected);
  });
  it.each(['', 'Quarter', 'weekly', 'Lifetime', '3-year', 'NA'])('%j is missing', (cell) => {
    expect(parser.parse(cell)).toBe(MISSING_CATEGORY);
  });
});

describe('Telco categoricals keep the Telco labels', () => {
  it.each([
    ['gender', 'female', 'Female'],
    ['gender', 'M', 'Male'],
    ['MultipleLines', 'no phone service', 'No phone service'],
    ['MultipleLines', 'true', 'Yes'],
    ['InternetService', 'fiber optic', 'Fiber optic'],
    ['InternetService', 'FIBER  OPTIC', 'Fiber optic'],
    ['InternetService', 'dsl', 'DSL'],
    ['InternetService', 'no', 'No'],
    ['OnlineSecurity', 'No internet service', 'No internet service'],
    ['TechSupport', 'YES', 'Yes'],
    ['PaymentMethod', 'electronic check', 'Electronic check'],
    ['PaymentMethod', 'Bank transfer (automatic)', 'Bank transfer (automatic)'],
    ['PaymentMethod', 'credit card (AUTOMATIC)', 'Credit card (automatic)'],
  ])('%s %j → %j', (column, cell, expected) => {
    expect(label(column, cell)).toBe(expected);
  });
  it.each([
    ['gender', 'other'],
    ['InternetService', 'Cable'],
    ['PaymentMethod', 'Bitcoin'],
    ['OnlineBackup', 'maybe'],
  ])('%s %j is missing', (column, cell) => {
    expect(label(column, cell)).toBeUndefined();
  });
});

describe('one parser over a whole file', () => {
  // A parser remembers the spellings it has read; a file with many spellings (and free text past every
  // cache) must read each cell exactly as a fresh parser would.
  it('reads every cell as a fresh parser would, however many spellings it has seen', () => {
    const spellings = ['Month-to-month', 'monthly', 'Two year', 'annual', 'MTM', '', 'Weekly', 'two years'];
    const cells = [
      ...spellings,
      ...Array.from({ length: 2000 }, (_, i) => `free text ${i}`),
      ...spellings,
      'ANNUAL',
      ...spellings.reverse(),
    ];
    const shared = contract();
    expect(cells.map((cell) => shared.parse(cell))).toEqual(cells.map((cell) => contract().parse(cell)));
    expect(shared.parse('monthly')).toBe(shared.labels.indexOf('Month-to-month'));
    expect(shared.parse('free text 1999')).toBe(MISSING_CATEGORY);
  });
});
