// The worker image, checked without a Docker engine: worker/Dockerfile is parsed and its `build` and
// `prod-deps` stages are replayed in a temporary folder (the same COPY and RUN lines, the same npm flags, the
// same pruning), the runtime stage's COPY lines assemble the image's /app, and the worker is started from
// that layout, then run as Fargate runs the registered task definition's container (task-sandbox.ts).
// Whatever is changed in the Dockerfile or the task definition is what this test runs.
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, stat, lstat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { validate } from 'dockerfile-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  execForm,
  instructionsOf,
  parseDockerfile,
  stageEnv,
  stageNamed,
  type ParsedDockerfile,
} from './dockerfile.js';
import { FAST, listKeys, submitJob, telcoCsv, useStack, waitForPrediction } from '../support/harness.js';
import type { LocalStack } from '../../src/local/stack.js';
import { deployStack } from '../../../infra/test/support/program.js';
import { workerContainer, type Container } from '../../../infra/test/support/ecs.js';
import { loadBuildContext, replayStage, stageDir, type BuildContext, type ImageConfig } from './replay.js';
import { assembleBaseImage, sandboxPrerequisites, startTask } from './task-sandbox.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const dockerfilePath = path.join(repoRoot, 'worker', 'Dockerfile');
const MAX_PRODUCTION_NODE_MODULES_BYTES = 100 * 1000 * 1000;

let dockerfileText: string;
let dockerfile: ParsedDockerfile;
let context: BuildContext;

beforeAll(async () => {
  dockerfileText = await readFile(dockerfilePath, 'utf8');
  dockerfile = parseDockerfile(dockerfileText);
  context = await loadBuildContext(repoRoot);
});

