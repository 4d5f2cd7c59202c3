import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { Manifest } from '../src/scoring/manifest.js';
import { loadModel, runModel } from '../src/scoring/model.js';

/**
 * The check every trained model passes before it replaces `worker/model/`: the scoring library loads it
 * (valid manifest, known columns, ONNX hash and signature), and onnxruntime reproduces scikit-learn's
 * logits and probabilities on the parity cases, with contributions that add up to the logit.
 */

/** contracts.md §A: ONNX against scikit-learn */
export const PARITY_TOLERANCE = 1e-5;
/** sum(contributions) + intercept against the logit output: the same float64 arithmetic, reordered */
export const CONTRIBUTION_TOLERANCE = 1e-6;

const parityCase = z.object({
  variant: z.string(),
  row: z.record(z.string(), z.string()),
  features: z.array(z.number()),
  logit: z.number(),
  probability: z.number(),
});

export const paritySchema = z.object({
  variant_names: z.array(z.string()).min(1),
  cases: z.array(parityCase).min(1),
});

export type Parity = z.infer<typeof paritySchema>;
export type ParityCase = z.infer<typeof parityCase>;

export async function readParity(path: string): Promise<Parity> {
  const parsed = paritySchema.safeParse(JSON.parse(await readFile(path, 'utf8')));
  if (!parsed.success) throw new Error(`Invalid parity file ${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Parity rows as the row-major matrix the model takes. */
export function featureMatrix(cases: readonly ParityCase[]): Float64Array {
  return Float64Array.from(cases.flatMap((c) => c.features));
}

export interface ModelCheck {
  readonly manifest: Manifest;
  readonly cases: number;
  readonly maxProbabilityError: number;
  readonly maxLogitError: number;
  readonly maxContributionError: number;
}

/**
 * Verifies the three artifacts in `dir` and returns the worst errors; throws an Error naming the first
 * problem. Loading goes through the scoring library, so a model it would refuse never gets installed.
 */
export async function verifyModel(dir: string): Promise<ModelCheck> {
  const model = await loadModel(dir);
  try {
    const { manifest } = model;
    const parity = await readParity(join(dir, 'parity.json'));
    const names = manifest.variants.map((v) => v.name);
    if (parity.variant_names.join() !== names.join()) {
      throw new Error(
        `parity variants ${parity.variant_names.join()} differ from manifest variants ${names.join()}`,
      );
    }
    const width = manifest.features.length;
    const errors = { probability: 0, logit: 0, contribution: 0 };
    for (const [index, variant] of manifest.variants.entries()) {
      const cases = parity.cases.filter((c) => c.variant === variant.name);
      if (cases.length === 0) throw new Error(`parity.json has no case for variant ${variant.name}`);
      const out = await runModel(model, index, featureMatrix(cases), cases.length);
      cases.forEach((c, i) => {
        const sum = out.contributions.subarray(i * width, (i + 1) * width).reduce((a, b) => a + b, 0);
        const logit = out.logit[i] as number;
        errors.probability = Math.max(
          errors.probability,
          Math.abs((out.probability[i] as number) - c.probability),
        );
        errors.logit = Math.max(errors.logit, Math.abs(logit - c.logit));
        errors.contribution = Math.max(errors.contribution, Math.abs(sum + variant.intercept - logit));
      });
    }
    if (errors.probability > PARITY_TOLERANCE || errors.logit > PARITY_TOLERANCE) {
      throw new Error(
        `ONNX differs from scikit-learn: probability by ${errors.probability}, logit by ${errors.logit} (limit ${PARITY_TOLERANCE})`,
      );
    }
    if (errors.contribution > CONTRIBUTION_TOLERANCE) {
      throw new Error(`contributions + intercept differ from the logit by ${errors.contribution}`);
    }
    return {
      manifest,
      cases: parity.cases.length,
      maxProbabilityError: errors.probability,
      maxLogitError: errors.logit,
      maxContributionError: errors.contribution,
    };
  } finally {
    await model.session.release();
  }
}
