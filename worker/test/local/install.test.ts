import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// `npm install` on the oldest Node the README supports must print no EBADENGINE warning: every locked package
// accepts that version (npm warns on exactly this check, engines.node against the running version).
const REPO = join(import.meta.dirname, '..', '..', '..');

interface Lockfile {
  packages: Record<string, { engines?: { node?: string } | string[]; optional?: boolean }>;
}

describe('the install on the oldest supported Node', () => {
  it('locks no package whose engines exclude the engines floor of package.json', async () => {
    const root = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const oldest = semver.minVersion(root.engines.node)?.version ?? '';
    const lock = JSON.parse(await readFile(join(REPO, 'package-lock.json'), 'utf8')) as Lockfile;
    const refusing = Object.entries(lock.packages)
      .filter(([path]) => path.startsWith('node_modules/') || path.includes('/node_modules/'))
      .flatMap(([path, entry]) => {
        const range = Array.isArray(entry.engines) ? undefined : entry.engines?.node;
        return range && !semver.satisfies(oldest, range) ? [`${path} wants node ${range}`] : [];
      });
    expect(oldest).toBe('20.19.0');
    expect(refusing).toEqual([]);
  });
});
