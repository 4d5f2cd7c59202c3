import type { CanonicalBatch, ColumnValues } from './canonical.js';
import { canonicalColumn } from './canonical-columns.js';
import type { Feature, Manifest } from './manifest.js';
import { MISSING_CATEGORY } from './values.js';

/**
 * Canonical batch → the model's raw feature matrix, driven only by the manifest (lessons #20/#21):
 * numeric = transform(clip(value)), with the training median for a missing cell of a present column;
 * indicator = 0/1, with the indicator's training mean (a standardised 0, i.e. no evidence either way)
 * for a missing or unknown category, as the training encoder does (worker/training/fit.py); a column
 * the file does not have is its features' means, so it contributes exactly 0 to the logit.
 *
 * The encoder also records, per row, which model columns it had to fill in (`imputed`, one bit per
 * entry of `columns`), for the confidence rating and the imputed-cell count.
 */
export interface Encoder {
  /** model columns in first-feature order; bit k of an `imputed` mask is `columns[k]` */
  readonly columns: readonly string[];
  readonly present: ReadonlySet<string>;
  readonly width: number;
  encode(batch: CanonicalBatch, features: Float64Array, imputed: Uint32Array): void;
}

type Plan = (batch: CanonicalBatch, out: Float64Array, imputed: Uint32Array) => void;

/** The `imputed` mask's bit for model column `k` (Encoder.columns[k]): the mask's one definition. */
export const imputedBit = (k: number): number => 1 << k;

/** Whether model column `k` was filled in, in a row's `imputed` mask. */
export const isImputed = (mask: number, k: number): boolean => (mask & imputedBit(k)) !== 0;

/** How many model columns a row's `imputed` mask says were filled in. */
export function imputedCount(mask: number): number {
  let n = 0;
  for (let m = mask; m !== 0; m &= m - 1) n++;
  return n;
}

export function modelColumns(manifest: Manifest): string[] {
  return [...new Set(manifest.features.map((f) => f.column))];
}

/** Index of the first variant whose required optional columns are all present (the richest first). */
export function chooseVariant(manifest: Manifest, present: ReadonlySet<string>): number {
  const index = manifest.variants.findIndex((v) => v.requires.every((c) => present.has(c)));
  if (index < 0)
    throw new Error(
      'the manifest has no variant for the columns present (it needs one that requires nothing)',
    );
  return index;
}

export function createEncoder(manifest: Manifest, present: ReadonlySet<string>): Encoder {
  const columns = modelColumns(manifest);
  const width = manifest.features.length;
  const plans = manifest.features.map((feature, j) => {
    const bit = imputedBit(columns.indexOf(feature.column));
    return present.has(feature.column)
      ? featurePlan(manifest, feature, j, width, bit)
      : constant(feature.mean, j, width);
  });
  return {
    columns,
    present,
    width,
    encode(batch, features, imputed) {
      imputed.fill(0, 0, batch.size);
      for (const plan of plans) plan(batch, features, imputed);
    },
  };
}

function constant(value: number, j: number, width: number): Plan {
  return (batch, out) => {
    for (let i = 0, at = j; i < batch.size; i++, at += width) out[at] = value;
  };
}

function columnOf(batch: CanonicalBatch, name: string): ColumnValues {
  const values = batch.columns.get(name);
  if (!values) throw new Error(`batch has no column ${name}`);
  return values;
}

function featurePlan(manifest: Manifest, feature: Feature, j: number, width: number, bit: number): Plan {
  if (feature.kind === 'numeric') {
    const [low, high] = feature.clip;
    const log = feature.transform === 'log1p';
    const { impute } = feature;
    return (batch, out, imputed) => {
      const values = columnOf(batch, feature.column);
      if (values.kind !== 'number') throw new Error(`column ${feature.column} is not numeric`);
      for (let i = 0, at = j; i < batch.size; i++, at += width) {
        let x = values.values[i] as number;
        if (Number.isNaN(x)) {
          x = impute;
          imputed[i] = (imputed[i] as number) | bit;
        }
        x = x < low ? low : x > high ? high : x;
        out[at] = log ? Math.log1p(x) : x;
      }
    };
  }
  const { category, mean } = feature;
  const spec = manifest.columns[feature.column];
  const known = new Set(spec?.categories ?? []);
  const column = canonicalColumn(feature.column)?.value;
  if (column?.kind !== 'category') throw new Error(`column ${feature.column} is not categorical`);
  // A label the model was not trained on is no evidence either way, like a missing cell.
  const missing = spec?.impute === undefined ? mean : spec.impute === category ? 1 : 0;
  const byCode = column.parser.labels.map((label) =>
    known.has(label) ? (label === category ? 1 : 0) : undefined,
  );
  return (batch, out, imputed) => {
    const values = columnOf(batch, feature.column);
    if (values.kind !== 'category') throw new Error(`column ${feature.column} is not categorical`);
    for (let i = 0, at = j; i < batch.size; i++, at += width) {
      const code = values.codes[i] as number;
      const encoded = code === MISSING_CATEGORY ? undefined : byCode[code];
      if (encoded === undefined) {
        out[at] = missing;
        imputed[i] = (imputed[i] as number) | bit;
      } else {
        out[at] = encoded;
      }
    }
  };
}
