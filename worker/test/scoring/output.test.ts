import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { beforeAll, describe, expect, it } from 'vitest';
import { ByteWriter } from '../../src/scoring/byte-writer.js';
import { IMPACT_THRESHOLDS, impactOf, type Factor } from '../../src/scoring/explain.js';
import { readManifest, type Manifest } from '../../src/scoring/manifest.js';
import { defaultModelDir } from '../../src/scoring/model.js';
import { pyFixed, pyRound } from '../../src/scoring/py-format.js';
import { contributionText, csvCell, OUTPUT_COLUMNS, textCell } from '../../src/scoring/output.js';
import { createRowFormatter, type RowFormatter } from '../../src/scoring/row-writer.js';

let manifest: Manifest;
let formatter: RowFormatter;
beforeAll(async () => {
  manifest = await readManifest(join(defaultModelDir(), 'manifest.json'));
  formatter = createRowFormatter(manifest);
});

const factor = (name: string, contribution: number, message = `${name} message`): Factor => ({
  factor: name,
  impact: impactOf(Math.abs(contribution)) ?? 'low',
  message,
  source: 'model',
  contribution,
});

function row(probability: number, risks: Factor[] = [], protective: Factor[] = [], customerId = 'c-1') {
  const out = new ByteWriter(0);
  formatter.write(out, { customerId, probability, explanation: { risks, protective }, confidence: 'high' });
  const line = out.finish().toString('utf8');
  const [cells] = parse<Record<string, string>>(formatter.header + line, { columns: true });
  return { line, cells: cells as Record<string, string> };
}

