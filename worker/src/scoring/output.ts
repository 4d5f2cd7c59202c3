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

export const LEVEL_TEXT: Record<RiskLevel, { recommendation: string; words: string; action: string }> = {
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

/** Cells a spreadsheet would run as a formula; text cells starting so get a leading `'` (OWASP). */
export const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\n\r]/;

export function csvCell(text: string): string {
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A user-controlled text cell: neutralised against CSV injection, then quoted as needed. */
export function textCell(text: string): string {
  return csvCell(FORMULA_START.test(text) ? `'${text}` : text);
}
/** Digits of a model factor's `contribution` in the file; the exact value stays in the library's output. */
export const CONTRIBUTION_DIGITS = 4;

export const CONTRIBUTION_SCALE = 10 ** CONTRIBUTION_DIGITS;

/**
 * A contribution rounded to CONTRIBUTION_DIGITS in shortest form (`0.5346`, `1.0`): plain arithmetic
 * instead of toFixed, which is several times slower (these digits need no Python parity).
 */
export function contributionText(x: number): string {
  const rounded = Math.round(x * CONTRIBUTION_SCALE) / CONTRIBUTION_SCALE;
  return Number.isInteger(rounded) ? `${rounded}.0` : String(rounded);
}
