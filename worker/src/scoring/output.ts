import type { Confidence, Explanation, Factor, Impact } from './explain.js';
import type { Manifest } from './manifest.js';
import { pyFixed, pyRound } from './py-format.js';

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
 * doubled instead of being built and then escaped: no second pass over the row. Factor codes and
 * messages are the library's own texts (no quote, backslash or control character, see the tests); the
 * customer id, the one user-supplied string, goes through JSON.stringify first.
 */
const jsonInCell = (text: string): string => JSON.stringify(text).replaceAll('"', '""');

/** Digits of a model factor's `contribution` in the file; the exact value stays in the library's output. */
export const CONTRIBUTION_DIGITS = 4;

const CONTRIBUTION_SCALE = 10 ** CONTRIBUTION_DIGITS;

/**
 * A contribution rounded to CONTRIBUTION_DIGITS in shortest form (`0.5346`, `1.0`). Six per row: plain
 * arithmetic instead of toFixed, which is several times slower (these digits need no Python parity).
 */
export function contributionText(x: number): string {
  const rounded = Math.round(x * CONTRIBUTION_SCALE) / CONTRIBUTION_SCALE;
  return Number.isInteger(rounded) ? `${rounded}.0` : String(rounded);
}

/** A factor's JSON texts that do not depend on the row, built once per distinct factor. */
interface FactorTexts {
  readonly factor: string;
  /** `{"factor", "impact", "message"` (open: the caller closes it) */
  readonly head: string;
  /** the explanation's `{"factor", "impact", "description"}` */
  readonly described: string;
}

const TEXTS_LIMIT = 65_536;

/**
 * Factor texts by impact and message. Categorical factors are a handful of constants and numeric ones
 * repeat their values, so nearly every row finds its texts here; the cap bounds a file of unique values.
 */
function factorTextCache(): (f: Factor) => FactorTexts {
  const byImpact: Record<Impact, Map<string, FactorTexts>> = {
    high: new Map(),
    medium: new Map(),
    low: new Map(),
  };
  let size = 0;
  return (f) => {
    const cache = byImpact[f.impact];
    let texts = cache.get(f.message);
    if (texts === undefined || texts.factor !== f.factor) {
      const common = `{""factor"": ""${f.factor}"", ""impact"": ""${f.impact}"", `;
      texts = {
        factor: f.factor,
        head: `${common}""message"": ""${f.message}""`,
        described: `${common}""description"": ""${f.message}""}`,
      };
      if (size < TEXTS_LIMIT) {
        size++;
        cache.set(f.message, texts);
      }
    }
    return texts;
  };
}

/** Up to `n` messages joined by `separator`. */
function messages(factors: readonly Factor[], n: number, separator: string): string {
  let text = '';
  for (let i = 0; i < factors.length && i < n; i++)
    text += i === 0 ? (factors[i] as Factor).message : separator + (factors[i] as Factor).message;
  return text;
}

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

  const texts = factorTextCache();
  /** column 15/16: every factor; model factors with their contribution, engagement signals marked as such */
  const factorList = (factors: readonly Factor[]): string => {
    let json = '"[';
    for (let i = 0; i < factors.length; i++) {
      const f = factors[i] as Factor;
      json += (i === 0 ? '' : ', ') + texts(f).head;
      json +=
        f.contribution === undefined
          ? `, ""source"": ""${f.source}""}`
          : `, ""contribution"": ${contributionText(f.contribution)}}`;
    }
    return json + ']"';
  };
  /** the explanation's lists: up to 3 factors */
  const describedList = (factors: readonly Factor[]): string => {
    let json = '[';
    for (let i = 0; i < factors.length && i < 3; i++)
      json += (i === 0 ? '' : ', ') + texts(factors[i] as Factor).described;
    return json + ']';
  };

  return {
    header: OUTPUT_COLUMNS.join(',') + '\n',
    riskLevel,
    format(row) {
      const p = row.probability;
      const level = riskLevel(p);
      const text = LEVEL_TEXT[level];
      const pct = pyFixed(p * 100, 1);
      const { risks, protective } = shown(row, level, pct);
      const positive = messages(protective, 2, '; ');
      const summary =
        `${text.words} (${pct}% churn probability). ${text.action}. Key concerns: ${messages(risks, 2, '; ')}.` +
        (positive.length > 0 ? ` Positive signs: ${positive}.` : '');
      const stay = 1 - p;
      const explanation =
        `"{""customer_id"": ${jsonInCell(row.customerId)}, ""churn_probability"": ${pyRound(p * 100, 1)}, ` +
        `""risk_level"": ""${level}"", ""summary"": ""${summary}"", ` +
        `""risk_factors"": ${describedList(risks)}, ` +
        `""protective_factors"": ${describedList(protective)}}"`;
      const id = textCell(row.customerId);
      return (
        `${id},${level},${pct}%,${text.recommendation},${textCell(summary)},` +
        `${textCell(messages(risks, 3, ', '))},${textCell(messages(protective, 3, ', '))},` +
        `${pyRound(p, 3)},${pyRound(stay, 3)},${stay >= retention ? '1' : '0'},${Math.trunc(stay * 100)},` +
        `${row.confidence},${modelType},${modelVersion},` +
        `${factorList(row.explanation.risks)},${factorList(row.explanation.protective)},${explanation},${id}\n`
      );
    },
  };
}
