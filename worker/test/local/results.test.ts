import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { saveResults } from '../../local/results.js';

// `npm start -- --file` saves results that can be gigabytes (2.2 KB a row): memory must not grow with them.
// Measured without clocks or the garbage collector: whenever the object's next chunk is read, everything but a
// few stream buffers' worth of what was read before must already be on disk.

const CHUNK = 64 * 1024;
const TOTAL = 64 * 1024 * 1024;
const READ_AHEAD_LIMIT = 4 * 1024 * 1024;

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'save-results-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

/**
 * An S3 body as the SDK hands it over in Node (a stream with its helpers), that makes its bytes on demand and
 * records how far reading ever got ahead of the file.
 */
function objectBody(onDisk: () => number): { body: Readable; maxAhead: () => number } {
  let produced = 0;
  let maxAhead = 0;
  const body = new Readable({
    read() {
      maxAhead = Math.max(maxAhead, produced - onDisk());
      if (produced >= TOTAL) return void this.push(null);
      produced += CHUNK;
      this.push(Buffer.alloc(CHUNK, 0x61));
    },
  });
  const transformToByteArray = async () => {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  return { body: Object.assign(body, { transformToByteArray }), maxAhead: () => maxAhead };
}

describe('saving the results of npm start -- --file', () => {
  it('streams the object to disk: reading never runs more than a few buffers ahead of the file', async () => {
    const target = join(dir, 'results.csv');
    const size = (path: string) => (existsSync(path) ? statSync(path).size : 0);
    const { body, maxAhead } = objectBody(() => size(`${target}.partial`) + size(target));
    await saveResults(body, target, () => undefined);
    expect(statSync(target).size).toBe(TOTAL);
    expect(maxAhead()).toBeLessThanOrEqual(READ_AHEAD_LIMIT);
  });

  it('leaves no file under the final name when the object fails half-way', async () => {
    const target = join(dir, 'results.csv');
    const cleanups: (() => Promise<unknown>)[] = [];
    const body = new Readable({
      read() {
        this.destroy(new Error('connection reset'));
      },
    });
    await expect(saveResults(body, target, (step) => cleanups.push(step))).rejects.toThrow(
      'connection reset',
    );
    for (const step of cleanups) await step();
    expect(existsSync(target)).toBe(false);
    expect(existsSync(`${target}.partial`)).toBe(false);
  });
});
