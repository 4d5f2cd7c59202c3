import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { z } from 'zod';
import { readManifest, type Manifest } from '../src/scoring/manifest.js';

/**
 * The check every trained model passes before it replaces `worker/model/`: the manifest is valid, it
 * names the ONNX file's hash, and onnxruntime reproduces scikit-learn's logits and probabilities on the
 * parity cases, with contributions that add up to the logit.
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

export interface ModelOutputs {
  readonly probability: Float64Array;
  readonly logit: Float64Array;
  /** row-major [rows, features] */
  readonly contributions: Float64Array;
}

/** Runs the graph on raw-encoded rows with one variant, as contracts.md §A defines its inputs. */
export async function runModel(
  session: InferenceSession,
  features: readonly (readonly number[])[],
  variant: number,
): Promise<ModelOutputs> {
  const width = features[0]?.length ?? 0;
  const out = await session.run({
    features: new Tensor('float64', Float64Array.from(features.flat()), [features.length, width]),
    variant: new Tensor('int64', BigInt64Array.of(BigInt(variant)), [1]),
  });
  const data = (name: string): Float64Array => {
    const tensor = out[name];
    if (!(tensor?.data instanceof Float64Array))
      throw new Error(`ONNX output ${name} is missing or not float64`);
    return tensor.data;
  };
  return { probability: data('probability'), logit: data('logit'), contributions: data('contributions') };
}

export interface ModelCheck {
  readonly manifest: Manifest;
  readonly cases: number;
  readonly maxProbabilityError: number;
  readonly maxLogitError: number;
  readonly maxContributionError: number;
}

/** Verifies the three artifacts in `dir`; throws an Error naming the first problem. */
export async function verifyModel(dir: string): Promise<ModelCheck> {
  const manifest = await readManifest(join(dir, 'manifest.json'));
  const onnxPath = join(dir, manifest.onnx.file);
  const actualHash = await sha256File(onnxPath);
  if (actualHash !== manifest.onnx.sha256) {
    throw new Error(`${onnxPath} has sha256 ${actualHash}, the manifest says ${manifest.onnx.sha256}`);
  }
  const parity = await readParity(join(dir, 'parity.json'));
  const names = manifest.variants.map((v) => v.name);
  if (parity.variant_names.join() !== names.join()) {
    throw new Error(
      `parity variants ${parity.variant_names.join()} differ from manifest variants ${names.join()}`,
    );
  }
  const session = await InferenceSession.create(onnxPath);
  try {
    const errors = { probability: 0, logit: 0, contribution: 0 };
    for (const [index, variant] of manifest.variants.entries()) {
      const cases = parity.cases.filter((c) => c.variant === variant.name);
      if (cases.length === 0) throw new Error(`parity.json has no case for variant ${variant.name}`);
      const out = await runModel(
        session,
        cases.map((c) => c.features),
        index,
      );
      const width = manifest.features.length;
      cases.forEach((c, i) => {
        const sum = out.contributions.subarray(i * width, (i + 1) * width).reduce((a, b) => a + b, 0);
        errors.probability = Math.max(
          errors.probability,
          Math.abs((out.probability[i] as number) - c.probability),
        );
        errors.logit = Math.max(errors.logit, Math.abs((out.logit[i] as number) - c.logit));
        errors.contribution = Math.max(
          errors.contribution,
          Math.abs(sum + variant.intercept - (out.logit[i] as number)),
        );
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
    await session.release();
  }
}
