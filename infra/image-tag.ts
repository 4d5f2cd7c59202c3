// The worker image's tag: a hash of exactly what docker-build hashes to decide whether to build again (the files
// .dockerignore lets into the context, with their names and modes, and the Dockerfile's content:
// pulumi-docker-build provider/internal/context.go hashBuildContext) plus every other build input. ECR tags are
// immutable, so the tag has to change whenever docker-build would push again, and must not change otherwise
// (an unchanged tree re-uses the pushed image); it is the same on a laptop and in CI.
import dockerignore from '@balena/dockerignore';
import { createHash } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import path from 'node:path';

export interface ImageBuildInputs {
  /** Absolute path of the build context. */
  context: string;
  /** Absolute path of the Dockerfile (inside the context or not). */
  dockerfile: string;
  /** Every other input of the build (platform, cache references, build arguments): another value, another image. */
  settings: Record<string, unknown>;
}

/** `src-` and 16 hex digits of the build's hash; callers add what tells builds of one source apart (the CPU). */
export function imageTag(build: ImageBuildInputs): string {
  const hash = createHash('sha256');
  hash.update(readFileSync(build.dockerfile)).update('\0');
  hash.update(JSON.stringify(build.settings, Object.keys(build.settings).sort())).update('\0');
  for (const file of contextFiles(build.context)) {
    const absolute = path.join(build.context, file);
    const stat = lstatSync(absolute);
    // Like docker-build: a rename or a mode change is a change; a symlink counts by where it points.
    hash.update(`${file}\0${(stat.mode & 0o7777).toString(8)}\0`);
    hash.update(stat.isSymbolicLink() ? readlinkSync(absolute) : readFileSync(absolute)).update('\0');
  }
  return `src-${hash.digest('hex').slice(0, 16)}`;
}

/** Files of `context` that Docker sends to the builder (relative, `/`-separated, sorted). */
export function contextFiles(context: string): string[] {
  const patterns = readIgnoreFile(context);
  const rules = dockerignore.default().add(patterns);
  // A directory that is ignored can only hold sent files when an exception (`!…`) reaches into it.
  const exceptions = patterns.filter((p) => p.trim().startsWith('!')).map((p) => p.trim().slice(1));
  const mayHoldExceptions = (dir: string) =>
    exceptions.some((e) => e.startsWith('*') || e.replace(/^\//, '').startsWith(`${dir}/`));
  const walk = (dir: string): string[] =>
    readdirSync(path.join(context, dir), { withFileTypes: true }).flatMap((entry) => {
      const relative = dir ? `${dir}/${entry.name}` : entry.name;
      if (entry.isDirectory()) {
        return rules.ignores(relative) && !mayHoldExceptions(relative) ? [] : walk(relative);
      }
      return rules.ignores(relative) ? [] : [relative];
    });
  return walk('').sort();
}

function readIgnoreFile(context: string): string[] {
  try {
    return readFileSync(path.join(context, '.dockerignore'), 'utf8').split('\n');
  } catch {
    return [];
  }
}
