import { inputErrors } from './errors.js';
import { sequenceRatio } from './sequence-matcher.js';
import { contract, categoryParsers, isMissingCell, yesNo, yesNoOr, type CategoryParsers } from './values.js';

/**
 * The column mapper (spec/csv-io.md §2-§4): which canonical column each input header feeds, with the
 * existing Python mapper's scoring reproduced exactly, so customers' files map as they did before,
 * minus its defects: the mapping is applied to the *cleaned* headers (lessons #15), the Telco columns
 * the model reads are recognised too, and unit conversions come from the header only (lessons #16).
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
const internetAddOn = category(yesNoOr('No internet service'));

const col = (name: string, role: ColumnRole, value: ColumnValue, aliases: readonly string[] = []) => ({
  name,
  role,
  value,
  aliases,
});

/**
 * Matching order (ties go to the earlier column): required first, then the Telco columns, then SaaS
 * engagement columns. Putting Telco before SaaS means `Payment Method` feeds the model's `PaymentMethod`
 * while the exact header `payment_method` stays the SaaS engagement column, as in the existing mapper.
 */
export const CANONICAL_COLUMNS: readonly CanonicalColumn[] = [
  // prettier-ignore
  col('customerID', 'required', id, ['customerid', 'customer_id', 'customer id', 'userid', 'user_id', 'user id', 'user', 'user_name', 'username', 'accountid', 'account_id', 'account id', 'account', 'accountnumber', 'account_number', 'account number', 'clientid', 'client_id', 'client id', 'client', 'subscriberid', 'subscriber_id', 'subscriber id', 'subscriber', 'memberid', 'member_id', 'member id', 'member', 'cust_id', 'custid', 'cust', 'customer_ref', 'customer_reference', 'identifiant_client', 'id_client', 'id', 'pk', 'primary_key', 'customar_id', 'costumer_id', 'cusotmer_id']),
  // prettier-ignore
  col('tenure', 'required', number, ['tenure', 'tenure_months', 'months', 'months_active', 'months_subscribed', 'months_as_customer', 'months_since_creation', 'months_since_signup', 'months_since_start', 'active_months', 'subscription_months', 'member_months', 'account_age', 'account_age_months', 'accountage', 'customer_age', 'customer_age_months', 'customerage', 'duration', 'duration_months', 'subscription_duration', 'membership_duration', 'customer_duration', 'customer_lifetime', 'lifetime', 'lifetime_months', 'time_as_customer', 'time_subscribed', 'time_active', 'days_active', 'days_subscribed', 'active_days', 'tenure_days', 'years_active', 'years_subscribed', 'tenure_years', 'mos', 'mon', 'tenur', 'tenue', 'tenuere']),
  // prettier-ignore
  col('MonthlyCharges', 'required', number, ['monthlycharges', 'monthly_charges', 'monthly charges', 'mrr', 'monthly_recurring_revenue', 'monthly_revenue', 'monthly_fee', 'monthly_cost', 'monthly_price', 'monthly_payment', 'fee_monthly', 'cost_monthly', 'price_monthly', 'subscription_fee', 'subscription_cost', 'subscription_price', 'recurring_fee', 'recurring_charge', 'recurring_cost', 'plan_fee', 'plan_cost', 'plan_price', 'charge_monthly', 'charges_monthly', 'monthly_billing', 'monthly_amount', 'amount_monthly', 'revenue_monthly', 'monthly_rev', 'monthly_charges_usd', 'monthly_charges_gbp', 'monthly_charges_eur', 'monthly_charges_cents', 'mrr_cents', 'monthly_fee_cents', 'mo_charges', 'mo_fee', 'mo_cost', 'montly_charges', 'monthly_chargers', 'montlhy_charges']),
  // prettier-ignore
  col('TotalCharges', 'required', number, ['totalcharges', 'total_charges', 'total charges', 'ltv', 'lifetime_value', 'customer_lifetime_value', 'clv', 'total_spent', 'total_cost', 'total_price', 'total_payment', 'total_revenue', 'total_amount', 'lifetime_revenue', 'lifetime_spent', 'lifetime_cost', 'accumulated_charges', 'accumulated_revenue', 'accumulated_cost', 'cumulative_charges', 'cumulative_revenue', 'cumulative_cost', 'alltime_charges', 'all_time_charges', 'alltime_revenue', 'total_billing', 'total_billed', 'total_invoiced', 'grand_total', 'final_total', 'sum_charges', 'sum_revenue', 'charges_sum', 'total_charges_usd', 'total_charges_gbp', 'total_charges_eur', 'total_charges_cents', 'ltv_cents', 'tot_charges', 'tot_revenue', 'toal_charges', 'total_chargers', 'totla_charges']),
  // prettier-ignore
  col('Contract', 'required', category(contract), ['contract', 'contract_type', 'plan', 'plan_type', 'subscription_plan', 'service_plan', 'agreement', 'agreement_type', 'subscription', 'subscription_type', 'sub_type', 'billing_cycle', 'billing_period', 'payment_cycle', 'payment_plan', 'payment_frequency', 'term', 'contract_term', 'subscription_term', 'commitment', 'commitment_type', 'commitment_period', 'package', 'package_type', 'tier', 'plan_tier', 'service_tier', 'duration_type', 'period_type', 'contrat', 'conract', 'contrct']),
  // prettier-ignore
  col('gender', 'telco', category(categoryParsers(['Female', 'Male'], { f: 'Female', m: 'Male' })), ['gender', 'sex', 'customer_gender', 'user_gender', 'male_female', 'm_f', 'gender_type']),
  // prettier-ignore
  col('SeniorCitizen', 'telco', category(yesNo), ['seniorcitizen', 'senior_citizen', 'senior citizen', 'is_senior', 'senior', 'senior_status', 'is_elderly', 'elderly', 'age_65_plus', 'senior_flag', 'senior_customer']),
  // prettier-ignore
  col('Partner', 'telco', category(yesNo), ['partner', 'has_partner', 'partner_status', 'married', 'is_married', 'relationship_status', 'spouse', 'has_spouse']),
  // prettier-ignore
  col('Dependents', 'telco', category(yesNo), ['dependents', 'has_dependents', 'dependents_count', 'children', 'has_children', 'kids', 'number_of_dependents', 'num_dependents']),
  col('PhoneService', 'telco', category(yesNo)),
  col('MultipleLines', 'telco', category(yesNoOr('No phone service'))),
  col('InternetService', 'telco', category(categoryParsers(['DSL', 'Fiber optic', 'No']))),
  col('OnlineSecurity', 'telco', internetAddOn),
  col('OnlineBackup', 'telco', internetAddOn),
  col('DeviceProtection', 'telco', internetAddOn),
  col('TechSupport', 'telco', internetAddOn),
  col('StreamingTV', 'telco', internetAddOn),
  col('StreamingMovies', 'telco', internetAddOn),
  col('PaperlessBilling', 'telco', category(yesNo)),
  // prettier-ignore
  col('PaymentMethod', 'telco', category(categoryParsers(['Electronic check', 'Mailed check', 'Bank transfer (automatic)', 'Credit card (automatic)'])), ['paymentmethod', 'payment_method', 'payment method', 'payment_type', 'pay_method', 'pay_type', 'billing_method', 'billing_type', 'charge_method', 'charge_type', 'how_paying', 'payment_mode', 'payment_option', 'card_type', 'payment_card', 'card_brand', 'method', 'method_of_payment', 'paymnet_method', 'payment_metod', 'payement_method']),
  col('company_size', 'engagement', text),
  col('industry', 'engagement', text),
  col('feature_usage_score', 'engagement', number),
  col('support_tickets', 'engagement', number),
  col('login_frequency', 'engagement', text),
  col('api_calls_per_month', 'engagement', text),
  col('seats_purchased', 'engagement', number),
  col('seats_used', 'engagement', number),
  col('last_activity_days_ago', 'engagement', number),
  col('has_integration', 'engagement', category(yesNo)),
  col('payment_method', 'engagement', text),
  col('trial_converted', 'engagement', category(yesNo)),
];

