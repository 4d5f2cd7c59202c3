import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchReader } from '../../src/scoring/canonical.js';
import { mapColumns } from '../../src/scoring/columns.js';
import { chooseVariant, createEncoder } from '../../src/scoring/encoder.js';
import { defaultModelDir, loadModel, runModel, type ChurnModel } from '../../src/scoring/model.js';

interface ParityCase {
  variant: string;
  row: Record<string, string>;
  features: number[];
  logit: number;
  probability: number;
}

const parity = JSON.parse(await readFile(join(defaultModelDir(), 'parity.json'), 'utf8')) as {
  variant_names: string[];
  cases: ParityCase[];
};

/** Parity cases grouped by the columns they have: each group is one "file". */
function groups(): ParityCase[][] {
  const byColumns = new Map<string, ParityCase[]>();
  for (const c of parity.cases) {
    const key = Object.keys(c.row).join(',');
    byColumns.set(key, [...(byColumns.get(key) ?? []), c]);
  }
  return [...byColumns.values()];
}

let model: ChurnModel;
beforeAll(async () => {
  model = await loadModel();
});

/** The production path for one group: header mapping → canonical values → encoder → ONNX. */
async function score(cases: ParityCase[]) {
  const columns = Object.keys(cases[0]?.row ?? {});
  const header = ['customerID', ...columns];
  const records = cases.map((c, i) => [`p${i}`, ...columns.map((column) => c.row[column] ?? '')]);
  // A filled sample: a column that is blank in every case of a small group is still "present" here.
  const mapping = mapColumns(header, [header.map(() => 'x')]);
  const present = new Set(mapping.columns.map((c) => c.column.name));
  const encoder = createEncoder(model.manifest, present);
  const batch = batchReader(mapping, records.length, '.')(records);
  const features = new Float64Array(records.length * encoder.width);
  const imputed = new Uint32Array(records.length);
  encoder.encode(batch, features, imputed);
  const variant = chooseVariant(model.manifest, present);
  const outputs = await runModel(model, variant, features, records.length);
  return { encoder, features, imputed, variant, outputs };
}

describe('parity with the Python training pipeline (worker/model/parity.json)', () => {
  it('has cases for every variant', () => {
    expect(new Set(parity.cases.map((c) => c.variant))).toEqual(
      new Set(model.manifest.variants.map((v) => v.name)),
    );
  });

  it.each(groups().map((g) => [g[0]?.variant, Object.keys(g[0]?.row ?? {}).length, g] as const))(
    'variant %s, %d columns: same features, variant, logit and probability',
    async (_, __, cases) => {
      const { encoder, features, variant, outputs } = await score(cases);
      cases.forEach((c, i) => {
        expect(model.manifest.variants[variant]?.name).toBe(c.variant);
        expect(Array.from(features.subarray(i * encoder.width, (i + 1) * encoder.width))).toEqual(c.features);
        expect(Math.abs((outputs.probability[i] as number) - c.probability)).toBeLessThanOrEqual(1e-5);
        expect(Math.abs((outputs.logit[i] as number) - c.logit)).toBeLessThanOrEqual(1e-5);
      });
    },
  );

  it('explains exactly: contributions + intercept = logit for every case', async () => {
    for (const cases of groups()) {
      const { encoder, variant, outputs } = await score(cases);
      const intercept = model.manifest.variants[variant]?.intercept ?? NaN;
      cases.forEach((_, i) => {
        const row = outputs.contributions.subarray(i * encoder.width, (i + 1) * encoder.width);
        const sum = row.reduce((a, b) => a + b, 0);
        expect(Math.abs(sum + intercept - (outputs.logit[i] as number))).toBeLessThanOrEqual(1e-6);
      });
    }
  });

  it('flags imputed cells and gives absent columns exactly zero contribution', async () => {
    const { encoder, imputed, outputs } = await score([
      {
        variant: 'core',
        row: { tenure: '', MonthlyCharges: '70', TotalCharges: 'n/a', Contract: 'weekly' },
        features: [],
        logit: 0,
        probability: 0,
      },
    ]);
    const bits = encoder.columns.filter((_, k) => ((imputed[0] as number) & (1 << k)) !== 0);
    expect(bits.sort()).toEqual(['Contract', 'TotalCharges', 'tenure']);
    model.manifest.features.forEach((f, j) => {
      if (!['tenure', 'MonthlyCharges', 'TotalCharges'].includes(f.column))
        expect(Math.abs(outputs.contributions[j] ?? NaN)).toBe(0);
    });
  });
});

describe('loadModel checks the artifacts against each other (lessons #21)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'model-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function copyWith(edit: (manifest: Record<string, unknown>) => void): Promise<string> {
    const target = await mkdtemp(join(dir, 'm-'));
    await cp(defaultModelDir(), target, { recursive: true });
    const manifest = JSON.parse(await readFile(join(target, 'manifest.json'), 'utf8')) as Record<
      string,
      unknown
    >;
    edit(manifest);
    await writeFile(join(target, 'manifest.json'), JSON.stringify(manifest));
    return target;
  }

  it('rejects an ONNX file whose sha256 differs from the manifest', async () => {
    const target = await copyWith((m) => {
      (m.onnx as { sha256: string }).sha256 = '0'.repeat(64);
    });
    await expect(loadModel(target)).rejects.toThrow(/sha256/);
  });

  it('rejects a manifest naming inputs the graph does not have', async () => {
    const target = await copyWith((m) => {
      (m.onnx as { inputs: { features: string } }).inputs.features = 'x';
    });
    await expect(loadModel(target)).rejects.toThrow(/inputs/);
  });

  it('rejects a manifest whose intercepts disagree with the graph', async () => {
    const target = await copyWith((m) => {
      (m.variants as { intercept: number }[])[0]!.intercept += 0.5;
    });
    await expect(loadModel(target)).rejects.toThrow(/intercept/);
  });

  it('rejects a category the column mapper never produces', async () => {
    const target = await copyWith((m) => {
      (m.columns as Record<string, { categories: string[] }>).Contract!.categories.push('Weekly');
    });
    await expect(loadModel(target)).rejects.toThrow(/Contract=Weekly/);
  });
});
