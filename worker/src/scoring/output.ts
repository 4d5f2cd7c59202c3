import type { Confidence, Explanation, Factor } from './explain.js';
import type { Manifest } from './manifest.js';
import { pyFixed, pyRepr, pyRound } from './py-format.js';

/**
 * The results CSV (spec/csv-io.md §8): the existing 17 columns in order, formatted as the Python worker
 * wrote them, plus `customer_id` (lessons #28). Plain RFC 4180, `\n` line ends, no BOM.
 *
 * Risk bands come from the manifest thresholds (High > 0.6, Medium > 0.3), the one source of truth for
 * the file; note that the API and UI band `churn_probability` themselves at 0.7/0.4 (csv-io §10).
 */
export const OUTPUT_COLUMNS = [
  'customerID',
  'risk_level',
  'churn_risk_pct',
  'recommendation',
  'summary',
  'key_risks',
  'strengths',
  'churn_probability',
  'retention_probability',
  'retention_prediction',
  'retention_score',
  'confidence',
  'model_type',
  'model_version',
  'risk_factors',
  'protective_factors',
  'explanation',
  'customer_id',
] as const;

export type RiskLevel = 'High' | 'Medium' | 'Low';

const LEVEL_TEXT: Record<RiskLevel, { recommendation: string; words: string; action: string }> = {
  High: {
    recommendation: 'HIGH RISK - Immediate intervention needed',
    words: 'HIGH RISK',
    action: 'Immediate intervention recommended',
  },
  Medium: {
    recommendation: 'MEDIUM RISK - Proactive engagement recommended',
    words: 'MEDIUM RISK',
    action: 'Proactive engagement suggested',
  },
  Low: { recommendation: 'LOW RISK - Continue monitoring', words: 'LOW RISK', action: 'Continue monitoring' },
};

export interface ScoredRow {
  readonly customerId: string;
  readonly probability: number;
  readonly explanation: Explanation;
  readonly confidence: Confidence;
}

export interface RowFormatter {
  readonly header: string;
  riskLevel(probability: number): RiskLevel;
  /** one CSV line, `\n`-terminated */
  format(row: ScoredRow): string;
}

/** Cells a spreadsheet would run as a formula; text cells starting so get a leading `'` (OWASP). */
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\n\r]/;

export function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A user-controlled text cell: neutralised against CSV injection, then quoted as needed. */
export function textCell(text: string): string {
  return csvCell(FORMULA_START.test(text) ? `'${text}` : text);
}

/*
 * The three JSON columns are always quoted CSV cells, so their JSON is written with every `"` already
 * doubled instead of being built and then escaped: no second pass over ~2 KB per row. Factor codes and
 * messages are the library's own texts (no quote, backslash or control character, see the tests); the
 * customer id, the one user-supplied string, goes through JSON.stringify first.
 */
const jsonInCell = (text: string): string => JSON.stringify(text).replaceAll('"', '""');

function factorJson(f: Factor): string {
  const contribution = f.contribution === undefined ? '' : `, ""contribution"": ${pyRepr(f.contribution)}`;
  return `{""factor"": ""${f.factor}"", ""impact"": ""${f.impact}"", ""message"": ""${f.message}"", ""source"": ""${f.source}""${contribution}}`;
}

const describedJson = (f: Factor): string =>
  `{""factor"": ""${f.factor}"", ""impact"": ""${f.impact}"", ""description"": ""${f.message}""}`;

const list = (items: readonly string[]): string => `[${items.join(', ')}]`;

// Module-level helpers rather than closures inside format(): nothing is allocated per row but the texts.
const messages = (factors: readonly Factor[], n: number): string[] =>
  factors.slice(0, n).map((f) => f.message);

const fallback = (factor: string, impact: Factor['impact'], message: string): Factor => ({
  factor,
  impact,
  message,
  source: 'model',
});

export function createRowFormatter(manifest: Manifest): RowFormatter {
  const { high, medium, retention } = manifest.thresholds;
  const modelType = textCell(manifest.model_type);
  const modelVersion = textCell(manifest.model_version);
  const riskLevel = (p: number): RiskLevel => (p > high ? 'High' : p > medium ? 'Medium' : 'Low');

  /** csv-io §8's fallbacks when the row has no risk factor / no protective factor. */
  function shown(row: ScoredRow, level: RiskLevel, pct: string): { risks: Factor[]; protective: Factor[] } {
    let { risks, protective } = row.explanation;
    if (risks.length === 0) {
      risks = [
        level === 'High'
          ? fallback(
              'high_churn_probability',
              'high',
              `Churn probability of ${pct}% indicates significant risk`,
            )
          : level === 'Medium'
            ? fallback(
                'medium_churn_probability',
                'medium',
                `Churn probability of ${pct}% requires monitoring`,
              )
            : fallback('baseline_risk', 'low', 'Standard customer risk profile'),
      ];
    }
    if (protective.length === 0 && level === 'Low') {
      protective = [
        fallback(
          'low_churn_probability',
          'high',
          `Low churn probability of ${pct}% indicates strong retention`,
        ),
      ];
    }
    return { risks, protective };
  }

  return {
    header: OUTPUT_COLUMNS.join(',') + '\n',
    riskLevel,
    format(row) {
      const p = row.probability;
      const level = riskLevel(p);
      const text = LEVEL_TEXT[level];
      const pct = pyFixed(p * 100, 1);
      const { risks, protective } = shown(row, level, pct);
      const positive = messages(protective, 2);
      const summary =
        `${text.words} (${pct}% churn probability). ${text.action}. Key concerns: ${messages(risks, 2).join('; ')}.` +
        (positive.length > 0 ? ` Positive signs: ${positive.join('; ')}.` : '');
      const stay = 1 - p;
      const explanation =
        `"{""customer_id"": ${jsonInCell(row.customerId)}, ""churn_probability"": ${pyRound(p * 100, 1)}, ` +
        `""risk_level"": ""${level}"", ""summary"": ""${summary}"", ` +
        `""risk_factors"": ${list(risks.slice(0, 3).map(describedJson))}, ` +
        `""protective_factors"": ${list(protective.slice(0, 3).map(describedJson))}}"`;
      const id = textCell(row.customerId);
      return (
        [
          id,
          level,
          `${pct}%`,
          text.recommendation,
          textCell(summary),
          textCell(messages(risks, 3).join(', ')),
          textCell(messages(protective, 3).join(', ')),
          pyRound(p, 3),
          pyRound(stay, 3),
          stay >= retention ? '1' : '0',
          String(Math.trunc(stay * 100)),
          row.confidence,
          modelType,
          modelVersion,
          `"${list(row.explanation.risks.map(factorJson))}"`,
          `"${list(row.explanation.protective.map(factorJson))}"`,
          explanation,
          id,
        ].join(',') + '\n'
      );
    },
  };
}