export const REQUIRED_COLUMNS: readonly string[] = CANONICAL_COLUMNS.filter((c) => c.role === 'required').map(
  (c) => c.name,
);

export function canonicalColumn(name: string): CanonicalColumn | undefined {
  return CANONICAL_COLUMNS.find((c) => c.name === name);
}

export const MAX_COLUMNS = 1000;
export const MAX_HEADER_LENGTH = 255;

/** Unicode NFKD, non-ASCII dropped, lower-cased, everything outside `a-z0-9` removed. */
export function normaliseName(name: string): string {
  return name
    .normalize('NFKD')
    .replace(/\P{ASCII}/gu, '')
    .toLowerCase()
    .replace(/[^a-z0-9]/g, '');
}

/**
 * One header name as the mapper sees it: a single leading formula character (`=`, `+`, `-`, `@`, tab,
 * CR, as spreadsheets add to defuse formulas) removed, control characters removed, whitespace trimmed.
 */
export function cleanHeader(raw: string): string {
  return raw
    .replace(/^[=+\-@\t\r]/, '')
    .replace(/\p{Cc}/gu, '')
    .trim();
}

/** Cleaned names made unique the way the existing mapper does: the second `x` is `x_1`, the third `x_2`. */
export function cleanHeaders(raw: readonly string[]): string[] {
  const seen = new Set<string>();
  return raw.map((name) => {
    const cleaned = cleanHeader(name);
    let unique = cleaned;
    for (let n = 1; seen.has(unique); n++) unique = `${cleaned}_${n}`;
    seen.add(unique);
    return unique;
  });
}

