// The program as the Pulumi engine runs it: Pulumi.yaml's `main: infra/` makes infra/ the working directory of the
// program and of every provider plugin (see runProject in offline.ts), and the docker-build provider resolves a
// relative `context.location` / `dockerfile.location` with Go's filepath.Abs against that directory
// (pulumi/pulumi-docker-build provider/internal/context.go and dockerfile.go). These tests resolve every path
// input the same way and check that it names what the build needs.
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { deployStack, PROJECT_DIR, type Stack } from './support/program.js';

interface BuildPaths {
  resource: string;
  context: string;
  dockerfile: string;
}

/** Context and Dockerfile of every image build, as the provider would resolve them. */
function imageBuilds(stack: Stack): BuildPaths[] {
  return stack.resources.flatMap((r): BuildPaths[] => {
    const i = r.inputs;
    if (r.type !== 'docker-build:index:Image') return [];
    const context = (i['context'] as { location?: string } | undefined)?.location ?? '.';
    const dockerfile = (i['dockerfile'] as { location?: string } | undefined)?.location;
    const absoluteContext = path.resolve(stack.pwd, context);
    return [
      {
        resource: r.name,
        context: absoluteContext,
        dockerfile: dockerfile
          ? path.resolve(stack.pwd, dockerfile)
          : path.join(absoluteContext, 'Dockerfile'),
      },
    ];
  });
}

/** Sources of the Dockerfile's COPY lines that read from the build context (not from another stage). */
function contextCopySources(dockerfile: string): string[] {
  return readFileSync(dockerfile, 'utf8')
    .split('\n')
    .filter((line) => /^COPY\s/i.test(line) && !/--from=/.test(line))
    .flatMap((line) =>
      line
        .trim()
        .split(/\s+/)
        .slice(1)
        .filter((arg) => !arg.startsWith('--'))
        .slice(0, -1),
    );
}

describe('the program run as the engine runs it', () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await deployStack();
  });

  it("runs in Pulumi.yaml's main folder, as the engine and its providers do", () => {
    expect(stack.pwd).toBe(path.join(PROJECT_DIR, 'infra'));
  });

  it('builds the worker image from a context and Dockerfile that exist from that folder', () => {
    const builds = imageBuilds(stack);
    expect(builds.map((b) => b.resource)).not.toEqual([]);
    for (const build of builds) {
      expect(statSync(build.context, { throwIfNoEntry: false })?.isDirectory(), build.context).toBe(true);
      expect(statSync(build.dockerfile, { throwIfNoEntry: false })?.isFile(), build.dockerfile).toBe(true);
    }
  });

  it('uses the repository root as the context, where every COPY of the Dockerfile finds its source', () => {
    for (const build of imageBuilds(stack)) {
      expect(build.context).toBe(PROJECT_DIR);
      for (const source of contextCopySources(build.dockerfile)) {
        expect(statSync(path.join(build.context, source), { throwIfNoEntry: false }), source).toBeDefined();
      }
    }
  });
});
