import { describe, expect, it } from 'vitest';
import { CANONICAL_COLUMNS, REQUIRED_COLUMNS } from '../../src/scoring/canonical-columns.js';
import { mapColumns } from '../../src/scoring/columns.js';
import { matchHeader } from '../../src/scoring/header-match.js';
import { cleanHeader, cleanHeaders, normaliseName } from '../../src/scoring/header-names.js';
import { InputError } from '../../src/scoring/errors.js';

/** spec/csv-io.md §4, verbatim. */
const ALIAS_TABLE: Record<string, string> = {
  customerID:
    'customerid, customer_id, customer id, userid, user_id, user id, user, user_name, username, accountid, account_id, account id, account, accountnumber, account_number, account number, clientid, client_id, client id, client, subscriberid, subscriber_id, subscriber id, subscriber, memberid, member_id, member id, member, cust_id, custid, cust, customer_ref, customer_reference, identifiant_client, id_client, id, pk, primary_key, customar_id, costumer_id, cusotmer_id',
  tenure:
    'tenure, tenure_months, months, months_active, months_subscribed, months_as_customer, months_since_creation, months_since_signup, months_since_start, active_months, subscription_months, member_months, account_age, account_age_months, accountage, customer_age, customer_age_months, customerage, duration, duration_months, subscription_duration, membership_duration, customer_duration, customer_lifetime, lifetime, lifetime_months, time_as_customer, time_subscribed, time_active, days_active, days_subscribed, active_days, tenure_days, years_active, years_subscribed, tenure_years, mos, mon, tenur, tenue, tenuere',
  MonthlyCharges:
    'monthlycharges, monthly_charges, monthly charges, mrr, monthly_recurring_revenue, monthly_revenue, monthly_fee, monthly_cost, monthly_price, monthly_payment, fee_monthly, cost_monthly, price_monthly, subscription_fee, subscription_cost, subscription_price, recurring_fee, recurring_charge, recurring_cost, plan_fee, plan_cost, plan_price, charge_monthly, charges_monthly, monthly_billing, monthly_amount, amount_monthly, revenue_monthly, monthly_rev, monthly_charges_usd, monthly_charges_gbp, monthly_charges_eur, monthly_charges_cents, mrr_cents, monthly_fee_cents, mo_charges, mo_fee, mo_cost, montly_charges, monthly_chargers, montlhy_charges',
  TotalCharges:
    'totalcharges, total_charges, total charges, ltv, lifetime_value, customer_lifetime_value, clv, total_spent, total_cost, total_price, total_payment, total_revenue, total_amount, lifetime_revenue, lifetime_spent, lifetime_cost, accumulated_charges, accumulated_revenue, accumulated_cost, cumulative_charges, cumulative_revenue, cumulative_cost, alltime_charges, all_time_charges, alltime_revenue, total_billing, total_billed, total_invoiced, grand_total, final_total, sum_charges, sum_revenue, charges_sum, total_charges_usd, total_charges_gbp, total_charges_eur, total_charges_cents, ltv_cents, tot_charges, tot_revenue, toal_charges, total_chargers, totla_charges',
  Contract:
    'contract, contract_type, plan, plan_type, subscription_plan, service_plan, agreement, agreement_type, subscription, subscription_type, sub_type, billing_cycle, billing_period, payment_cycle, payment_plan, payment_frequency, term, contract_term, subscription_term, commitment, commitment_type, commitment_period, package, package_type, tier, plan_tier, service_tier, duration_type, period_type, contrat, conract, contrct',
  PaymentMethod:
    'paymentmethod, payment_method, payment method, payment_type, pay_method, pay_type, billing_method, billing_type, charge_method, charge_type, how_paying, payment_mode, payment_option, card_type, payment_card, card_brand, method, method_of_payment, paymnet_method, payment_metod, payement_method',
  gender: 'gender, sex, customer_gender, user_gender, male_female, m_f, gender_type',
  SeniorCitizen:
    'seniorcitizen, senior_citizen, senior citizen, is_senior, senior, senior_status, is_elderly, elderly, age_65_plus, senior_flag, senior_customer',
  Partner:
    'partner, has_partner, partner_status, married, is_married, relationship_status, spouse, has_spouse',
  Dependents:
    'dependents, has_dependents, dependents_count, children, has_children, kids, number_of_dependents, num_dependents',
};

const REQUIRED_HEADER = ['customerID', 'tenure', 'MonthlyCharges', 'TotalCharges', 'Contract'];
const REQUIRED_ROW = ['c1', '12', '50', '600', 'One year'];

const mapped = (header: string[], rows: string[][] = [header.map(() => 'x')]): Record<string, string> =>
  Object.fromEntries(mapColumns(header, rows).columns.map((c) => [c.column.name, c.header]));

