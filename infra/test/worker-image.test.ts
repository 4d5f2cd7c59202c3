// The worker image in ECR: built and pushed by docker-build, kept for rollbacks, never pushed twice under one tag.
// ECR returns ImageTagAlreadyExistsException for any push of a tag that already exists in an IMMUTABLE repository
// (https://docs.aws.amazon.com/AmazonECR/latest/userguide/image-tag-mutability.html), and docker-build rebuilds and
// pushes whenever any input or the hash of the build context changes (pulumi-docker-build
// provider/internal/image.go Diff, context.go hashBuildContext: the .dockerignore-filtered files with their names
// and modes, plus the Dockerfile's content). So the tag must change exactly when docker-build would push again, and a
// tag ECR already holds must be reused, not rebuilt.
import { chmodSync, mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { imageTag, type ImageBuildInputs } from '../image-tag.js';
import { workerContainer } from './support/ecs.js';
import { ACCOUNT, deployStack, REGION, type Stack } from './support/program.js';

const IMAGE = 'docker-build:index:Image';
const REPOSITORY_URL = `${ACCOUNT}.dkr.ecr.${REGION}.amazonaws.com/retainwise-worker`;

describe('imageTag', () => {
  let dir: string;
  let build: ImageBuildInputs;
  const write = (file: string, content: string) => {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  };
  const tag = () => imageTag(build);

  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'retainwise-context-'));
    write('.dockerignore', '*\n!app/\n**/*.test.ts\n');
    write('docker/Dockerfile', 'FROM scratch\nCOPY app /app\n');
    write('app/main.js', 'console.log(1);\n');
    write('app/main.test.ts', 'test\n');
    write('notes/readme.txt', 'not in the image\n');
    build = {
      context: dir,
      dockerfile: path.join(dir, 'docker/Dockerfile'),
      settings: { platform: 'linux/arm64' },
    };
  });

  it('is stable for the same inputs, and a valid ECR tag', () => {
    expect(tag()).toBe(tag());
    expect(tag()).toMatch(/^src-[0-9a-f]{16}$/);
  });

  it('changes with every change docker-build would rebuild for', () => {
    const seen = new Set([tag()]);
    const changed = (what: string, change: () => void) => {
      change();
      expect(seen.has(tag()), what).toBe(false);
      seen.add(tag());
    };
    changed('a file in the context', () => write('app/main.js', 'console.log(2);\n'));
    changed('the mode of a file in the context', () => chmodSync(path.join(dir, 'app/main.js'), 0o755));
    changed('a renamed file', () =>
      renameSync(path.join(dir, 'app/main.js'), path.join(dir, 'app/index.js')),
    );
    changed('the Dockerfile, even though .dockerignore leaves it out', () =>
      write('docker/Dockerfile', 'FROM scratch\nCOPY app /srv\n'),
    );
    changed('.dockerignore letting another folder in', () => write('.dockerignore', '*\n!app/\n!notes/\n'));
    changed('a build setting', () => {
      build = { ...build, settings: { platform: 'linux/amd64' } };
    });
  });

  it('ignores what never reaches the build context', () => {
    write('.dockerignore', '*\n!app/\n**/*.test.ts\n');
    const before = tag();
    write('app/main.test.ts', 'another test\n');
    write('notes/readme.txt', 'still not in the image\n');
    write('node_modules/x/index.js', 'dependency\n');
    expect(tag()).toBe(before);
  });
});

describe('the worker image', () => {
  let stack: Stack;
  let tagged: string;
  beforeAll(async () => {
    stack = await deployStack();
    tagged = (stack.one(IMAGE).inputs['tags'] as string[])[0] ?? '';
  });

  it('is built by docker-build under one name whatever its tag, and pushed images survive the resource', () => {
    const image = stack.one(IMAGE);
    expect(image.name).toBe('worker-image');
    // A deploy that stops needing an image (or a stack rename) must not delete what a rollback would pull.
    expect(image.retainOnDelete).toBe(true);
    expect(image.inputs).toMatchObject({ push: true, platforms: ['linux/arm64'] });
    expect(tagged).toMatch(new RegExp(`^${REPOSITORY_URL}:src-[0-9a-f]{16}-arm64$`));
  });

  it('does not build in previews, which then need neither Docker nor QEMU and push nothing', () => {
    expect(stack.one(IMAGE).inputs['buildOnPreview']).toBe(false);
  });

  it('runs the pushed build pinned by its digest', () => {
    expect(workerContainer(stack).image).toMatch(new RegExp(`^${REPOSITORY_URL}@sha256:[0-9a-f]{64}$`));
  });

  it('reuses an image ECR already holds under its tag instead of pushing that immutable tag again', async () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const tag = tagged.split(':').at(-1) ?? '';
    const again = await deployStack(
      {},
      {
        invokes: {
          'aws:ecr/getImages:getImages': (inputs) => ({
            repositoryName: inputs['repositoryName'],
            imageIds: [
              { imageTag: 'src-0000000000000000-arm64', imageDigest: `sha256:${'cd'.repeat(32)}` },
              { imageTag: tag, imageDigest: digest },
            ],
          }),
        },
      },
    );
    expect(again.has(IMAGE)).toBe(false);
    expect(workerContainer(again).image).toBe(`${REPOSITORY_URL}@${digest}`);
  });

  it('lets only the build cache tag move; release tags stay immutable and the newest 30 are kept', () => {
    expect(stack.one('aws:ecr/repository:Repository').inputs).toMatchObject({
      imageTagMutability: 'IMMUTABLE_WITH_EXCLUSION',
      imageTagMutabilityExclusionFilters: [{ filter: 'buildcache-*', filterType: 'WILDCARD' }],
    });
    const lifecycle = stack.json<{ rules: { selection: Record<string, unknown> }[] }>(
      'aws:ecr/lifecyclePolicy:LifecyclePolicy',
      'worker-repository-lifecycle',
      'policy',
    );
    expect(lifecycle.rules.map((r) => r.selection)).toEqual([
      expect.objectContaining({ tagStatus: 'untagged', countType: 'sinceImagePushed', countNumber: 7 }),
      expect.objectContaining({
        tagStatus: 'tagged',
        tagPrefixList: ['src-'],
        countType: 'imageCountMoreThan',
        countNumber: 30,
      }),
    ]);
  });
});
