import { COLUMN_ALIASES } from './column-aliases.js';
import { contract, categoryParsers, yesNo, yesNoOr, type CategoryParsers } from './values.js';

/**
 * The canonical columns (spec/csv-io.md §2-§5): what the mapper maps headers to, what the model and the
 * explainer read, and how each column's cells are read. The one table of these facts: the header mapper
 * (columns.ts), the manifest check at model load (manifest.ts) and the encoder all read it.
 */

/** `required` columns fail the job when unmapped; `telco` ones feed the model; `engagement` ones only explain. */
export type ColumnRole = 'required' | 'telco' | 'engagement';

export type ColumnValue =
  | { readonly kind: 'id' }
  | { readonly kind: 'number' }
  | { readonly kind: 'category'; readonly parser: CategoryParsers }
  /** recognised so it is not reported as unmapped, but no part of scoring reads it */
  | { readonly kind: 'text' };

export interface CanonicalColumn {
  readonly name: string;
  readonly role: ColumnRole;
  readonly value: ColumnValue;
  /** spec/csv-io.md §4, compared in normalised form */
  readonly aliases: readonly string[];
}

const id = { kind: 'id' } as const;
const number = { kind: 'number' } as const;
const text = { kind: 'text' } as const;
const category = (parser: CategoryParsers): ColumnValue => ({ kind: 'category', parser });
const yesNoColumn = category(yesNo);

/** Columns that share a role and a reading of their cells, in table order. */
const columns = (role: ColumnRole, value: ColumnValue, names: readonly string[]): CanonicalColumn[] =>
  names.map((name) => ({ name, role, value, aliases: COLUMN_ALIASES[name] ?? [] }));

/**
 * Matching order (ties go to the earlier column): required first, then the Telco columns, then SaaS
 * engagement columns. Putting Telco before SaaS means `Payment Method` feeds the model's `PaymentMethod`
 * while the exact header `payment_method` stays the SaaS engagement column, as in the existing mapper.
 */
export const CANONICAL_COLUMNS: readonly CanonicalColumn[] = [
  ...columns('required', id, ['customerID']),
  ...columns('required', number, ['tenure', 'MonthlyCharges', 'TotalCharges']),
  ...columns('required', category(contract), ['Contract']),
  ...columns('telco', category(categoryParsers(['Female', 'Male'], { f: 'Female', m: 'Male' })), ['gender']),
  ...columns('telco', yesNoColumn, ['SeniorCitizen', 'Partner', 'Dependents', 'PhoneService']),
  ...columns('telco', category(yesNoOr('No phone service')), ['MultipleLines']),
  ...columns('telco', category(categoryParsers(['DSL', 'Fiber optic', 'No'])), ['InternetService']),
  // prettier-ignore
  ...columns('telco', category(yesNoOr('No internet service')), ['OnlineSecurity', 'OnlineBackup', 'DeviceProtection', 'TechSupport', 'StreamingTV', 'StreamingMovies']),
  ...columns('telco', yesNoColumn, ['PaperlessBilling']),
  // prettier-ignore
  ...columns('telco', category(categoryParsers(['Electronic check', 'Mailed check', 'Bank transfer (automatic)', 'Credit card (automatic)'])), ['PaymentMethod']),
  ...columns('engagement', text, ['company_size', 'industry']),
  ...columns('engagement', number, ['feature_usage_score', 'support_tickets']),
  ...columns('engagement', text, ['login_frequency', 'api_calls_per_month']),
  ...columns('engagement', number, ['seats_purchased', 'seats_used', 'last_activity_days_ago']),
  ...columns('engagement', yesNoColumn, ['has_integration']),
  ...columns('engagement', text, ['payment_method']),
  ...columns('engagement', yesNoColumn, ['trial_converted']),
];

export const REQUIRED_COLUMNS: readonly string[] = CANONICAL_COLUMNS.filter((c) => c.role === 'required').map(
  (c) => c.name,
);

export function canonicalColumn(name: string): CanonicalColumn | undefined {
  return CANONICAL_COLUMNS.find((c) => c.name === name);
}