describe('worker/Dockerfile', () => {
  it('passes the Dockerfile linter without problems', () => {
    const problems = validate(dockerfileText).map((d) => ({
      line: d.range.start.line + 1,
      message: d.message,
    }));
    expect(problems).toEqual([]);
  });

  it('builds every stage from one Node.js LTS slim Debian image pinned by exact version and digest', () => {
    const images = new Set(dockerfile.stages.map((s) => s.image));
    expect(images.size).toBe(1);
    const [image = ''] = images;
    const match = /^node:(\d+)\.\d+\.\d+-(bookworm|trixie)-slim@sha256:[0-9a-f]{64}$/.exec(image);
    expect(match, image).not.toBeNull();
    // Even-numbered majors are Node.js's long-term-support lines.
    expect(Number(match?.[1]) % 2).toBe(0);
  });

  it('names every base image literally, pinned by digest, so Dependabot can update it', () => {
    // Dependabot's docker file parser matches `FROM [--platform=…] <image>[:tag][@digest]` and skips a FROM line
    // whose image is a build argument (dependabot/dependabot-core docker/lib/dependabot/docker/file_parser.rb
    // FROM_LINE; issue #2057), so `ARG NODE_IMAGE` + `FROM ${NODE_IMAGE}` would never get an update PR.
    for (const stage of dockerfile.stages) {
      expect(stage.image, stage.name).toMatch(/^[a-z0-9][a-z0-9._/-]*:[\w.-]+@sha256:[0-9a-f]{64}$/);
    }
  });

  it('compiles on the build host and installs production dependencies for the target CPU', () => {
    expect(stageNamed(dockerfile, 'build').platform).toBe('$BUILDPLATFORM');
    expect(stageNamed(dockerfile, 'prod-deps').platform).toBeNull();
    expect(stageNamed(dockerfile, 'runtime').platform).toBeNull();
    const prodInstall = instructionsOf(stageNamed(dockerfile, 'prod-deps'), 'RUN')[0]?.args ?? [];
    expect(prodInstall.slice(0, 2)).toEqual(['npm', 'ci']);
    expect(prodInstall).toEqual(expect.arrayContaining(['--omit=dev', '--workspace', 'worker']));
    for (const stage of ['build', 'prod-deps', 'runtime']) {
      expect(stageEnv(stageNamed(dockerfile, stage)).ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    }
  });

  it('runs the worker as the unprivileged node user under tini, with NODE_ENV=production', () => {
    const runtime = stageNamed(dockerfile, 'runtime');
    expect(instructionsOf(runtime, 'USER').map((i) => i.content)).toEqual(['node']);
    expect(stageEnv(runtime)).toMatchObject({ NODE_ENV: 'production', TINI_SUBREAPER: '1' });
    expect(instructionsOf(runtime, 'WORKDIR').at(-1)?.content).toBe('/app/worker');
    expect(execForm(instructionsOf(runtime, 'ENTRYPOINT')[0]!)).toEqual(['/usr/bin/tini', '--']);
    expect(execForm(instructionsOf(runtime, 'CMD')[0]!)).toEqual([
      'node',
      '--enable-source-maps',
      'dist/src/main.js',
    ]);
    const runtimeRun = instructionsOf(runtime, 'RUN')
      .map((i) => i.content)
      .join('\n');
    expect(runtimeRun).toMatch(/apt-get install -y --no-install-recommends tini/);
    expect(runtimeRun).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it('declares a health check that runs the compiled health-check script', () => {
    const [healthcheck, ...more] = instructionsOf(stageNamed(dockerfile, 'runtime'), 'HEALTHCHECK');
    expect(more).toEqual([]);
    expect(execForm(healthcheck!)).toEqual(['node', '/app/worker/dist/src/healthcheck.js']);
    expect(healthcheck!.flags.get('interval')).toBe('30s');
    expect(healthcheck!.flags.get('start-period')).toBe('60s');
  });
});

describe('.dockerignore', () => {
  it('sends only what the image needs into the build context', () => {
    for (const needed of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'worker/package.json',
      'worker/tsconfig.build.json',
      'worker/src/main.ts',
      'worker/model/churn.onnx',
      'worker/certs/rds-global-bundle.pem',
    ]) {
      expect(context.isIgnored(needed), needed).toBe(false);
    }
    for (const excluded of [
      '.git/HEAD',
      'node_modules/vitest/package.json',
      'worker/node_modules/x/index.js',
      'infra/index.ts',
      'worker/test/image/production-layout.test.ts',
      'worker/src/scoring/columns.test.ts',
      'worker/bench/data/rows.csv',
      'worker/dist/src/main.js',
      'coverage/index.html',
      '.github/workflows/ci.yml',
      '.env',
    ]) {
      expect(context.isIgnored(excluded), excluded).toBe(true);
    }
  });
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

/** The variables that address AWS or the database: there is no AWS here, so they name the local stack's. */
const LOCAL_STACK_VARIABLES = [
  'PREDICTIONS_QUEUE_URL',
  'PREDICTIONS_DLQ_URL',
  'S3_BUCKET',
  'DATABASE_SSL',
  'AWS_ENDPOINT_URL',
] as const;

/** The container's registered environment and secrets, with what addresses AWS pointed at the local stack. */
function taskEnvironment(container: Container, stack: LocalStack): Record<string, string> {
  const local = stack.workerEnv();
  const localValue = (name: string): string => {
    const value = local[name];
    if (value === undefined) throw new Error(`the local stack has no value for ${name}`);
    return value;
  };
  return {
    ...Object.fromEntries(container.environment.map(({ name, value }) => [name, value])),
    ...Object.fromEntries(container.secrets.map(({ name }) => [name, localValue(name)])),
    ...Object.fromEntries(LOCAL_STACK_VARIABLES.map((name) => [name, localValue(name)])),
  };
}

/**
 * The warnings and errors in a container's output: the worker's (pino JSON, level 40 and up) and
 * onnxruntime's (`[W:onnxruntime…`). Node.js's own process warnings are left out: they concern the Node.js
 * running the tests, which stands in for the image's.
 */
function loggedProblems(output: string): string[] {
  return output.split('\n').filter((line) => {
    if (/\[[WEF]:onnxruntime/.test(line)) return true;
    try {
      const entry = JSON.parse(line) as { level?: unknown } | null;
      return typeof entry?.level === 'number' && entry.level >= 40;
    } catch {
      return false; // not a log entry
    }
  });
}

/**
 * Runs the container's health check as ECS does until it passes, for as long as ECS would wait (the start
 * period, in which failures do not count, then `retries` checks `interval` apart) or until the container exits.
 * Checks every second rather than every `interval`, so a passing check is seen early.
 */
async function untilHealthy(
  container: Container,
  task: Awaited<ReturnType<typeof startTask>>,
): Promise<{ code: number | null; output: string }> {
  const { command, startPeriod = 0, retries = 3, interval = 30 } = container.healthCheck;
  const deadline = Date.now() + (startPeriod + retries * interval) * 1000;
  let exited = false;
  void task.exited.then(() => (exited = true));
  for (;;) {
    const result = await task.exec(command);
    if (result.code === 0 || exited || Date.now() > deadline) return result;
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

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
