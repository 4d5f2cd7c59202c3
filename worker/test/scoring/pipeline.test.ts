import { Writable } from 'node:stream';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_ROWS, loadModel, OUTPUT_COLUMNS, scoreCsv, type ChurnModel } from '../../src/scoring/index.js';
import { chunked, fixture, inputError, MemorySink, scoreText } from './helpers.js';

let model: ChurnModel;
beforeAll(async () => {
  model = await loadModel();
});

const HEADER = 'customerID,tenure,MonthlyCharges,TotalCharges,Contract';

describe('scoreCsv on each input shape', () => {
  it('scores the full Telco shape with the full variant and writes the 18 columns', async () => {
    const { text, summary, rows } = await scoreText(model, await fixture('telco-sample.csv'));
    expect(text.split('\n')[0]).toBe(OUTPUT_COLUMNS.join(','));
    expect(summary).toMatchObject({ originalRows: 26, rowsProcessed: 26, variant: 'full', imputedCells: 2 });
    expect(summary.riskCounts.High + summary.riskCounts.Medium + summary.riskCounts.Low).toBe(26);
    expect(summary.modelVersion).toBe(model.manifest.model_version);
    expect(rows.map((r) => r.customerID)).toEqual(rows.map((r) => r.customer_id));
    expect(rows[0]?.customerID).toBe('7590-VHVEG');
    // the Telco file's blank TotalCharges (" ") is imputed, not a failure (lessons #17)
    expect(rows.find((r) => r.customerID === '3115-CZMZD')?.risk_factors).toBeDefined();
  });

  it('scores a SaaS file through its aliases, with engagement signals that do not move the score', async () => {
    const input = (await fixture('saas-aliases.csv')).toString();
    const { summary, rows } = await scoreText(model, input);
    expect(summary.variant).toBe('saas');
    expect(summary.mappedColumns).toMatchObject({
      customerID: 'user_id',
      tenure: 'months_subscribed',
      MonthlyCharges: 'mrr',
      TotalCharges: 'total_revenue',
      Contract: 'plan_type',
      PaymentMethod: 'payment_type',
      feature_usage_score: 'feature_usage_score',
    });
    const user6 = rows.find((r) => r.customerID === 'user_0006');
    const risks = JSON.parse(user6?.risk_factors ?? '[]') as {
      factor: string;
      message: string;
      source: string;
    }[];
    expect(risks.filter((f) => f.source === 'engagement_signal').map((f) => f.factor)).toEqual([
      'low_product_usage',
      'high_support_needs',
      'inactive_user',
      'no_integrations',
      'trial_not_converted',
    ]);
    expect(risks.find((f) => f.factor === 'low_product_usage')?.message).toBe(
      'Low usage (22%) indicates customer not getting value (engagement signal, not part of the churn score)',
    );
    const protective = JSON.parse(user6?.protective_factors ?? '[]') as { factor: string; source: string }[];
    expect(protective.map((f) => f.factor)).toContain('high_seat_utilization');
    expect(protective.map((f) => f.factor)).not.toContain('has_integrations');

    // Dropping every engagement column leaves every probability exactly as it was.
    const lines = input
      .trim()
      .split('\n')
      .map((line) =>
        line
          .split(/,(?=(?:[^"]*"[^"]*")*[^"]*$)/)
          .slice(0, 7)
          .join(','),
      );
    const without = await scoreText(model, lines.join('\n') + '\n');
    expect(without.rows.map((r) => r.churn_probability)).toEqual(rows.map((r) => r.churn_probability));
  });

  it('scores a required-only file with the core variant, reading ids as text and neutralising formulas', async () => {
    const { rows, summary } = await scoreText(model, await fixture('required-only.csv'));
    expect(summary.variant).toBe('core');
    expect(rows.map((r) => r.customerID)).toEqual([
      '00123',
      '00124',
      `'=HYPERLINK("x")`,
      "'-5",
      "'@id",
      'id, with comma',
    ]);
    expect(rows.map((r) => r.customer_id)).toEqual(rows.map((r) => r.customerID));
    expect(summary.imputedCells).toBe(1);
  });
});

describe('factor texts', () => {
  it('show out-of-range values clipped to the model range, as the score reads them, and say so', async () => {
    const { rows } = await scoreText(model, await fixture('out-of-range.csv'));
    const messages = [rows[0]?.risk_factors, rows[0]?.protective_factors].flatMap((cell) =>
      (JSON.parse(cell ?? '[]') as { message: string }[]).map((f) => f.message),
    );
    expect(messages).toEqual(
      expect.arrayContaining([
        '0 months tenure (or less, value out of range) - early high-risk period',
        'High monthly charges ($118.65 or more, value out of range)',
        'Low total charges to date ($18.80 or less, value out of range)',
      ]),
    );
  });
});

describe('results JSON', () => {
  // The JSON cells are written with their quotes pre-doubled, which is only valid if every factor text
  // the library writes is free of quotes, backslashes and control characters.
  it.each(['telco-sample.csv', 'saas-aliases.csv', 'required-only.csv'])(
    'is strict JSON on every row of %s',
    async (name) => {
      const { rows } = await scoreText(model, await fixture(name));
      for (const row of rows) {
        const factors = [row.risk_factors, row.protective_factors].flatMap(
          (cell) => JSON.parse(cell ?? '') as { factor: string; impact: string; message: string }[],
        );
        for (const f of factors) expect(`${f.factor}${f.impact}${f.message}`).toMatch(/^[^"\\\p{Cc}]+$/u);
        const explanation = JSON.parse(row.explanation ?? '') as { summary: string; customer_id: string };
        expect(explanation.summary).toBe(row.summary);
        expect(explanation.customer_id).toBe(row.customerID?.replace(/^'/, ''));
      }
    },
  );
});

describe('scoreCsv parsing rules', () => {
  const rowsOf = async (input: string | Uint8Array, chunkSize?: number) =>
    (await scoreText(model, input, chunkSize)).rows;

  it('accepts CRLF, a BOM, quoted commas and line breaks, and skips blank lines and empty records', async () => {
    const input = `\ufeff${HEADER}\r\n"a,1",1,20,20,Monthly\r\n\r\n"b\nc",2,30,60,Annual\r\n,,,,\r\n`;
    const rows = await rowsOf(input);
    expect(rows.map((r) => r.customerID)).toEqual(['a,1', 'b\nc']);
    const { summary } = await scoreText(model, input);
    expect(summary).toMatchObject({ originalRows: 3, rowsProcessed: 2 });
  });

  it('reads short rows as missing trailing cells and ignores empty extra cells', async () => {
    const { rows, summary } = await scoreText(model, `${HEADER}\nshort,5,20\nextra,5,20,100,Monthly,,\n`);
    // short: TotalCharges and Contract imputed, about half of the core variant's weight
    expect(rows.map((r) => [r.customerID, r.confidence])).toEqual([
      ['short', 'medium'],
      ['extra', 'high'],
    ]);
    expect(summary.imputedCells).toBe(2);
  });

  it('reads a Windows-1252 file and reports its encoding', async () => {
    const { rows, summary } = await scoreText(model, await fixture('latin1.csv'));
    expect(rows.map((r) => r.customerID)).toEqual(['c1', 'cé']);
    expect(summary.inputEncoding).toBe('windows-1252');
    expect((await scoreText(model, await fixture('required-only.csv'))).summary.inputEncoding).toBe('utf-8');
  });

  it('reads decimal commas in a semicolon file as the same numbers as the comma file', async () => {
    // the first ten Telco rows, saved by a European Excel: ";" delimiters, "29,85", "1.889,50", "5 681,10"
    const european = (await fixture('semicolon-decimal-comma.csv')).toString();
    const telco = await scoreText(model, await fixture('telco-sample.csv'));
    const expected = telco.rows.slice(0, 10);
    for (const input of [european, `sep=;\r\n${european}`]) {
      const { rows, summary } = await scoreText(model, input);
      expect(summary.imputedCells).toBe(0);
      expect(rows).toEqual(expected);
      expect(summary).toMatchObject({ inputDelimiter: ';', decimalSeparator: ',' });
    }
    expect(telco.summary).toMatchObject({ inputDelimiter: ',', decimalSeparator: '.' });
  });

  it('gives the same bytes for any chunking, a multi-byte character split across chunks included', async () => {
    const input = Buffer.from(`${HEADER}\nJosé-ü-€-𝄞,5,20,100,Monthly\nb,1,1,1,Annual\n`);
    const whole = await scoreText(model, input);
    for (const size of [1, 2, 3, 7, 64]) expect((await scoreText(model, input, size)).text).toBe(whole.text);
    expect(whole.rows[0]?.customerID).toBe('José-ü-€-𝄞');
    expect(JSON.parse(whole.rows[0]?.explanation ?? '{}')).toMatchObject({ customer_id: 'José-ü-€-𝄞' });
  });

  it('reads quoted cells, doubled quotes and CRLF the same for any chunking', async () => {
    const input = Buffer.from(`${HEADER}\r\n"q ""1"", x",5,20,100,"Month-to-month"\r\nb,1,1,1,Annual\r\n`);
    const whole = await scoreText(model, input);
    expect(whole.rows.map((r) => r.customerID)).toEqual(['q "1", x', 'b']);
    for (const size of [1, 2, 5, 13]) expect((await scoreText(model, input, size)).text).toBe(whole.text);
  });

  it('is deterministic: the same input gives the same bytes', async () => {
    const input = await fixture('telco-sample.csv');
    expect((await scoreText(model, input)).text).toBe((await scoreText(model, input, 100)).text);
  });
});

describe('scoreCsv input errors', () => {
  it.each([
    ['empty.csv', 'empty_file', /^The CSV file is empty\./],
    ['header-only.csv', 'no_data_rows', /^CSV has no data rows\./],
    [
      'missing-columns.csv',
      'missing_columns',
      /^Missing required columns: TotalCharges, Contract\. Please ensure/,
    ],
    ['shifted-columns.csv', 'malformed_csv', /^Record 3 has 6 fields but the header has 5\./],
    ['unclosed-quote.csv', 'malformed_csv', /a double quote is not closed/],
  ])('%s → %s', async (name, code, message) => {
    const error = await inputError(scoreCsv(model, chunked(await fixture(name)), new MemorySink()));
    expect(error.code).toBe(code);
    expect(error.message).toMatch(message);
  });

  it('fails on text after a closing quote, at any chunking', async () => {
    const bytes = Buffer.from(`${HEADER}\na,1,1,1,Monthly\n"b"c,1,1,1,Monthly\nd,1,1,1,Monthly\n`);
    for (const size of [4, 64 * 1024]) {
      const error = await inputError(scoreCsv(model, chunked(bytes, size), new MemorySink()));
      expect(error.code).toBe('malformed_csv');
      expect(error.message).toMatch(/near line 3/);
    }
  });

  it('fails on a truncated multi-byte character at the end of a UTF-8 file', async () => {
    const bytes = Buffer.concat([Buffer.from(`${HEADER}\né,1,1,1,Monthly\nc`), Buffer.from([0xe2, 0x82])]);
    expect((await inputError(scoreCsv(model, chunked(bytes, 5), new MemorySink()))).code).toBe('encoding');
  });

  it('fails cleanly on a record larger than the limit', async () => {
    const input = `${HEADER}\n"${'x'.repeat(1024 * 1024 + 10)}",1,1,1,Monthly\n`;
    const error = await inputError(scoreCsv(model, chunked(Buffer.from(input)), new MemorySink()));
    expect(error.code).toBe('line_too_long');
  });

  it('treats a file whose only records are empty as having no data rows', async () => {
    expect(
      (await inputError(scoreCsv(model, chunked(Buffer.from(`${HEADER}\n,,,,\n ,,,,\n`)), new MemorySink())))
        .code,
    ).toBe('no_data_rows');
  });

  it('never puts cell values in a message', async () => {
    const error = await inputError(
      scoreCsv(model, chunked(Buffer.from(`${HEADER}\nsecret-id,1,2,secret value,3,4\n`)), new MemorySink()),
    );
    expect(error.message).not.toContain('secret');
  });
});

describe('scoreCsv streaming', () => {
  const manyRows = (n: number): Buffer =>
    Buffer.from(
      HEADER +
        '\n' +
        Array.from({ length: n }, (_, i) => `c${i},${i % 72},${20 + (i % 90)},${i * 10},Monthly`).join('\n'),
    );

  it('waits for a slow sink and reports progress per batch', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const chunks: Buffer[] = [];
    const slow = new Writable({
      highWaterMark: 1024,
      write(chunk: Buffer, _, callback) {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        chunks.push(chunk);
        setTimeout(() => {
          inFlight--;
          callback();
        }, 2);
      },
    });
    const progress: number[] = [];
    const summary = await scoreCsv(model, chunked(manyRows(5000)), slow, {
      onProgress: (n) => progress.push(n),
    });
    expect(summary.rowsProcessed).toBe(5000);
    const batches = Math.ceil(5000 / BATCH_ROWS);
    expect(progress).toEqual(Array.from({ length: batches }, (_, i) => Math.min(5000, (i + 1) * BATCH_ROWS)));
    expect(maxInFlight).toBe(1);
    expect(Buffer.concat(chunks).toString().split('\n')).toHaveLength(5002);
  });

  it('fails instead of hanging when the sink is destroyed while it waits', async () => {
    const stuck = new Writable({ highWaterMark: 16, write: () => undefined });
    setTimeout(() => stuck.destroy(new Error('upload failed')), 20);
    await expect(scoreCsv(model, chunked(manyRows(3000)), stuck)).rejects.toThrow('upload failed');
  });

  it('stops when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('job timed out'));
    await expect(
      scoreCsv(model, chunked(manyRows(10)), new MemorySink(), { signal: controller.signal }),
    ).rejects.toThrow('job timed out');
  });
});
