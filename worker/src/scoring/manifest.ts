import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { canonicalColumn } from './canonical-columns.js';

/**
 * The model manifest (`worker/model/manifest.json`): the one contract between the training pipeline
 * (Python, `worker/training/`) and the TypeScript encoder. Everything the encoder does to a canonical row
 * is driven by it, so the encoder and the model can never disagree about feature order, categories,
 * imputation or scaling.
 *
 * The ONNX graph takes `features` (float64 [N, F], *raw encoded*: numeric values after clip + transform,
 * one-hot indicators as 0/1) and `variant` (int64 [1]); it standardises with `mean`/`scale` below, and
 * returns `probability` [N], `logit` [N] and `contributions` [N, F] (standardised value x coefficient),
 * so every explanation is the model's own arithmetic: sum(contributions) + intercept = logit.
 *
 * A column that is absent from a file is encoded as the feature's training `mean`, i.e. a standardised
 * value of exactly 0 and a contribution of exactly 0: absent data never adds risk or protection.
 */

const numericFeature = z.object({
  name: z.string().min(1),
  column: z.string().min(1),
  kind: z.literal('numeric'),
  /** applied after clipping; `log1p` is ln(1 + x) */
  transform: z.enum(['identity', 'log1p']),
  /** raw value range seen in training; inputs are clipped into it before the transform */
  clip: z.tuple([z.number(), z.number()]),
  /** raw value used for a missing or unparseable cell in a present column (training median) */
  impute: z.number(),
  mean: z.number(),
  scale: z.number().positive(),
});

const indicatorFeature = z.object({
  name: z.string().min(1),
  column: z.string().min(1),
  kind: z.literal('indicator'),
  /** canonical category label this indicator is 1 for */
  category: z.string(),
  mean: z.number(),
  scale: z.number().positive(),
});

export const featureSchema = z.discriminatedUnion('kind', [numericFeature, indicatorFeature]);

const cvMetrics = z.object({
  auc: z.number(),
  auc_std: z.number(),
  brier: z.number(),
  log_loss: z.number(),
  folds: z.number().int().positive(),
});

const variantSchema = z.object({
  name: z.string().min(1),
  /** optional canonical columns that must all be present in a file for this variant to be chosen */
  requires: z.array(z.string()),
  /** one per feature, in feature order; 0 for features the variant does not use */
  coefficients: z.array(z.number()),
  intercept: z.number(),
  cv: cvMetrics,
});

export const manifestSchema = z
  .object({
    schema_version: z.literal(1),
    model_type: z.string().min(1),
    model_version: z.string().min(1),
    column_mapping_version: z.string().min(1),
    created_at: z.string(),
    onnx: z.object({
      file: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      opset: z.number().int(),
      inputs: z.object({ features: z.string(), variant: z.string() }),
      outputs: z.object({ probability: z.string(), logit: z.string(), contributions: z.string() }),
    }),
    training_data: z.object({
      file: z.string(),
      sha256: z.string().regex(/^[0-9a-f]{64}$/),
      rows: z.number().int().positive(),
      positives: z.number().int().nonnegative(),
      label_column: z.string(),
    }),
    /** canonical columns the model reads, with the categories each categorical column may take */
    columns: z.record(
      z.string(),
      z.object({ categories: z.array(z.string()).optional(), impute: z.string().optional() }),
    ),
    features: z.array(featureSchema).min(1),
    /** tried in order; the first whose `requires` are all present wins, so list the richest first */
    variants: z.array(variantSchema).min(1),
    /** churn probability bands written to the results CSV (spec/csv-io.md §10: High > 0.6, Medium > 0.3) */
    thresholds: z.object({ high: z.number(), medium: z.number(), retention: z.number() }),
    /** cross-validated metrics per input shape, e.g. all_columns, required_only, saas_aliases */
    metrics: z.record(z.string(), cvMetrics.extend({ variant: z.string() })),
    training: z.record(z.string(), z.unknown()),
  })
  .superRefine((m, ctx) => {
    for (const [i, v] of m.variants.entries()) {
      if (v.coefficients.length !== m.features.length) {
        ctx.addIssue({
          code: 'custom',
          path: ['variants', i, 'coefficients'],
          message: `has ${v.coefficients.length} coefficients for ${m.features.length} features`,
        });
      }
    }
    if (!(m.thresholds.high > m.thresholds.medium)) {
      ctx.addIssue({ code: 'custom', path: ['thresholds'], message: 'high must be above medium' });
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type Feature = z.infer<typeof featureSchema>;

export async function readManifest(path: string): Promise<Manifest> {
  const text = await readFile(path, 'utf8');
  const parsed = manifestSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`Invalid model manifest ${path}: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

/** Checks, once at model load, that every manifest column and category is one the mapper produces. */
export function checkManifestColumns(manifest: Manifest): void {
  for (const [name, spec] of Object.entries(manifest.columns)) {
    const column = canonicalColumn(name);
    if (!column || column.role === 'engagement')
      throw new Error(`manifest column ${name} is not a model column of the mapper`);
    const labels = column.value.kind === 'category' ? column.value.parser.labels : undefined;
    for (const category of [
      ...(spec.categories ?? []),
      ...(spec.impute === undefined ? [] : [spec.impute]),
    ]) {
      if (!labels?.includes(category))
        throw new Error(`manifest category ${name}=${category} is not a canonical label`);
    }
  }
  for (const feature of manifest.features) {
    const kind = canonicalColumn(feature.column)?.value.kind;
    if (kind !== (feature.kind === 'numeric' ? 'number' : 'category')) {
      throw new Error(`manifest feature ${feature.name} does not match the kind of column ${feature.column}`);
    }
  }
}
