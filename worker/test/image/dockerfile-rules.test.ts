// worker/Dockerfile and /.dockerignore as files: the linter, the pinned base image, which stage runs where, the
// runtime user, entry point and health check, and what the build context may contain. production-layout.test.ts
// replays the same file's stages and runs the result.
import { validate } from 'dockerfile-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { execForm, instructionsOf, stageEnv, stageNamed } from './dockerfile.js';
import { loadImageSources, type ImageSources } from './image-sources.js';

let sources: ImageSources;

beforeAll(async () => {
  sources = await loadImageSources();
});

describe('worker/Dockerfile', () => {
  it('passes the Dockerfile linter without problems', () => {
    const problems = validate(sources.text).map((d) => ({
      line: d.range.start.line + 1,
      message: d.message,
    }));
    expect(problems).toEqual([]);
  });

  it('builds every stage from one Node.js LTS slim Debian image pinned by exact version and digest', () => {
    const images = new Set(sources.dockerfile.stages.map((s) => s.image));
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
    for (const stage of sources.dockerfile.stages) {
      expect(stage.image, stage.name).toMatch(/^[a-z0-9][a-z0-9._/-]*:[\w.-]+@sha256:[0-9a-f]{64}$/);
    }
  });

  it('compiles on the build host and installs production dependencies for the target CPU', () => {
    expect(stageNamed(sources.dockerfile, 'build').platform).toBe('$BUILDPLATFORM');
    expect(stageNamed(sources.dockerfile, 'prod-deps').platform).toBeNull();
    expect(stageNamed(sources.dockerfile, 'runtime').platform).toBeNull();
    const prodInstall = instructionsOf(stageNamed(sources.dockerfile, 'prod-deps'), 'RUN')[0]?.args ?? [];
    expect(prodInstall.slice(0, 2)).toEqual(['npm', 'ci']);
    expect(prodInstall).toEqual(expect.arrayContaining(['--omit=dev', '--workspace', 'worker']));
    for (const stage of ['build', 'prod-deps', 'runtime']) {
      expect(stageEnv(stageNamed(sources.dockerfile, stage)).ONNXRUNTIME_NODE_INSTALL).toBe('skip');
    }
  });

  it('runs the worker as the unprivileged node user under tini, with NODE_ENV=production and a bounded heap growth', () => {
    const runtime = stageNamed(sources.dockerfile, 'runtime');
    expect(instructionsOf(runtime, 'USER').map((i) => i.content)).toEqual(['node']);
    expect(stageEnv(runtime)).toMatchObject({ NODE_ENV: 'production', TINI_SUBREAPER: '1' });
    expect(instructionsOf(runtime, 'WORKDIR').at(-1)?.content).toBe('/app/worker');
    expect(execForm(instructionsOf(runtime, 'ENTRYPOINT')[0]!)).toEqual(['/usr/bin/tini', '--']);
    expect(execForm(instructionsOf(runtime, 'CMD')[0]!)).toEqual([
      'node',
      '--enable-source-maps',
      '--heap-growing-percent=50',
      'dist/src/main.js',
    ]);
    const runtimeRun = instructionsOf(runtime, 'RUN')
      .map((i) => i.content)
      .join('\n');
    expect(runtimeRun).toMatch(/apt-get install -y --no-install-recommends tini/);
    expect(runtimeRun).toMatch(/rm -rf \/var\/lib\/apt\/lists/);
  });

  it('declares a health check that runs the compiled health-check script', () => {
    const [healthcheck, ...more] = instructionsOf(stageNamed(sources.dockerfile, 'runtime'), 'HEALTHCHECK');
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
      expect(sources.context.isIgnored(needed), needed).toBe(false);
    }
    for (const excluded of [
      '.git/HEAD',
      'node_modules/vitest/package.json',
      'worker/node_modules/x/index.js',
      'infra/index.ts',
      'worker/test/image/production-layout.test.ts',
      'worker/src/scoring/columns.test.ts',
      'worker/bench/data/rows.csv',
      'worker/local/start.ts',
      'worker/dist/src/main.js',
      'coverage/index.html',
      '.github/workflows/ci.yml',
      '.env',
    ]) {
      expect(sources.context.isIgnored(excluded), excluded).toBe(true);
    }
  });
});
