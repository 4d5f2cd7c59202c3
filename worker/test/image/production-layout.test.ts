// The worker image, checked without a Docker engine: worker/Dockerfile's `build` and `prod-deps` stages are
// replayed in a temporary folder (the same COPY and RUN lines, the same npm flags, the same pruning), the runtime
// stage's COPY lines assemble the image's /app, and the worker is started from that layout, then run as Fargate
// runs the registered task definition's container (task-sandbox.ts). Whatever is changed in the Dockerfile or the
// task definition is what this test runs; dockerfile-rules.test.ts checks the file itself.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execForm, instructionsOf, stageEnv, stageNamed, type ParsedDockerfile } from './dockerfile.js';
import { loadImageSources } from './image-sources.js';
import { FAST, listKeys, submitJob, telcoCsv, useStack, waitForPrediction } from '../support/harness.js';
import { deployStack } from '../../../infra/test/support/program.js';
import { workerContainer } from '../../../infra/test/support/ecs.js';
import { replayStage, stageDir, type BuildContext, type ImageConfig } from './replay.js';
import { loggedProblems, taskEnvironment, untilHealthy } from './task-checks.js';
import { assembleBaseImage, sandboxPrerequisites, startTask } from './task-sandbox.js';

const MAX_PRODUCTION_NODE_MODULES_BYTES = 100 * 1000 * 1000;

let dockerfile: ParsedDockerfile;
let context: BuildContext;

beforeAll(async () => {
  ({ dockerfile, context } = await loadImageSources());
});