export type MatchStrategy = 'exact' | 'normalised' | 'partial' | 'fuzzy' | 'alias';

export interface HeaderMatch {
  readonly column: CanonicalColumn;
  readonly score: number;
  readonly strategy: MatchStrategy;
}

const ACCEPT_SCORE = 70;
const PARTIAL_BELOW = 90;
const FUZZY_BELOW = 85;
const FUZZY_MIN_RATIO = 0.75;
const ALIAS_SCORE = 95;

const alphaRuns = (normalised: string): Set<string> => new Set(normalised.match(/[a-z]{3,}/g) ?? []);

interface Target {
  readonly column: CanonicalColumn;
  readonly normalised: string;
  readonly runs: Set<string>;
}

const TARGETS: readonly Target[] = CANONICAL_COLUMNS.map((column) => {
  const normalised = normaliseName(column.name);
  return { column, normalised, runs: alphaRuns(normalised) };
});

// The first column listing an alias wins, as in the existing mapper's table order.
const ALIASES = new Map<string, CanonicalColumn>();
for (const column of CANONICAL_COLUMNS) {
  for (const alias of column.aliases) {
    const key = normaliseName(alias);
    if (!ALIASES.has(key)) ALIASES.set(key, column);
  }
}

/** "partial": share of the larger set of 3+-letter runs that both names contain, if at least half. */
function partialScore(runs: Set<string>, target: Set<string>): number {
  const larger = Math.max(runs.size, target.size);
  if (larger === 0) return 0;
  let shared = 0;
  for (const run of runs) if (target.has(run)) shared++;
  const overlap = shared / larger;
  return overlap >= 0.5 ? 70 + 20 * overlap : 0;
}

/** The best canonical column for one cleaned header, scored exactly as spec/csv-io.md §3. */
export function matchHeader(cleaned: string): HeaderMatch | undefined {
  const normalised = normaliseName(cleaned);
  const runs = alphaRuns(normalised);
  let best: HeaderMatch | undefined;
  const offer = (column: CanonicalColumn, score: number, strategy: MatchStrategy): void => {
    if (score > (best?.score ?? 0)) best = { column, score, strategy };
  };
  for (const target of TARGETS) {
    if (cleaned === target.column.name) {
      best = { column: target.column, score: 100, strategy: 'exact' };
      break;
    }
    if (normalised === target.normalised) offer(target.column, 100, 'normalised');
    if ((best?.score ?? 0) < PARTIAL_BELOW) offer(target.column, partialScore(runs, target.runs), 'partial');
    if ((best?.score ?? 0) < FUZZY_BELOW) {
      const ratio = sequenceRatio(normalised, target.normalised);
      if (ratio >= FUZZY_MIN_RATIO) offer(target.column, 100 * ratio, 'fuzzy');
    }
  }
  const alias = ALIASES.get(normalised);
  if (alias && (best?.score ?? 0) < ALIAS_SCORE)
    best = { column: alias, score: ALIAS_SCORE, strategy: 'alias' };
  return best && best.score >= ACCEPT_SCORE ? best : undefined;
}

// Scoring a header against every alias (SequenceMatcher included) costs more than scoring a small file, and a
// customer's files repeat their headers: the matches are remembered, up to a bound.
const MATCH_CACHE_LIMIT = 4096;
const matches = new Map<string, HeaderMatch | undefined>();

function rememberedMatch(cleaned: string): HeaderMatch | undefined {
  if (matches.has(cleaned)) return matches.get(cleaned);
  const match = matchHeader(cleaned);
  if (matches.size >= MATCH_CACHE_LIMIT) matches.clear();
  matches.set(cleaned, match);
  return match;
}