function inputError(run: () => unknown): InputError {
  try {
    run();
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}

describe('alias table (spec/csv-io.md §4)', () => {
  const cases = Object.entries(ALIAS_TABLE).flatMap(([column, list]) =>
    list.split(', ').map((alias) => [column, alias]),
  );

  it.each(cases)('%s accepts %j and its case/separator variants', (column, alias) => {
    // payment_method is also the SaaS column's exact name, and an exact match wins (§2).
    const expected = alias === 'payment_method' ? 'payment_method' : column;
    expect(matchHeader(alias)?.column.name).toBe(expected);
    for (const variant of [alias.toUpperCase(), alias.replaceAll('_', '-'), alias.replaceAll('_', ' ')]) {
      if (variant === 'payment-method' || variant === 'payment method' || variant === 'PAYMENT_METHOD') {
        expect(matchHeader(variant)?.column.name).toBe('PaymentMethod');
      } else {
        expect(matchHeader(variant)?.column.name).toBe(column);
      }
    }
  });

  it('is exactly the alias table the mapper uses', () => {
    const implemented = Object.fromEntries(
      CANONICAL_COLUMNS.filter((c) => c.aliases.length > 0).map((c) => [c.name, c.aliases.join(', ')]),
    );
    expect(implemented).toEqual(ALIAS_TABLE);
  });
});

describe('header normalisation and matching (spec/csv-io.md §3)', () => {
  it('normalises with NFKD, drops non-ASCII, lower-cases and keeps only a-z0-9', () => {
    expect(normaliseName('Customer ID')).toBe('customerid');
    expect(normaliseName('CUSTOMER-ID')).toBe('customerid');
    expect(normaliseName('customer_id')).toBe('customerid');
    expect(normaliseName('Téñure (months)')).toBe('tenuremonths');
    expect(normaliseName('Ｔｅｎｕｒｅ')).toBe('tenure');
    expect(normaliseName('ID\u00a0№')).toBe('idno');
  });

  it.each([
    ['customerID', 'customerID', 100, 'exact'],
    ['Customer ID', 'customerID', 100, 'normalised'],
    ['MONTHLY-CHARGES', 'MonthlyCharges', 100, 'normalised'],
    ['tenure2', 'tenure', 90, 'partial'],
    ['streaming_music', 'StreamingMovies', 100 * 0.7586206896551724, 'fuzzy'],
    ['support_ticket', 'support_tickets', 100 * 0.9629629629629629, 'fuzzy'],
    ['mrr', 'MonthlyCharges', 95, 'alias'],
    ['tenuere', 'tenure', 95, 'alias'],
    ['payment_method', 'payment_method', 100, 'exact'],
    ['Payment Method', 'PaymentMethod', 100, 'normalised'],
    ['payment_type', 'PaymentMethod', 95, 'alias'],
    ['SeniorCitizen', 'SeniorCitizen', 100, 'exact'],
    ['InternetService', 'InternetService', 100, 'exact'],
    ['feature_usage', 'feature_usage_score', (100 * 2 * 12) / 29, 'fuzzy'],
  ])('%j → %s (score %d, %s)', (header, column, score, strategy) => {
    const match = matchHeader(header);
    expect(match?.column.name).toBe(column);
    expect(match?.score).toBeCloseTo(score, 10);
    expect(match?.strategy).toBe(strategy);
  });

  it.each(['company_name', 'Churn', 'email', 'signup_date', 'phone', 'monthly', 'usage_score', ''])(
    'leaves %j unmapped (best score below 70)',
    (header) => {
      expect(matchHeader(header)).toBeUndefined();
    },
  );

  it('cleans a leading formula character, control characters and surrounding spaces', () => {
    expect(cleanHeader('  tenure ')).toBe('tenure');
    expect(cleanHeader('=Contract')).toBe('Contract');
    expect(cleanHeader('+MonthlyCharges')).toBe('MonthlyCharges');
    expect(cleanHeader('-TotalCharges')).toBe('TotalCharges');
    expect(cleanHeader('@customerID')).toBe('customerID');
    expect(cleanHeader('\tgender')).toBe('gender');
    expect(cleanHeader('==x')).toBe('=x');
    expect(cleanHeader('ten\u0000ure\u0007')).toBe('tenure');
  });

  it('applies the mapping to the cleaned headers (lessons #15)', () => {
    const header = [' customerID ', '=tenure', '+MonthlyCharges', '@TotalCharges', '-Contract'];
    const mapping = mapColumns(header, [REQUIRED_ROW]);
    expect(mapping.columns.map((c) => [c.column.name, c.header, c.index, c.strategy])).toEqual([
      ['customerID', 'customerID', 0, 'exact'],
      ['tenure', 'tenure', 1, 'exact'],
      ['MonthlyCharges', 'MonthlyCharges', 2, 'exact'],
      ['TotalCharges', 'TotalCharges', 3, 'exact'],
      ['Contract', 'Contract', 4, 'exact'],
    ]);
  });

  it('suffixes duplicate names _1, _2 and keeps the better-scoring column', () => {
    expect(cleanHeaders(['tenure', ' tenure', 'tenure ', 'x'])).toEqual([
      'tenure',
      'tenure_1',
      'tenure_2',
      'x',
    ]);
    const mapping = mapColumns([...REQUIRED_HEADER, 'tenure'], [[...REQUIRED_ROW, '99']]);
    expect(mapping.columns.find((c) => c.column.name === 'tenure')?.index).toBe(1);
    expect(mapping.ignored).toEqual([{ index: 5, header: 'tenure_1', reason: 'superseded' }]);
  });

  it('breaks a score tie by the number of values in the sample, then by position', () => {
    const header = ['customerID', 'months', 'mos', 'MonthlyCharges', 'TotalCharges', 'Contract'];
    const rows = [
      ['a', '', '3', '1', '1', 'Monthly'],
      ['b', '5', '4', '1', '1', 'Monthly'],
    ];
    expect(mapped(header, rows).tenure).toBe('mos');
    expect(mapped(header, [['a', '1', '2', '1', '1', 'Monthly']]).tenure).toBe('months');
  });

  it('ignores columns with no value in the sample, so a filled alias can stand in', () => {
    const header = [...REQUIRED_HEADER, 'plan_type'];
    const rows = [
      ['a', '1', '1', '1', '', 'Annual'],
      ['b', '1', '1', '1', ' ', 'Monthly'],
      ['c', '1', '1', '1', 'NA', 'Monthly'],
    ];
    const mapping = mapColumns(header, rows);
    expect(mapping.columns.find((c) => c.column.name === 'Contract')?.header).toBe('plan_type');
    expect(mapping.ignored).toEqual([{ index: 4, header: 'Contract', reason: 'empty' }]);
  });

  it('maps the sample SaaS file and drops company_name (§4 examples)', () => {
    const header = [
      'user_id',
      'company_name',
      'months_subscribed',
      'mrr',
      'total_revenue',
      'plan_type',
      'seats_used',
    ];
    expect(mapped(header)).toEqual({
      customerID: 'user_id',
      tenure: 'months_subscribed',
      MonthlyCharges: 'mrr',
      TotalCharges: 'total_revenue',
      Contract: 'plan_type',
      seats_used: 'seats_used',
    });
  });

  it('recognises every Telco column the model reads', () => {
    const telco =
      'customerID,gender,SeniorCitizen,Partner,Dependents,tenure,PhoneService,MultipleLines,InternetService,' +
      'OnlineSecurity,OnlineBackup,DeviceProtection,TechSupport,StreamingTV,StreamingMovies,Contract,' +
      'PaperlessBilling,PaymentMethod,MonthlyCharges,TotalCharges,Churn';
    const header = telco.split(',');
    const mapping = mapColumns(header, [header.map(() => 'x')]);
    expect(mapping.columns.map((c) => c.column.name).sort()).toEqual(
      header.filter((h) => h !== 'Churn').sort(),
    );
    expect(mapping.ignored).toEqual([{ index: 20, header: 'Churn', reason: 'unrecognised' }]);
  });

  it.each([
    ['tenure_days', 1 / 30.44],
    ['days_active', 1 / 30.44],
    ['tenure_years', 12],
    ['tenure', 1],
  ])('converts tenure units from the header %j', (header, scale) => {
    const mapping = mapColumns(
      ['customerID', header, 'MonthlyCharges', 'TotalCharges', 'Contract'],
      [REQUIRED_ROW],
    );
    expect(mapping.columns.find((c) => c.column.name === 'tenure')?.scale).toBe(scale);
  });

  it('divides charges by 100 only when the header says cents', () => {
    const header = ['customerID', 'tenure', 'mrr_cents', 'TotalCharges', 'Contract'];
    const mapping = mapColumns(header, [['a', '1', '999999', '999999', 'x']]);
    const scales = Object.fromEntries(mapping.columns.map((c) => [c.column.name, c.scale]));
    expect(scales).toMatchObject({ MonthlyCharges: 1 / 100, TotalCharges: 1 });
  });
});

describe('mapping errors', () => {
  it('names the missing required columns and their accepted aliases', () => {
    const error = inputError(() => mapColumns(['user_id', 'months', 'mrr'], [['a', '1', '2']]));
    expect(error.code).toBe('missing_columns');
    expect(error.message).toMatch(
      /^Missing required columns: TotalCharges, Contract\. Please ensure your CSV has columns for: customerID, tenure, MonthlyCharges, TotalCharges, Contract\. Suggestions: /,
    );
    expect(error.message).toContain(
      'TotalCharges may also be named ltv, lifetime_value, customer_lifetime_value',
    );
    expect(error.message).toContain('Contract may also be named contract_type, plan, plan_type');
    expect(REQUIRED_COLUMNS).toEqual(REQUIRED_HEADER);
  });

  it('rejects more than 1000 columns and names longer than 255 characters', () => {
    const wide = Array.from({ length: 1001 }, (_, i) => `c${i}`);
    expect(inputError(() => mapColumns(wide, [])).code).toBe('too_many_columns');
    const long = [...REQUIRED_HEADER, 'x'.repeat(256)];
    const error = inputError(() => mapColumns(long, [[...REQUIRED_ROW, '1']]));
    expect(error.code).toBe('header_too_long');
    expect(error.message).toContain('column 6');
    expect(mapColumns([...REQUIRED_HEADER, 'y'.repeat(255)], [[...REQUIRED_ROW, '1']]).columns).toHaveLength(
      5,
    );
  });
});
