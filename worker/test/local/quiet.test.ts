import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// Issue #16.11: no onnxruntime telemetry (a write to ~/.cache) and no AWS SDK Node-version warning from any
// command. worker/src/cli/quiet.ts sets what silences both, and works only if it runs before those modules are
// evaluated: every entry point an npm script starts must load it first, in its first import or with --import.
// The behaviour itself is tested where a run is cheap: start.test.ts, scoring/cli.test.ts, lifecycle.test.ts.
const REPO = join(import.meta.dirname, '..', '..', '..');
const QUIET = join(REPO, 'worker/src/cli/quiet.ts');

const scriptsOf = (folder: string): Record<string, string> =>
  (
    JSON.parse(readFileSync(join(REPO, folder, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    }
  ).scripts;

/** What a `tsx …` or `node …` script runs first: its --import, else the entry file's first import. */
function loadedFirst(folder: string, script: string): string | undefined {
  const words = script.split(/\s+/);
  const at = (index: number) => resolve(REPO, folder, words[index] ?? '');
  const flag = words.indexOf('--import');
  if (flag >= 0) return at(flag + 1);
  // a compiled entry point runs what its source imports first
  const entry = at(words.findIndex((word) => /\.(ts|js)$/.test(word))).replace(/\/dist\/(.*)\.js$/, '/$1.ts');
  const first = ts.preProcessFile(readFileSync(entry, 'utf8'), true, false).importedFiles[0]?.fileName;
  return first?.startsWith('.') ? resolve(dirname(entry), first.replace(/\.js$/, '.ts')) : first;
}

const ENTRY_POINTS: [folder: string, name: string][] = [
  ['.', 'start'],
  ['.', 'score'],
  ['.', 'ops'],
  ['.', 'bench'],
  ['worker', 'train'],
  ['worker', 'start'],
];

describe('every command the worker package runs', () => {
  it.each(ENTRY_POINTS)('%s/package.json "%s" loads cli/quiet.ts before anything else', (folder, name) => {
    const script = scriptsOf(folder)[name];
    expect(script, name).toMatch(/^(tsx|node) /);
    expect(loadedFirst(folder, script!)).toBe(QUIET);
  });

  it('includes `npm run train`, which the root package hands to the worker workspace', () => {
    expect(scriptsOf('.').train).toBe('npm run train -w worker --');
  });
});
