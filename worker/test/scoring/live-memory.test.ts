import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadModel, scoreCsv, type ChurnModel } from '../../src/scoring/index.js';
import { chunked } from './helpers.js';

// What a job keeps alive while it runs must not grow with the number of distinct values in the file: customers'
// total charges hardly ever repeat, and every factor text the scorer kept per value was kept with its bytes.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const liveMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

let model: ChurnModel;
beforeAll(async () => {
  model = await loadModel();
});

const ROWS = 40_000;
/** tenure and contract repeat, as they do; each row's charges are its own */
const input = Buffer.from(
  'customerID,tenure,MonthlyCharges,TotalCharges,Contract\n' +
    Array.from(
      { length: ROWS },
      (_, i) =>
        `c${i},${i % 72},${(20 + (i % 9000) / 100).toFixed(2)},${(i * 0.37 + 3).toFixed(2)},${i % 3 ? 'Month-to-month' : 'Two year'}`,
    ).join('\n'),
);

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });

describe("a job's live memory", () => {
  it('stays within a few MB of its start on a file whose every row has charges of its own', async () => {
    const before = liveMb();
    let during = 0;
    const summary = await scoreCsv(model, chunked(input), discard(), {
      sinkReleasesChunks: true,
      onProgress: (rows) => {
        if (rows > ROWS - 1024) during = Math.max(during, liveMb() - before);
      },
    });
    expect(summary.rowsProcessed).toBe(ROWS);
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThan(12);
  });
});
