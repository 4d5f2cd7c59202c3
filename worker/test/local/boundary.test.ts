import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// worker/local/ is the dev-only stand-in for AWS, PostgreSQL and the backend (`npm start`, the tests, the bench).
// The image is built from worker/src alone (worker/Dockerfile, /.dockerignore), so a reference from there to
// worker/local/ would compile in development and break only in the container.
const WORKER = join(import.meta.dirname, '..', '..');
const SRC = join(WORKER, 'src');
const LOCAL = join(WORKER, 'local');

/** Every relative module or file a source names: static and dynamic imports, re-exports, `new URL(…)` reads. */
function referencesOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const modules = ts.preProcessFile(text, true, true).importedFiles.map((entry) => entry.fileName);
  const urls = [...text.matchAll(/new URL\(\s*['"`]([^'"`]+)['"`]/g)].map((match) => match[1]!);
  return [...modules, ...urls].filter((name) => name.startsWith('.'));
}

function sourcesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith('.ts'))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe('worker/src, the code the image is built from', () => {
  it('names nothing under worker/local', () => {
    const sources = sourcesUnder(SRC);
    expect(sources.length).toBeGreaterThan(20);
    const reaching = sources.flatMap((file) =>
      referencesOf(file)
        .filter((name) => !relative(LOCAL, resolve(dirname(file), name)).startsWith('..'))
        .map((name) => `${relative(WORKER, file)} -> ${name}`),
    );
    expect(reaching).toEqual([]);
  });
});
