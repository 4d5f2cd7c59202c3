import type { CanonicalBatch, ColumnValues } from './canonical.js';
import { canonicalColumn } from './canonical-columns.js';
import { engagementRules } from './engagement.js';
import { isImputed, type Encoder } from './encoder.js';
import type { Manifest } from './manifest.js';
import type { ModelOutputs } from './model.js';
import type { FactorBytes } from './row-bytes.js';
import { MISSING_CATEGORY } from './values.js';
import { CATEGORY_MESSAGES, NUMERIC_NAMES, numericMessage, snake } from './factor-texts.js';

/**
 * Per-row explanations. Model factors are the model's own arithmetic: the ONNX `contributions` of a
 * source column's features summed (for a one-hot column, its indicators), positive = raises the churn
 * logit (risk), negative = lowers it (protective), ranked by magnitude; contributions + intercept = logit.
 * SaaS engagement columns are not model inputs (the model is trained on Telco data): they become clearly
 * labelled `engagement_signal` factors from the existing rules (spec/csv-io.md §7, engagement.ts) with no contribution,
 * listed after the model factors, and never change the probability.
 */

export type Impact = 'high' | 'medium' | 'low';

export interface Factor {
  readonly factor: string;
  readonly impact: Impact;
  readonly message: string;
  readonly source: 'model' | 'engagement_signal';
  /** logit units; model factors only */
  readonly contribution?: number;
  /**
   * One object per distinct model-factor text, shared by every row that shows it, in which the row writer keeps
   * that text's encoded bytes (output.ts): a field read instead of a lookup by message per factor and row.
   */
  readonly memo?: FactorMemo;
}

export type FactorMemo = { -readonly [impact in Impact]?: FactorBytes };

export interface Explanation {
  readonly risks: Factor[];
  readonly protective: Factor[];
}

/**
 * Impact by |contribution| in logit units: ≥ 0.5 (odds × 1.65 or more) high, ≥ 0.2 (× 1.22) medium,
 * ≥ 0.05 (× 1.05) low; smaller contributions are noise for a reader and are not listed.
 */
export const IMPACT_THRESHOLDS = { high: 0.5, medium: 0.2, low: 0.05 } as const;

export function impactOf(magnitude: number): Impact | undefined {
  if (magnitude >= IMPACT_THRESHOLDS.high) return 'high';
  if (magnitude >= IMPACT_THRESHOLDS.medium) return 'medium';
  if (magnitude >= IMPACT_THRESHOLDS.low) return 'low';
  return undefined;
}

export interface BatchScores {
  readonly batch: CanonicalBatch;
  readonly features: Float64Array;
  readonly imputed: Uint32Array;
  readonly outputs: ModelOutputs;
}

export type Explainer = (scores: BatchScores, row: number) => Explanation;

/**
 * Texts kept per numeric column and side. Months and price points recur and fit; customers' totals hardly ever
 * do, and each text kept holds its encoded pieces (row-bytes.ts): at 16,384 a job on a file of distinct totals
 * kept ~100 MB alive (peak RSS 379 MB on the 1M-row bench job) for a cache that almost never hit.
 */
const TEXT_CACHE_LIMIT = 1024;

/**
 * At most this many model factors are listed per side (the largest): the explanation shows 3, and more
 * only add bytes (each listed factor is ~120 bytes of every results row), not insight.
 */
export const MAX_MODEL_FACTORS = 3;

interface Described {
  readonly factor: string;
  readonly message: string;
  readonly memo: FactorMemo;
}

interface ColumnPlan {
  /** the column's index in the encoder's columns, as the imputed mask counts them */
  readonly k: number;
  /** feature indices of the column */
  readonly features: readonly number[];
  readonly imputed: Described;
  describe(scores: BatchScores, row: number, risk: boolean): Described;
}

