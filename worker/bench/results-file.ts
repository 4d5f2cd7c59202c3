import { readFile, writeFile } from 'node:fs/promises';

/**
 * results.json is written by three commands (`npm run bench`, `bench -- --soak`, `npm run simulate -- --write`),
 * each owning its own keys: each replaces only those, so one run never erases another's figures.
 */
export async function updateResults(file: string, owned: Record<string, unknown>): Promise<void> {
  const existing = await readFile(file, 'utf8').then(
    (text) => JSON.parse(text) as Record<string, unknown>,
    () => ({}),
  );
  await writeFile(file, JSON.stringify({ ...existing, ...owned }, null, 2) + '\n');
}
