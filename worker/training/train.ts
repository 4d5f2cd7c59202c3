import { spawn, spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { BadInput, EXIT, EXIT_CODES, parsing, reportFailure } from '../src/cli/command.js';
import { isInputError } from '../src/scoring/errors.js';
import { CANONICAL_LABEL, TrainingDataError, writeTrainingCsv } from './dataset.js';
import { sha256File, verifyModel } from './verify.js';

/**
 * `npm run train -- [--data <csv>] [--label <column>] [--out <dir>]`: canonicalise a labelled CSV with
 * the scoring library's mapper, fit the model with scikit-learn (`fit.py`, Debian's Python), verify the
 * artifacts with onnxruntime, and only then replace the model directory.
 */

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_DATA = resolve(REPO_ROOT, 'worker/training/data/telco-churn.csv');
const DEFAULT_OUT = resolve(REPO_ROOT, 'worker/model');
const FIT_SCRIPT = fileURLToPath(new URL('fit.py', import.meta.url));
/** Debian's interpreter, where apt installs scikit-learn and onnx (not a pyenv `python3` on PATH). */
const PYTHON = process.env.TRAIN_PYTHON ?? '/usr/bin/python3';
const APT_INSTALL =
  'apt-get update && apt-get install -y python3-sklearn python3-pandas python3-onnx python3-numpy';
/** contracts.md §B: the canonical values `fit.py` is given */
const COLUMN_MAPPING_VERSION = '1';
const ARTIFACTS = ['churn.onnx', 'manifest.json', 'parity.json'] as const;

const USAGE = 'usage: npm run train -- [--data <csv>] [--label <column>] [--out <dir>]';

const HELP = `${USAGE}
Fits the churn model on a labelled CSV with scikit-learn, verifies it with onnxruntime, and only then replaces
churn.onnx, manifest.json and parity.json in the model directory. Progress and metrics go to stderr.
  --data   labelled customer CSV (default: ${DEFAULT_DATA})
  --label  label column, Yes/No, 1/0 or true/false (default: Churn, churned, is_churned or label)
  --out    model directory to replace (default: ${DEFAULT_OUT})
  -h, --help  this help
${EXIT_CODES} (1: Python's scikit-learn stack is missing or the fit failed)`;

/** An environment or fit problem (not the user's arguments): one line, exit 1. */
class TrainingFailed extends Error {}

function options() {
  const { values } = parsing(() =>
    parseArgs({
      options: {
        data: { type: 'string' },
        label: { type: 'string' },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }),
  );
  // npm runs scripts in the package directory; the user's paths are relative to where they typed.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  return {
    help: values.help === true,
    data: values.data === undefined ? DEFAULT_DATA : resolve(cwd, values.data),
    out: values.out === undefined ? DEFAULT_OUT : resolve(cwd, values.out),
    label: values.label,
  };
}

function checkPython(): void {
  const probe = spawnSync(PYTHON, ['-c', 'import numpy, pandas, sklearn, onnx'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new TrainingFailed(
      `Training needs scikit-learn, pandas, numpy and onnx for ${PYTHON}` +
        ` (${probe.error?.message ?? probe.stderr.trim().split('\n').at(-1) ?? 'import failed'}).\n` +
        `Install them with:\n  ${APT_INSTALL}`,
    );
  }
}

function runFit(args: readonly string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(PYTHON, [FIT_SCRIPT, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('close', (code, signal) => {
      if (code === 0) resolvePromise();
      else
        reject(
          new TrainingFailed(`fit.py failed (${signal ?? `exit code ${code}`}); see its message above.`),
        );
    });
  });
}

/** Copies the verified artifacts in, each through a temporary name, so readers never see a partial file. */
async function install(from: string, to: string): Promise<void> {
  await mkdir(to, { recursive: true });
  for (const name of ARTIFACTS) {
    const staged = join(to, `.${name}.${process.pid}.tmp`);
    await copyFile(join(from, name), staged);
    await rename(staged, join(to, name));
  }
}

/** reproducible-builds.org convention; without it the manifest records no time, so a re-run changes nothing */
function createdAt(): string[] {
  const epoch = process.env.SOURCE_DATE_EPOCH;
  return epoch === undefined ? [] : ['--created-at', new Date(Number(epoch) * 1000).toISOString()];
}

async function train(): Promise<void> {
  const args = options();
  if (args.help) {
    process.stdout.write(`${HELP}\n`);
    return;
  }
  const started = performance.now();
  checkPython();
  if (!(await stat(args.data).catch(() => undefined))?.isFile()) {
    throw new BadInput(`Training data ${args.data} does not exist or is not a file.`);
  }
  const work = await mkdtemp(join(tmpdir(), 'retainwise-train-'));
  try {
    const canonical = join(work, 'training.csv');
    const data = await writeTrainingCsv(args.data, canonical, { label: args.label });
    console.error(
      `${basename(args.data)}: ${data.rows} labelled rows (${data.positives} churned), label column ` +
        `"${data.labelColumn}"${data.unlabelled > 0 ? `, ${data.unlabelled} rows without a label left out` : ''}`,
    );
    console.error(`canonical columns: ${data.columns.join(', ')}`);
    const staged = join(work, 'model');
    await runFit([
      '--data',
      canonical,
      '--label',
      CANONICAL_LABEL,
      '--out',
      staged,
      '--source-file',
      basename(args.data),
      '--source-sha256',
      await sha256File(args.data),
      '--source-label',
      data.labelColumn,
      '--column-mapping-version',
      COLUMN_MAPPING_VERSION,
      ...createdAt(),
    ]);
    const check = await verifyModel(staged);
    await install(staged, args.out);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.error(
      `verified ${check.cases} parity cases with onnxruntime (max probability error ${check.maxProbabilityError.toExponential(1)}); ` +
        `model ${check.manifest.model_version} written to ${args.out} in ${seconds} s`,
    );
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

train().catch((error: unknown) => {
  const badInput = error instanceof TrainingDataError || isInputError(error);
  if (badInput || error instanceof BadInput || error instanceof TrainingFailed) {
    process.exitCode = reportFailure('train', USAGE, error, badInput);
  } else {
    console.error('train: unexpected failure', error);
    process.exitCode = EXIT.failed;
  }
});
