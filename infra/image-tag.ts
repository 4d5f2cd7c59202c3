// The worker image's tag: a hash of the files the image is built from. ECR tags are immutable, so every build
// needs a new tag; a content hash gives one exactly when the content changes (an unchanged tree re-uses the
// pushed image instead of pushing a duplicate), and it is the same on a laptop and in CI.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * Inputs of `worker/Dockerfile` with the repository root as build context. If the Dockerfile starts copying
 * something else, add it here; forgetting is loud, not silent: ECR rejects the push of a changed image under an
 * existing (immutable) tag.
 */
export const WORKER_IMAGE_INPUTS = ['worker', 'package.json', 'package-lock.json', 'tsconfig.json'];

/** Never part of the image: dependencies are installed inside it, and tests, benchmarks and training stay out. */
const EXCLUDED_DIRECTORIES = new Set([
  'node_modules',
  'dist',
  'coverage',
  'test',
  'bench',
  'training',
  '.local',
  '__pycache__',
]);

export function contentHash(root: string, inputs: string[]): string {
  const hash = createHash('sha256');
  for (const file of inputs.flatMap((input) => listFiles(root, input)).sort()) {
    hash
      .update(file)
      .update('\0')
      .update(readFileSync(path.join(root, file)))
      .update('\0');
  }
  return hash.digest('hex');
}

/** Tag of the worker image built from `root` for one CPU architecture, e.g. `src-3f9a0c1b2d4e-arm64`. */
export function workerImageTag(root: string, cpuArchitecture: string): string {
  return `src-${contentHash(root, WORKER_IMAGE_INPUTS).slice(0, 12)}-${cpuArchitecture.toLowerCase()}`;
}

function listFiles(root: string, relative: string): string[] {
  const absolute = path.join(root, relative);
  if (!statSync(absolute, { throwIfNoEntry: false })) return [];
  if (statSync(absolute).isFile()) return [relative];
  return readdirSync(absolute, { withFileTypes: true })
    .filter((entry) => !(entry.isDirectory() && EXCLUDED_DIRECTORIES.has(entry.name)))
    .flatMap((entry) => listFiles(root, path.posix.join(relative, entry.name)));
}
