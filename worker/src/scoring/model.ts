import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InferenceSession, Tensor } from 'onnxruntime-node';
import { packageRoot } from '../package-root.js';
import { checkManifestColumns, readManifest, type Manifest } from './manifest.js';

/**
 * The model: manifest + ONNX session, checked against each other at load (lessons #21) so a mismatched
 * pair fails the worker's start instead of scoring with swapped features.
 */
export interface ChurnModel {
  readonly manifest: Manifest;
  readonly session: InferenceSession;
  readonly modelDir: string;
}

export interface ModelOutputs {
  /** [n] */
  readonly probability: Float64Array;
  /** [n] */
  readonly logit: Float64Array;
  /** [n × F], row-major */
  readonly contributions: Float64Array;
}

/** `worker/model`, whether the code runs from source (tsx) or from `dist/`. */
export function defaultModelDir(): string {
  return join(packageRoot(), 'model');
}

// On a 2-vCPU task onnxruntime's default intra-op pool spins waiting for work and competes with the JS
// thread, which does most of the work (parsing, explaining, formatting): one thread, no spinning.
const SESSION_OPTIONS: InferenceSession.SessionOptions = {
  intraOpNumThreads: 1,
  interOpNumThreads: 1,
  executionMode: 'sequential',
  graphOptimizationLevel: 'all',
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
};

export async function loadModel(modelDir: string = defaultModelDir()): Promise<ChurnModel> {
  const dir = resolve(modelDir);
  const manifest = await readManifest(join(dir, 'manifest.json'));
  checkManifestColumns(manifest);
  const onnxPath = join(dir, manifest.onnx.file);
  const bytes = await readFile(onnxPath);
  const sha256 = createHash('sha256').update(bytes).digest('hex');
  if (sha256 !== manifest.onnx.sha256) {
    throw new Error(`${onnxPath} has sha256 ${sha256} but the manifest expects ${manifest.onnx.sha256}`);
  }
  const session = await InferenceSession.create(bytes, SESSION_OPTIONS);
  const model = { manifest, session, modelDir: dir };
  checkSignature(model);
  await checkIntercepts(model);
  return model;
}

function checkSignature({ manifest, session }: ChurnModel): void {
  const expect = (kind: string, actual: readonly string[], wanted: readonly string[]): void => {
    if ([...actual].sort().join() !== [...wanted].sort().join()) {
      throw new Error(
        `model ${kind} are [${actual.join(', ')}] but the manifest names [${wanted.join(', ')}]`,
      );
    }
  };
  expect('inputs', session.inputNames, Object.values(manifest.onnx.inputs));
  expect('outputs', session.outputNames, Object.values(manifest.onnx.outputs));
}

/**
 * A row of feature means standardises to 0, so every variant must return logit = its intercept: one run
 * per variant proves feature count, order of initialisers and variant indexing agree with the manifest.
 */
async function checkIntercepts(model: ChurnModel): Promise<void> {
  const means = Float64Array.from(model.manifest.features, (f) => f.mean);
  for (const [index, variant] of model.manifest.variants.entries()) {
    const { logit } = await runModel(model, index, means, 1);
    if (!(Math.abs((logit[0] as number) - variant.intercept) <= 1e-9)) {
      throw new Error(
        `model variant ${variant.name} returns logit ${logit[0]} for the mean row, not its intercept ${variant.intercept}`,
      );
    }
  }
}

/** Scores `rows` rows of `features` (row-major, manifest feature order) with one variant. */
export async function runModel(
  model: ChurnModel,
  variant: number,
  features: Float64Array,
  rows: number,
): Promise<ModelOutputs> {
  const { manifest, session } = model;
  const width = manifest.features.length;
  const { inputs, outputs } = manifest.onnx;
  const result = await session.run({
    [inputs.features]: new Tensor('float64', features.subarray(0, rows * width), [rows, width]),
    [inputs.variant]: new Tensor('int64', BigInt64Array.of(BigInt(variant)), [1]),
  });
  const read = (name: string, length: number): Float64Array => {
    const tensor = result[name];
    if (!tensor || tensor.type !== 'float64' || tensor.data.length !== length) {
      throw new Error(`model output ${name} is not float64[${length}]`);
    }
    return tensor.data as Float64Array;
  };
  return {
    probability: read(outputs.probability, rows),
    logit: read(outputs.logit, rows),
    contributions: read(outputs.contributions, rows * width),
  };
}