describe('results row (spec/csv-io.md §8)', () => {
  it('has the 17 columns in order plus customer_id', () => {
    expect(formatter.header).toBe(
      'customerID,risk_level,churn_risk_pct,recommendation,summary,key_risks,strengths,churn_probability,' +
        'retention_probability,retention_prediction,retention_score,confidence,model_type,model_version,' +
        'risk_factors,protective_factors,explanation,customer_id\n',
    );
    expect(OUTPUT_COLUMNS).toHaveLength(18);
  });

  // Model factors carry their contribution (4 decimals; the exact value is in the library's Explanation),
  // so they need no `source`; engagement signals, which have none, carry `"source": "engagement_signal"`.
  it('formats a high-risk row exactly', () => {
    const { line } = row(
      0.7,
      [
        factor('contract_month_to_month', 0.61234567, 'Month-to-month contract'),
        factor('tenure', 0.3, '2 months tenure - early high-risk period'),
      ],
      [factor('internet_service_dsl', -0.25, 'DSL internet service')],
    );
    expect(line).toBe(
      'c-1,High,70.0%,HIGH RISK - Immediate intervention needed,' +
        'HIGH RISK (70.0% churn probability). Immediate intervention recommended. Key concerns: Month-to-month contract; 2 months tenure - early high-risk period. Positive signs: DSL internet service.,' +
        '"Month-to-month contract, 2 months tenure - early high-risk period",DSL internet service,0.7,0.3,0,30,high,' +
        `${manifest.model_type},${manifest.model_version},` +
        '"[{""factor"": ""contract_month_to_month"", ""impact"": ""high"", ""message"": ""Month-to-month contract"", ""contribution"": 0.6123}, ' +
        '{""factor"": ""tenure"", ""impact"": ""medium"", ""message"": ""2 months tenure - early high-risk period"", ""contribution"": 0.3}]",' +
        '"[{""factor"": ""internet_service_dsl"", ""impact"": ""medium"", ""message"": ""DSL internet service"", ""contribution"": -0.25}]",' +
        '"{""customer_id"": ""c-1"", ""churn_probability"": 70.0, ""risk_level"": ""High"", ' +
        '""summary"": ""HIGH RISK (70.0% churn probability). Immediate intervention recommended. Key concerns: Month-to-month contract; 2 months tenure - early high-risk period. Positive signs: DSL internet service."", ' +
        '""risk_factors"": [{""factor"": ""contract_month_to_month"", ""impact"": ""high"", ""description"": ""Month-to-month contract""}, {""factor"": ""tenure"", ""impact"": ""medium"", ""description"": ""2 months tenure - early high-risk period""}], ' +
        '""protective_factors"": [{""factor"": ""internet_service_dsl"", ""impact"": ""medium"", ""description"": ""DSL internet service""}]}",' +
        'c-1\n',
    );
  });

  it.each([
    [0.6000001, 'High', 'HIGH RISK - Immediate intervention needed'],
    [0.6, 'Medium', 'MEDIUM RISK - Proactive engagement recommended'],
    [0.3000001, 'Medium', 'MEDIUM RISK - Proactive engagement recommended'],
    [0.3, 'Low', 'LOW RISK - Continue monitoring'],
    [0, 'Low', 'LOW RISK - Continue monitoring'],
    [1, 'High', 'HIGH RISK - Immediate intervention needed'],
  ])('p = %d is %s (thresholds from the manifest: > 0.6, > 0.3)', (p, level, recommendation) => {
    const { cells } = row(p);
    expect(cells.risk_level).toBe(level);
    expect(cells.recommendation).toBe(recommendation);
    expect(formatter.riskLevel(p)).toBe(level);
  });

  it.each([
    [0.7, '70.0%', '0.7', '0.3', '0', '30', 70.0],
    [1, '100.0%', '1.0', '0.0', '0', '0', 100.0],
    [0, '0.0%', '0.0', '1.0', '1', '100', 0.0],
    [0.5, '50.0%', '0.5', '0.5', '1', '50', 50.0],
    [0.12345, '12.3%', '0.123', '0.877', '1', '87', 12.3],
    [0.1225, '12.2%', '0.122', '0.877', '1', '87', 12.2],
    [0.4999, '50.0%', '0.5', '0.5', '1', '50', 50.0],
  ])(
    'p = %d: pct %s, churn %s, retention %s, prediction %s, score %s',
    (p, pct, churn, stay, prediction, score, percent) => {
      const { cells } = row(p);
      expect(cells.churn_risk_pct).toBe(pct);
      expect(cells.churn_probability).toBe(churn);
      expect(cells.retention_probability).toBe(stay);
      expect(cells.retention_prediction).toBe(prediction);
      expect(cells.retention_score).toBe(score);
      expect((JSON.parse(cells.explanation ?? '') as { churn_probability: number }).churn_probability).toBe(
        percent,
      );
    },
  );

  it('uses the fallback factors when there is no risk or protective factor (not in the factor columns)', () => {
    const high = row(0.75).cells;
    expect(high.key_risks).toBe('Churn probability of 75.0% indicates significant risk');
    expect(high.strengths).toBe('');
    expect(high.summary).toBe(
      'HIGH RISK (75.0% churn probability). Immediate intervention recommended. Key concerns: Churn probability of 75.0% indicates significant risk.',
    );
    expect(high.risk_factors).toBe('[]');
    expect(high.protective_factors).toBe('[]');
    expect(JSON.parse(high.explanation ?? '')).toMatchObject({
      risk_factors: [
        {
          factor: 'high_churn_probability',
          impact: 'high',
          description: 'Churn probability of 75.0% indicates significant risk',
        },
      ],
      protective_factors: [],
    });
    expect(row(0.45).cells.key_risks).toBe('Churn probability of 45.0% requires monitoring');
    const low = row(0.1).cells;
    expect(low.key_risks).toBe('Standard customer risk profile');
    expect(low.strengths).toBe('Low churn probability of 10.0% indicates strong retention');
    expect(low.summary).toBe(
      'LOW RISK (10.0% churn probability). Continue monitoring. Key concerns: Standard customer risk profile. Positive signs: Low churn probability of 10.0% indicates strong retention.',
    );
  });

  it('lists 3 messages in key_risks/strengths, 2 in the summary and 3 per side in the explanation', () => {
    const risks = [0.9, 0.8, 0.7, 0.6].map((c, i) => factor(`r${i}`, c));
    const { cells } = row(0.9, risks);
    expect(cells.key_risks).toBe('r0 message, r1 message, r2 message');
    expect(cells.summary).toContain('Key concerns: r0 message; r1 message.');
    expect((JSON.parse(cells.risk_factors ?? '') as unknown[]).length).toBe(4);
    expect((JSON.parse(cells.explanation ?? '') as { risk_factors: unknown[] }).risk_factors).toHaveLength(3);
  });

  it('writes strict JSON with Python separators, keys in order and non-ASCII kept', () => {
    const { cells, line } = row(0.5, [], [], 'Zoë "quoted" \\ \u0001');
    const explanation = cells.explanation ?? '';
    expect(Object.keys(JSON.parse(explanation) as object)).toEqual([
      'customer_id',
      'churn_probability',
      'risk_level',
      'summary',
      'risk_factors',
      'protective_factors',
    ]);
    expect(explanation).toMatch(
      /^\{"customer_id": "Zoë \\"quoted\\" \\\\ \\u0001", "churn_probability": 50\.0, "risk_level": "Medium", /,
    );
    expect(line).not.toMatch(/NaN|Infinity/);
  });

  it('neutralises CSV injection in text cells and quotes only when needed', () => {
    for (const start of ['=', '+', '-', '@', '\t', '\r'])
      expect(textCell(`${start}cmd`).replace(/^"|"$/g, '')).toBe(`'${start}cmd`);
    expect(textCell('plain')).toBe('plain');
    expect(csvCell('a,b')).toBe('"a,b"');
    expect(csvCell('say "hi"')).toBe('"say ""hi"""');
    expect(csvCell('two\nlines')).toBe('"two\nlines"');
    const { cells } = row(0.2, [], [], '=SUM(A1)');
    expect(cells.customerID).toBe("'=SUM(A1)");
    expect(cells.customer_id).toBe("'=SUM(A1)");
    expect(cells.churn_probability).toBe('0.2');
  });
});

describe('numbers from tables', () => {
  // churn_risk_pct, churn_probability, retention_probability and retention_score are looked up in tables
  // encoded once; each must equal Python's formatting of the value itself, ties (half-even) included.
  it('match the reference formatting for 20,000 probabilities, exact ties and the ends', () => {
    const none = { risks: [], protective: [] };
    const ties = [0.0005, 0.0015, 0.1225, 0.4445, 0.12345, 0.9995, 0.00049999, 0.5, 1 / 3, 2 / 3];
    const random = Array.from({ length: 20_000 }, (_, i) => ((i * 7919) % 20_000) / 20_000 + i * 1e-9);
    const probabilities = [0, 1, ...ties, ...random].filter((x) => x <= 1);
    const out = new ByteWriter(0);
    for (const p of probabilities)
      formatter.write(out, { customerId: 'c', probability: p, explanation: none, confidence: 'low' });
    const rows: string[][] = parse(out.finish());
    const expected = probabilities.map((p) => [
      `${pyFixed(p * 100, 1)}%`,
      pyRound(p, 3),
      pyRound(1 - p, 3),
      String(Math.trunc((1 - p) * 100)),
    ]);
    expect(rows.map((r) => [r[2], r[7], r[8], r[10]])).toEqual(expected);
  });
});

describe('row bytes', () => {
  it('are one UTF-8 line however the buffer had to grow, the id repeated verbatim', () => {
    const out = new ByteWriter(0);
    const ids = ['Zoë ✓', 'plain-1', 'a,b', '=1+1', ''];
    for (const id of ids)
      formatter.write(out, {
        customerId: id,
        probability: 0.42,
        explanation: { risks: [factor('tenure', 0.3, '2 months tenure')], protective: [] },
        confidence: 'medium',
      });
    const records = parse<Record<string, string>>(formatter.header + out.finish().toString('utf8'), {
      columns: true,
    });
    expect(records.map((r) => r.customer_id)).toEqual(ids.map((id) => (id.startsWith('=') ? `'${id}` : id)));
    expect(records.map((r) => r.customerID)).toEqual(records.map((r) => r.customer_id));
    expect(
      records.map((r) => (JSON.parse(r.explanation ?? '') as { customer_id: string }).customer_id),
    ).toEqual(ids);
  });

  // A factor text shown once (a customer's own amount) is written from its parts, one shown again from pieces
  // kept for it: every place a factor can take in a row must come out the same either way.
  it('are the same the first time a factor is shown as every time after, in every place of the row', () => {
    const fresh = createRowFormatter(manifest);
    const engagement: Factor = {
      factor: 'low_logins',
      impact: 'medium',
      message: 'Few logins, lately',
      source: 'engagement_signal',
    };
    const a = factor('tenure', 0.31, '2 months tenure - early high-risk period');
    const b = factor('total_charges', 0.6, 'Low total charges to date ($1,889.51)');
    const c = factor('contract', -0.7, '-Month-to-month contract');
    const d = factor('monthly_charges', -0.06, 'Low monthly charges ($19.95)');
    const explanations = [
      { risks: [a, b, engagement], protective: [c, d] },
      { risks: [engagement, b], protective: [d, c] },
      { risks: [b, a], protective: [] },
      { risks: [], protective: [c] },
      { risks: [engagement], protective: [d, factor('gender', -0.2, 'Female customer')] },
    ];
    const pass = (): string => {
      const out = new ByteWriter(0);
      for (const [i, explanation] of explanations.entries())
        for (const probability of [0.9, 0.45, 0.05])
          fresh.write(out, { customerId: `c-${i}`, probability, explanation, confidence: 'medium' });
      return out.finish().toString('utf8');
    };
    const first = pass();
    expect(pass()).toBe(first);
    expect(pass()).toBe(first);
    expect(parse(fresh.header + first, { columns: true })).toHaveLength(explanations.length * 3);
  });

  it('refuses a factor text that would need escaping instead of writing a broken cell', () => {
    expect(() => row(0.9, [factor('tenure', 0.6, 'say "hi"')])).toThrow(/would need escaping/);
  });
});

describe('contribution digits', () => {
  it.each([
    [0.61234567, '0.6123'],
    [-0.53631644, '-0.5363'],
    [0.30000000000000004, '0.3'],
    [1.99999, '2.0'],
    [-0.00001, '0.0'],
    [0, '0.0'],
  ])('%d → %s', (x, text) => {
    expect(contributionText(x)).toBe(text);
    expect(JSON.parse(text)).toBeCloseTo(x, 4);
  });

  // The row writes the digits itself rather than building the text: it must print exactly contributionText's.
  it('are written in the row exactly as contributionText prints them, at every magnitude', () => {
    const steps = Array.from({ length: 20_001 }, (_, i) => (i - 10_000) * 0.00037);
    const odd = [
      5e-5, -5e-5, 4.9999e-5, 0.99995, 9.99995, 123456.78905, 99_999_999_999.9999, -1e11, 3e12, 1e300,
    ];
    const wrong = [...steps, ...odd].flatMap((x) => {
      const out = new ByteWriter(0);
      const explanation = { risks: [factor('tenure', x, 'm')], protective: [] };
      formatter.write(out, { customerId: 'c', probability: 0.5, explanation, confidence: 'low' });
      const written = /""contribution"": ([^}]*)\}/.exec(out.finish().toString('utf8'))?.[1];
      return written === contributionText(x) ? [] : [{ x, written, expected: contributionText(x) }];
    });
    expect(wrong).toEqual([]);
  });
});

describe('impact bands', () => {
  it.each([
    [IMPACT_THRESHOLDS.high, 'high'],
    [IMPACT_THRESHOLDS.high - 1e-9, 'medium'],
    [IMPACT_THRESHOLDS.medium, 'medium'],
    [IMPACT_THRESHOLDS.medium - 1e-9, 'low'],
    [IMPACT_THRESHOLDS.low, 'low'],
    [IMPACT_THRESHOLDS.low - 1e-9, undefined],
  ])('|contribution| %d → %s', (magnitude, impact) => {
    expect(impactOf(magnitude)).toBe(impact);
  });
});