export function createExplainer(manifest: Manifest, encoder: Encoder): Explainer {
  const width = manifest.features.length;
  const plans = encoder.columns.flatMap((name, k) =>
    encoder.present.has(name) ? [columnPlan(manifest, name, k)] : [],
  );
  const engagement = engagementRules().flatMap(({ columns, rule }) =>
    columns.every((c) => encoder.present.has(c)) ? [rule] : [],
  );
  // Every plan's feature indices end to end (plan p's end at ends[p]): one typed array read in order instead of
  // an array per plan, in the same order, so the sums are the same doubles.
  const featureIndices = Int32Array.from(plans.flatMap((plan) => plan.features));
  let end = 0;
  const ends = Int32Array.from(plans, (plan) => (end += plan.features.length));
  // Reused per row: the column sums, and the indices of the largest per side in descending order.
  const sums = new Float64Array(plans.length);
  const top = { risk: new Int32Array(MAX_MODEL_FACTORS), protective: new Int32Array(MAX_MODEL_FACTORS) };
  // built once, not per row: a closure per row cost an allocation (and, under tsx, a __name call) each
  const pick = (
    scores: BatchScores,
    row: number,
    indices: Int32Array,
    n: number,
    risk: boolean,
  ): Factor[] => {
    const imputed = scores.imputed[row] as number;
    const factors = new Array<Factor>(n);
    for (let i = 0; i < n; i++) {
      const p = indices[i] as number;
      const plan = plans[p] as ColumnPlan;
      const contribution = sums[p] as number;
      const { factor, message, memo } = isImputed(imputed, plan.k)
        ? plan.imputed
        : plan.describe(scores, row, risk);
      const impact = impactOf(Math.abs(contribution)) as Impact;
      factors[i] = { factor, impact, message, source: 'model', contribution, memo };
    }
    return factors;
  };
  return (scores, row) => {
    const contributions = scores.outputs.contributions;
    const base = row * width;
    let risky = 0;
    let safe = 0;
    for (let p = 0, f = 0; p < plans.length; p++) {
      let sum = 0;
      for (const last = ends[p] as number; f < last; f++)
        sum += contributions[base + (featureIndices[f] as number)] as number;
      sums[p] = sum;
      if (sum >= IMPACT_THRESHOLDS.low) risky = insertTop(top.risk, risky, p, sum, sums);
      else if (-sum >= IMPACT_THRESHOLDS.low) safe = insertTop(top.protective, safe, p, -sum, sums);
    }
    const risks = pick(scores, row, top.risk, risky, true);
    const protective = pick(scores, row, top.protective, safe, false);
    for (const rule of engagement) rule(scores.batch, row, risks, protective);
    return { risks, protective };
  };
}

/** Inserts plan `p` into the first `n` entries of `top` (ordered by |sum| descending); returns the new count. */
function insertTop(top: Int32Array, n: number, p: number, magnitude: number, sums: Float64Array): number {
  let at = Math.min(n, top.length);
  while (at > 0 && Math.abs(sums[top[at - 1] as number] as number) < magnitude) at--;
  if (at >= top.length) return n;
  // at most two entries move: a loop, not the call into copyWithin (1.8% of scoreCsv in its profile)
  for (let i = Math.min(n, top.length - 1); i > at; i--) top[i] = top[i - 1] as number;
  top[at] = p;
  return Math.min(n + 1, top.length);
}

function columnPlan(manifest: Manifest, name: string, k: number): ColumnPlan {
  const width = manifest.features.length;
  const features = manifest.features.flatMap((f, j) => (f.column === name ? [j] : []));
  const key = snake(name);
  const first = features[0] as number;
  const feature = manifest.features[first];
  const mean = feature?.mean ?? 0;
  const numeric = feature?.kind === 'numeric';
  const imputed = {
    factor: `${key}_missing`,
    message: `${NUMERIC_NAMES[name] ?? name} not provided - ${numeric ? 'typical' : 'most common'} value assumed`,
    memo: {},
  };
  if (numeric) {
    const range = feature.clip;
    // Few distinct values recur (months, price points): each text is built once per value and side.
    const texts = [0, 1, 2, 3].map(() => new Map<number, Described>());
    const column = batchColumn(name);
    return {
      k,
      features,
      imputed,
      describe(scores, row, risk) {
        const values = column(scores.batch);
        const value = values?.kind === 'number' ? (values.values[row] as number) : NaN;
        const above = (scores.features[row * width + first] as number) > mean;
        const cache = texts[(above ? 2 : 0) + (risk ? 1 : 0)] as Map<number, Described>;
        let described = cache.get(value);
        if (described === undefined) {
          described = { factor: key, message: numericMessage(name, value, range, above, risk), memo: {} };
          if (cache.size < TEXT_CACHE_LIMIT) cache.set(value, described);
        }
        return described;
      },
    };
  }
  const labels = canonicalLabels(name);
  const byCode: Described[] = labels.map((label) => ({
    factor: `${key}_${snake(label)}`,
    message: CATEGORY_MESSAGES[name]?.[label] ?? `${name}: ${label}`,
    memo: {},
  }));
  const column = batchColumn(name);
  return {
    k,
    features,
    imputed,
    describe(scores, row) {
      const values = column(scores.batch);
      const code = values?.kind === 'category' ? (values.codes[row] as number) : MISSING_CATEGORY;
      return byCode[code] ?? imputed;
    },
  };
}

/**
 * A column's values in a batch, looked up once per batch: the scorer refills the same batch object (canonical.ts),
 * and a Map lookup per listed factor and row showed in the profile.
 */
function batchColumn(name: string): (batch: CanonicalBatch) => ColumnValues | undefined {
  let last: CanonicalBatch | undefined;
  let values: ColumnValues | undefined;
  return (batch) => {
    if (batch !== last) {
      last = batch;
      values = batch.columns.get(name);
    }
    return values;
  };
}

function canonicalLabels(name: string): readonly string[] {
  const value = canonicalColumn(name)?.value;
  return value?.kind === 'category' ? value.parser.labels : [];
}
