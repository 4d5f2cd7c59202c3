import type { CanonicalBatch } from './canonical.js';
import type { Factor, Impact } from './explain.js';
import { MISSING_CATEGORY } from './values.js';

/**
 * Engagement signals: SaaS columns are not model inputs (the model is trained on Telco data), so they become
 * clearly labelled `engagement_signal` factors with no contribution, listed after the model factors, which never
 * change the probability.
 */

const SIGNAL_SUFFIX = ' (engagement signal, not part of the churn score)';

type Rule = (batch: CanonicalBatch, row: number, risks: Factor[], protective: Factor[]) => void;

/** A rule with the columns it reads: rules whose columns the file lacks are dropped once per file. */
export interface EngagementRule {
  readonly columns: readonly string[];
  readonly rule: Rule;
}

const signal = (factor: string, impact: Impact, message: string): Factor => ({
  factor,
  impact,
  message: message + SIGNAL_SUFFIX,
  source: 'engagement_signal',
});

function numberAt(batch: CanonicalBatch, column: string, row: number): number {
  const values = batch.columns.get(column);
  return values?.kind === 'number' ? (values.values[row] as number) : NaN;
}

function labelAt(batch: CanonicalBatch, column: string, row: number): string | undefined {
  const values = batch.columns.get(column);
  if (values?.kind !== 'category') return undefined;
  const code = values.codes[row] as number;
  return code === MISSING_CATEGORY ? undefined : values.labels[code];
}

/** Python's round-half-even to an integer, as the existing rule texts print usage. */
const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};
const plain = (x: number): string => String(x);

/**
 * spec/csv-io.md §7's rules for the SaaS columns, without its defects (lessons #19): a rule fires only
 * on a present, readable value; absent columns add nothing; "No" is no.
 */
export function engagementRules(): EngagementRule[] {
  return [
    {
      columns: ['feature_usage_score'],
      rule: (batch, row, risks, protective) => {
        const usage = numberAt(batch, 'feature_usage_score', row);
        if (Number.isNaN(usage)) return;
        const u = `${roundHalfEven(usage)}%`;
        if (usage < 30)
          risks.push(
            signal('low_product_usage', 'high', `Low usage (${u}) indicates customer not getting value`),
          );
        else if (usage < 50)
          risks.push(signal('moderate_usage', 'medium', `Moderate usage (${u}) - room for improvement`));
        else if (usage >= 70)
          protective.push(
            signal('high_product_usage', 'high', `High usage (${u}) shows strong product-market fit`),
          );
      },
    },
    {
      columns: ['seats_purchased', 'seats_used'],
      rule: (batch, row, risks, protective) => {
        const purchased = numberAt(batch, 'seats_purchased', row);
        const used = numberAt(batch, 'seats_used', row);
        if (!(purchased > 0) || Number.isNaN(used)) return;
        const ratio = used / purchased;
        const p = `${roundHalfEven(ratio * 100)}%`;
        if (ratio < 0.5)
          risks.push(
            signal('low_seat_utilization', 'high', `Only ${p} of seats used - paying for unused licenses`),
          );
        else if (ratio < 0.7)
          risks.push(signal('moderate_utilization', 'low', `${p} seat utilization - some unused capacity`));
        else if (ratio >= 0.8)
          protective.push(signal('high_seat_utilization', 'medium', `${p} seats used - getting full value`));
      },
    },
    {
      columns: ['support_tickets'],
      rule: (batch, row, risks) => {
        const tickets = numberAt(batch, 'support_tickets', row);
        if (tickets > 5)
          risks.push(
            signal(
              'high_support_needs',
              'medium',
              `${plain(tickets)} support tickets - possible product issues`,
            ),
          );
      },
    },
    {
      columns: ['last_activity_days_ago'],
      rule: (batch, row, risks) => {
        const days = numberAt(batch, 'last_activity_days_ago', row);
        if (days > 14)
          risks.push(
            signal('inactive_user', 'high', `${plain(days)} days since last activity - abandonment signal`),
          );
      },
    },
    {
      columns: ['has_integration'],
      rule: (batch, row, risks, protective) => {
        const integration = labelAt(batch, 'has_integration', row);
        if (integration === 'No')
          risks.push(signal('no_integrations', 'medium', 'No integrations - low switching cost'));
        else if (integration === 'Yes')
          protective.push(signal('has_integrations', 'medium', 'Has integrations - higher switching cost'));
      },
    },
    {
      columns: ['trial_converted'],
      rule: (batch, row, risks) => {
        if (labelAt(batch, 'trial_converted', row) === 'No') {
          risks.push(
            signal('trial_not_converted', 'low', 'Did not convert from free trial - less committed'),
          );
        }
      },
    },
  ];
}