/** Multiplier from the header's unit (csv-io §5), e.g. `tenure_days` → months, `mrr_cents` → dollars. */
function unitScale(column: CanonicalColumn, header: string): number {
  const name = header.toLowerCase();
  if (column.name === 'tenure') {
    if (name.includes('day')) return 1 / 30.44;
    if (name.includes('year')) return 12;
  }
  if ((column.name === 'MonthlyCharges' || column.name === 'TotalCharges') && /cent|_cp/.test(name))
    return 1 / 100;
  return 1;
}

export interface MappedColumn extends HeaderMatch {
  /** position of the source column in each record */
  readonly index: number;
  /** the cleaned input header */
  readonly header: string;
  /** unit conversion applied to numeric cells (1 for none) */
  readonly scale: number;
}

export type IgnoredReason = 'unrecognised' | 'empty' | 'superseded';

export interface ColumnMapping {
  /** mapped columns in canonical order */
  readonly columns: readonly MappedColumn[];
  readonly ignored: readonly {
    readonly index: number;
    readonly header: string;
    readonly reason: IgnoredReason;
  }[];
  /** every cleaned input header, by position */
  readonly headers: readonly string[];
}

/**
 * Maps a header to canonical columns. `sample` (the first data records) decides what only the data can:
 * columns with no value in a non-empty sample are ignored, and when several headers match one canonical column the
 * higher score wins, then the one with more values in the sample, then the leftmost.
 * Throws InputError for too many columns, overlong names and missing required columns.
 */
export function mapColumns(
  rawHeader: readonly string[],
  sample: readonly (readonly string[])[],
): ColumnMapping {
  if (rawHeader.length > MAX_COLUMNS) {
    throw inputErrors.tooManyColumns(rawHeader.length, MAX_COLUMNS);
  }
  const headers = cleanHeaders(rawHeader);
  const tooLong = headers.findIndex((h) => h.length > MAX_HEADER_LENGTH);
  if (tooLong >= 0) {
    throw inputErrors.headerTooLong(tooLong + 1, MAX_HEADER_LENGTH);
  }
  const filled = headers.map((_, index) =>
    sample.reduce((n, record) => n + (isFilled(record[index]) ? 1 : 0), 0),
  );
  const ignored: { index: number; header: string; reason: IgnoredReason }[] = [];
  const winners = new Map<CanonicalColumn, MappedColumn>();
  headers.forEach((header, index) => {
    if (sample.length > 0 && filled[index] === 0) return ignored.push({ index, header, reason: 'empty' });
    const match = rememberedMatch(header);
    if (!match) return ignored.push({ index, header, reason: 'unrecognised' });
    const candidate: MappedColumn = { ...match, index, header, scale: unitScale(match.column, header) };
    const incumbent = winners.get(match.column);
    if (incumbent && !beats(candidate, incumbent, filled)) {
      return ignored.push({ index, header, reason: 'superseded' });
    }
    if (incumbent) ignored.push({ index: incumbent.index, header: incumbent.header, reason: 'superseded' });
    winners.set(match.column, candidate);
  });
  const columns = CANONICAL_COLUMNS.flatMap((c) => winners.get(c) ?? []);
  const missing = REQUIRED_COLUMNS.filter((name) => !columns.some((m) => m.column.name === name));
  if (missing.length > 0) throw missingColumnsError(missing);
  return { columns, ignored: ignored.sort((a, b) => a.index - b.index), headers };
}

const isFilled = (cell: string | undefined): boolean => cell !== undefined && !isMissingCell(cell);

function beats(candidate: MappedColumn, incumbent: MappedColumn, filled: readonly number[]): boolean {
  if (candidate.score !== incumbent.score) return candidate.score > incumbent.score;
  return (filled[candidate.index] ?? 0) > (filled[incumbent.index] ?? 0);
}

const SUGGESTED_ALIASES = 4;

/** spec/csv-io.md §2's error, with the accepted names of each missing column as the suggestions. */
function missingColumnsError(missing: readonly string[]) {
  const suggestions = missing.map((name) => {
    const column = canonicalColumn(name);
    const own = normaliseName(name);
    const spellings = new Map<string, string>();
    for (const alias of column?.aliases ?? []) {
      const key = normaliseName(alias);
      // one spelling per normalised form, preferring the snake_case one people are likeliest to use
      const previous = spellings.get(key);
      if (key === own || (previous !== undefined && (previous.includes('_') || !alias.includes('_'))))
        continue;
      spellings.set(key, alias);
    }
    return { name, alsoNamed: [...spellings.values()].slice(0, SUGGESTED_ALIASES) };
  });
  return inputErrors.missingColumns(suggestions, REQUIRED_COLUMNS);
}
