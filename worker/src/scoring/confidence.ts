import { isImputed, type Encoder } from './encoder.js';
import type { Manifest } from './manifest.js';

export type Confidence = 'high' | 'medium' | 'low';

/**
 * Confidence = the share of the variant's model weight (Σ|coefficient| over a column's features) that
 * rests on cells the file actually provided: columns absent from the file and cells imputed in this row
 * do not count. ≥ 0.8 high, ≥ 0.5 medium, else low (the existing bands).
 */
export function createConfidence(
  manifest: Manifest,
  encoder: Encoder,
  variant: number,
): (imputed: number) => Confidence {
  const coefficients = manifest.variants[variant]?.coefficients ?? [];
  const weights = encoder.columns.map((column) =>
    manifest.features.reduce(
      (sum, f, j) => sum + (f.column === column ? Math.abs(coefficients[j] ?? 0) : 0),
      0,
    ),
  );
  const total = weights.reduce((a, b) => a + b, 0);
  const presentShare =
    encoder.columns.reduce((sum, c, k) => sum + (encoder.present.has(c) ? (weights[k] as number) : 0), 0) /
    total;
  const shares = weights.map((w) => w / total);
  const cache = new Map<number, Confidence>();
  return (imputed) => {
    let rating = cache.get(imputed);
    if (rating === undefined) {
      let share = presentShare;
      shares.forEach((s, k) => {
        if (isImputed(imputed, k)) share -= s;
      });
      rating = share >= 0.8 ? 'high' : share >= 0.5 ? 'medium' : 'low';
      cache.set(imputed, rating);
    }
    return rating;
  };
}
