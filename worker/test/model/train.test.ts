import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyModel } from '../../training/verify.js';

// `npm run train` end to end on a company's own labelled history (SaaS-style headers), as a platform
// team would retrain: it must map the file like scoring does, fit, verify and install the model.
const TRAIN = fileURLToPath(new URL('../../training/train.ts', import.meta.url));
const TSX = fileURLToPath(new URL('../../../node_modules/.bin/tsx', import.meta.url));
const PYTHON = '/usr/bin/python3';
const pythonReady = spawnSync(PYTHON, ['-c', 'import numpy, pandas, sklearn, onnx']).status === 0;

const run = promisify(execFile);
let dir: string;

/** Deterministic pseudo-random numbers (mulberry32), so the synthetic history is the same every run. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A SaaS export: aliased headers, plan names instead of contracts, money with `$`, a Yes/No label. */
function companyHistory(rows: number): string {
  const next = random(42);
  const plans = ['Starter', 'Annual', 'Two year'];
  const payments = ['Electronic check', 'Credit card (automatic)', 'Mailed check'];
  const lines = ['user_id,months_subscribed,mrr,total_revenue,plan_type,payment_type,sex,Churned'];
  for (let i = 0; i < rows; i++) {
    const plan = Math.floor(next() * 3);
    const payment = Math.floor(next() * 3);
    const months = 1 + Math.floor(next() * 60);
    const mrr = 20 + Math.round(next() * 8000) / 100;
    const logit = 1 - 0.04 * months - 1.2 * plan + 0.01 * mrr + (payment === 0 ? 0.6 : 0) + (next() - 0.5);
    const churned = next() < 1 / (1 + Math.exp(-logit));
    const total = i % 50 === 0 ? '' : `"$${(months * mrr).toFixed(2)}"`;
    lines.push(
      [
        `u${i}`,
        months,
        mrr,
        total,
        plans[plan],
        payments[payment],
        next() < 0.5 ? 'F' : 'M',
        churned ? 'Yes' : 'No',
      ].join(','),
    );
  }
  return lines.join('\n') + '\n';
}

async function train(args: string[], env: NodeJS.ProcessEnv = {}) {
  return run(TSX, [TRAIN, ...args], { env: { ...process.env, ...env }, cwd: dir });
}

async function failedTrain(
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: unknown; stderr: string }> {
  try {
    await train(args, env);
  } catch (error) {
    const { code, stderr } = error as { code?: unknown; stderr?: string };
    return { code, stderr: stderr ?? '' };
  }
  throw new Error('training succeeded unexpectedly');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'retainwise-train-'));
  await writeFile(join(dir, 'history.csv'), companyHistory(600));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('npm run train', () => {
  it.skipIf(!pythonReady)(
    "retrains on a company's own history, reproducibly, with variants for the columns it has",
    async () => {
      const { stderr } = await train(['--data', 'history.csv', '--out', 'model-a'], { INIT_CWD: dir });
      expect(stderr).toContain('600 labelled rows');
      const check = await verifyModel(join(dir, 'model-a'));
      expect(check.manifest.training_data).toMatchObject({
        file: 'history.csv',
        label_column: 'Churned',
        rows: 600,
      });
      expect(check.manifest.variants.map((v) => [v.name, v.requires])).toEqual([
        ['saas', expect.any(Array)],
        ['core', []],
      ]);
      expect(Object.keys(check.manifest.columns).sort()).toEqual([
        'Contract',
        'MonthlyCharges',
        'PaymentMethod',
        'TotalCharges',
        'gender',
        'tenure',
      ]);
      expect(check.manifest.metrics.all_columns?.auc).toBeGreaterThan(0.7);

      await train(['--data', join(dir, 'history.csv'), '--out', join(dir, 'model-b')]);
      for (const file of ['churn.onnx', 'parity.json', 'manifest.json']) {
        expect(await readFile(join(dir, 'model-b', file))).toEqual(
          await readFile(join(dir, 'model-a', file)),
        );
      }
    },
    180_000,
  );

  it.each(['--help', '-h'])('prints its help on stdout with %s', async (flag) => {
    const { stdout } = await train([flag]);
    expect(stdout).toMatch(/^usage: npm run train/);
    expect(stdout).toContain('Exit codes: 0 ');
  });

  it('rejects an unknown flag with the usage line on stderr, exit 2, no stack trace', async () => {
    const { code, stderr } = await failedTrain(['--bogus'], {});
    expect(code).toBe(2);
    expect(stderr).toMatch(/^train: .*--bogus.*\nusage: npm run train.*\n$/);
  });

  it('names the apt packages when the Python stack is missing, and writes nothing', async () => {
    const { code, stderr } = await failedTrain(['--data', 'history.csv', '--out', 'never'], {
      INIT_CWD: dir,
      TRAIN_PYTHON: join(dir, 'no-python'),
    });
    expect(code).toBe(1);
    expect(stderr).toContain('apt-get install -y python3-sklearn python3-pandas python3-onnx python3-numpy');
    await expect(readFile(join(dir, 'never', 'manifest.json'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it.skipIf(!pythonReady)('explains an unusable label column without a stack trace', async () => {
    const { code, stderr } = await failedTrain(
      ['--data', 'history.csv', '--label', 'cancelled', '--out', 'never'],
      {
        INIT_CWD: dir,
      },
    );
    expect(code).toBe(2);
    expect(stderr).toMatch(/^train: The label column "cancelled" is not in the file\. Columns: user_id, /);
  });
});
