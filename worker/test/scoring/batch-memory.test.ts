import { Writable } from 'node:stream';
import v8 from 'node:v8';
import vm from 'node:vm';
import { beforeAll, describe, expect, it } from 'vitest';
import { BATCH_ROWS, loadModel, scoreCsv, type ChurnModel } from '../../src/scoring/index.js';
import { chunked, MemorySink } from './helpers.js';

let model: ChurnModel;
beforeAll(async () => {
  model = await loadModel();
});

const ROWS = 5000;
const input = Buffer.from(
  'customerID,tenure,MonthlyCharges,TotalCharges,Contract\n' +
    Array.from({ length: ROWS }, (_, i) => `c${i},${i % 72},${20 + (i % 90)},${i * 10},Monthly`).join('\n'),
);
const batches = Math.ceil(ROWS / BATCH_ROWS);

/** A sink that copies each chunk before calling back, as the results upload does, and notes whose memory it was. */
class CopyingSink extends Writable {
  readonly copies: Buffer[] = [];
  readonly memory: ArrayBufferLike[] = [];
  override _write(chunk: Buffer, _: BufferEncoding, callback: () => void): void {
    this.copies.push(Buffer.from(chunk));
    this.memory.push(chunk.buffer);
    callback();
  }
}

const expected = async (): Promise<string> => {
  const sink = new MemorySink();
  await scoreCsv(model, chunked(input), sink);
  return sink.text();
};

describe("the results batches' memory", () => {
  it('is written over, batch after batch, when the sink says it is done with each chunk once it calls back', async () => {
    const sink = new CopyingSink();
    await scoreCsv(model, chunked(input), sink, { sinkReleasesChunks: true });
    // the first chunk is the header line
    const batchMemory = new Set(sink.memory.slice(1));
    expect(sink.memory).toHaveLength(batches + 1);
    expect(batchMemory.size).toBe(1);
    expect(Buffer.concat(sink.copies).toString('utf8')).toBe(await expected());
  });

  it('is new for every batch by default, for sinks that keep the chunks they are given', async () => {
    const sink = new CopyingSink();
    await scoreCsv(model, chunked(input), sink);
    expect(new Set(sink.memory.slice(1)).size).toBe(batches);
  });

  it('is not written over after a chunk the sink failed to take', async () => {
    let writes = 0;
    const memory: ArrayBufferLike[] = [];
    const failing = new Writable({
      write(chunk: Buffer, _, callback) {
        memory.push(chunk.buffer);
        callback(++writes === 2 ? new Error('upload failed') : undefined);
      },
    });
    failing.on('error', () => undefined);
    await expect(scoreCsv(model, chunked(input), failing, { sinkReleasesChunks: true })).rejects.toThrow(
      'upload failed',
    );
    expect(memory).toHaveLength(2);
  });
});

// What a job keeps alive while it runs must not grow with the number of distinct values in the file: customers'
// total charges hardly ever repeat, and every factor text the scorer kept per value was kept with its bytes.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const liveMb = (): number => {
  gc();
  return process.memoryUsage().heapUsed / 1024 / 1024;
};

const DISTINCT_ROWS = 40_000;
/** tenure and contract repeat, as they do; each row's charges are its own */
const distinctCharges = Buffer.from(
  'customerID,tenure,MonthlyCharges,TotalCharges,Contract\n' +
    Array.from(
      { length: DISTINCT_ROWS },
      (_, i) =>
        `c${i},${i % 72},${(20 + (i % 9000) / 100).toFixed(2)},${(i * 0.37 + 3).toFixed(2)},${i % 3 ? 'Month-to-month' : 'Two year'}`,
    ).join('\n'),
);

const discard = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });

describe("a job's live memory", () => {
  it('stays within a few MB of its start on a file whose every row has charges of its own', async () => {
    const before = liveMb();
    let during = 0;
    const summary = await scoreCsv(model, chunked(distinctCharges), discard(), {
      sinkReleasesChunks: true,
      onProgress: (rows) => {
        if (rows > DISTINCT_ROWS - 1024) during = Math.max(during, liveMb() - before);
      },
    });
    expect(summary.rowsProcessed).toBe(DISTINCT_ROWS);
    expect(during).toBeGreaterThan(0);
    expect(during).toBeLessThan(12);
  });
});
