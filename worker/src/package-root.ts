import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The worker package root (the folder with package.json), found from this module, so it is the same whether the
 * code runs from source (tsx) or compiled into `dist/src/`.
 */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('worker package root (package.json) not found');
    dir = parent;
  }
  return dir;
}