describe('the replayed production layout (/app of the runtime stage)', () => {
  let root: string;
  /** The image's /app/worker, the runtime stage's WORKDIR. */
  let appDir: string;
  let image: ImageConfig;

  beforeAll(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'retainwise-image-'));
    await replayStage(stageNamed(dockerfile, 'build'), { context, root, runCommands: true });
    await replayStage(stageNamed(dockerfile, 'prod-deps'), { context, root, runCommands: true });
    // The runtime stage's RUN line (apt-get install tini, removing npm) needs the real base image; the
    // Dockerfile tests above assert on it instead.
    const base = await assembleBaseImage(stageDir(root, 'runtime'));
    image = await replayStage(stageNamed(dockerfile, 'runtime'), { context, root, runCommands: false, base });
    appDir = stageDir(root, 'runtime', '/app/worker');
  }, 600_000);

  afterAll(async () => {
    if (root) await rm(root, { recursive: true, force: true });
  });

  it(`keeps the worker's production node_modules under ${MAX_PRODUCTION_NODE_MODULES_BYTES / 1e6} MB`, async () => {
    const bytes = await directoryBytes(path.join(appDir, '..', 'node_modules'));
    console.info(`production node_modules: ${(bytes / 1e6).toFixed(1)} MB`);
    expect(bytes).toBeLessThan(MAX_PRODUCTION_NODE_MODULES_BYTES);
  });

  it('installs every production dependency of the worker and nothing from dev, root or infra', async () => {
    const workerManifest = JSON.parse(await readFile(path.join(appDir, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    const nodeModules = path.join(appDir, '..', 'node_modules');
    const installed = await topLevelPackages(nodeModules);
    expect(installed).toEqual(expect.arrayContaining(Object.keys(workerManifest.dependencies)));
    const forbidden = [
      ...Object.keys(workerManifest.devDependencies),
      'vitest',
      'typescript',
      'tsx',
      'eslint',
      'prettier',
      '@pulumi/pulumi',
      '@pulumi/aws',
      '@pulumi/awsx',
      '@actions/workflow-parser',
    ];
    expect(installed.filter((name) => forbidden.includes(name))).toEqual([]);
    expect(installed.filter((name) => name.startsWith('@pulumi/'))).toEqual([]);
  });

  it("keeps only this platform's onnxruntime-node native library", async () => {
    const bin = path.join(appDir, '..', 'node_modules', 'onnxruntime-node', 'bin');
    const [napi, ...otherNapi] = await readdir(bin);
    expect(otherNapi).toEqual([]);
    expect(await readdir(path.join(bin, napi!))).toEqual(['linux']);
    expect(await readdir(path.join(bin, napi!, 'linux'))).toEqual([process.arch]);
  });

  it('contains the compiled worker, its health check, the model and the RDS CA bundle, and no sources', async () => {
    for (const file of [
      'dist/src/main.js',
      'dist/src/healthcheck.js',
      'model/churn.onnx',
      'model/manifest.json',
    ]) {
      expect((await stat(path.join(appDir, file))).isFile(), file).toBe(true);
    }
    const certs = await readdir(path.join(appDir, 'certs'));
    expect(certs.some((file) => file.endsWith('.pem'))).toBe(true);
    expect(await readdir(appDir)).toEqual(expect.not.arrayContaining(['src', 'test', 'node_modules']));
  });

  it('loads the bundled ONNX model with the pruned onnxruntime-node from the layout', async () => {
    const script = `
      import { InferenceSession } from 'onnxruntime-node';
      const session = await InferenceSession.create('model/churn.onnx');
      console.log(JSON.stringify(session.outputNames));`;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
      cwd: appDir,
      env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
    });
    expect(JSON.parse(stdout)).toEqual(expect.arrayContaining(['probability', 'logit', 'contributions']));
  });

  describe('started as the container starts it', () => {
    const local = useStack();

    it('completes a prediction job, passes its health check and exits 0 on SIGTERM', async () => {
      const runtime = stageNamed(dockerfile, 'runtime');
      const [node, ...args] = execForm(instructionsOf(runtime, 'CMD')[0]!);
      expect(node).toBe('node');
      const env = {
        PATH: process.env.PATH ?? '',
        ...stageEnv(runtime),
        ...local.stack.workerEnv({ ...FAST, HEALTH_FILE: path.join(root, 'worker.alive') }),
      };
      const worker = spawn(process.execPath, args, { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let output = '';
      worker.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      worker.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
      try {
        const job = await submitJob(local.stack, { csv: telcoCsv(25) });
        const row = await waitForPrediction(local.stack, job.predictionId, { timeoutMs: 60_000 });
        expect({ status: row.status, rows: row.rows_processed, error: row.error_message }, output).toEqual({
          status: 'COMPLETED',
          rows: 25,
          error: null,
        });
        expect(await listKeys(local.stack, `predictions/${job.userId}/`)).toContain(
          `predictions/${job.userId}/${job.predictionId}.csv`,
        );

        // The HEALTHCHECK command, with the image's absolute path mapped into the layout.
        const [checkNode, script = ''] = execForm(instructionsOf(runtime, 'HEALTHCHECK')[0]!);
        expect(checkNode).toBe('node');
        await expect(
          promisify(execFile)(process.execPath, [stageDir(root, 'runtime', script)], { env }),
        ).resolves.toBeDefined();
      } finally {
        worker.kill('SIGTERM');
      }
      expect(await exited, output).toBe(0);
    });

    it("runs under the registered task definition's rules: becomes healthy, completes a job without a warning, exits 0 on SIGTERM", async ({
      skip,
    }) => {
      const missing = sandboxPrerequisites(image);
      // Skipped, with the reason, where it cannot run (not root: GitHub's runners, a developer's laptop); where
      // .ci/run can provide root and the tools it sets REQUIRE_IMAGE_SANDBOX=1, and a missing tool is a failure.
      if (process.env.REQUIRE_IMAGE_SANDBOX !== '1') skip(missing.length > 0, `needs ${missing.join(', ')}`);
      expect(missing, 'running the image as Fargate does needs these on this machine').toEqual([]);
      const container = workerContainer(await deployStack());
      const volumesDir = await mkdtemp(path.join(tmpdir(), 'retainwise-volumes-'));
      const task = await startTask({
        rootfs: stageDir(root, 'runtime'),
        image,
        container,
        environment: taskEnvironment(container, local.stack),
        volumesDir,
      });
      let exitCode: number | null;
      try {
        const health = await untilHealthy(container, task);
        expect(health, `health check: ${health.output}\ncontainer: ${task.output()}`).toMatchObject({
          code: 0,
        });

        const job = await submitJob(local.stack, { csv: telcoCsv(25) });
        const row = await waitForPrediction(local.stack, job.predictionId, { timeoutMs: 60_000 });
        expect(
          { status: row.status, rows: row.rows_processed, error: row.error_message },
          task.output(),
        ).toEqual({ status: 'COMPLETED', rows: 25, error: null });
      } finally {
        exitCode = await task.stop();
        await rm(volumesDir, { recursive: true, force: true });
      }
      expect(exitCode, task.output()).toBe(0);
      // A write the read-only root refuses shows up here, from the worker or from onnxruntime.
      expect(loggedProblems(task.output())).toEqual([]);
    }, 300_000);
  });
});

async function directoryBytes(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    total += entry.isDirectory() ? await directoryBytes(full) : (await lstat(full)).size;
  }
  return total;
}

/** Package names directly under node_modules, scoped ones as `@scope/name`. */
async function topLevelPackages(nodeModules: string): Promise<string[]> {
  const names: string[] = [];
  for (const entry of await readdir(nodeModules)) {
    if (entry.startsWith('.')) continue;
    if (entry.startsWith('@'))
      names.push(...(await readdir(path.join(nodeModules, entry))).map((n) => `${entry}/${n}`));
    else names.push(entry);
  }
  return names;
}
