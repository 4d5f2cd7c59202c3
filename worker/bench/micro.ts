import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';
import { Writable } from 'node:stream';
import { batchReader } from '../src/scoring/canonical.js';
import { mapColumns, type ColumnMapping } from '../src/scoring/columns.js';
import { createEncoder, chooseVariant } from '../src/scoring/encoder.js';
import { BATCH_ROWS, loadModel, scoreCsv, type ChurnModel } from '../src/scoring/index.js';
import { runModel } from '../src/scoring/model.js';
import { createBatchScorer } from '../src/scoring/pipeline.js';
import { chunksOf, csvParseRecords, papaParseRecords } from './parsers.js';
import type { Floor } from './floor.js';
import { IMAGE, median, runJsonChild } from './processes.js';

/**
 * The in-process cases of `npm run bench` (run.ts, step 2): the parsers alone, scoreCsv, the batch scorer and ONNX
 * alone, each timed over the same rows after a warm-up pass.
 */

interface Case {
  readonly name: string;
  readonly description: string;
  /** one full pass; returns the rows it processed */
  run(): Promise<number>;
}

export interface Result {
  name: string;
  description: string;
  rows: number;
  medianMs: number;
  rowsPerSecond: number;
  samplesMs: number[];
  /** this process's CPU time per row, the best run: other processes' load only ever adds to it */
  cpuUsPerRow: number;
}

async function measure(c: Case, reps: number): Promise<Result> {
  await c.run();
  const samples: number[] = [];
  let rows = 0;
  let cpuUs = Infinity;
  for (let i = 0; i < reps; i++) {
    const started = performance.now();
    const cpu = process.cpuUsage();
    rows = await c.run();
    const used = process.cpuUsage(cpu);
    samples.push(performance.now() - started);
    cpuUs = Math.min(cpuUs, used.user + used.system);
  }
  const medianMs = median(samples);
  return {
    ...c,
    rows,
    medianMs,
    rowsPerSecond: (rows / medianMs) * 1000,
    samplesMs: samples,
    cpuUsPerRow: cpuUs / rows,
  };
}

const nullSink = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });

/** The micro cases, in the order the bench runs and reports them. */
export const MICRO_CASES = [
  'csv_parse_bare',
  'papaparse_bare',
  'score_csv',
  'score_preparsed',
  'ort_bare',
] as const;
export type MicroCase = (typeof MICRO_CASES)[number];

/** Case `name` on the file's bytes, with only the inputs that case needs built. */
function microCase(name: MicroCase, model: ChurnModel, bytes: Buffer): Case {
  const chunks = chunksOf(bytes);
  switch (name) {
    case 'csv_parse_bare':
      return {
        name,
        description:
          'csv-parse (array mode) alone over the file bytes, records discarded: the fixed reference',
        run: () => Promise.resolve(csvParseRecords(chunks)),
      };
    case 'papaparse_bare':
      return {
        name,
        description: "Papa Parse's core parser alone, driven as the scoring reader drives it",
        run: () => Promise.resolve(papaParseRecords(chunks)),
      };
    case 'score_csv':
      return {
        name,
        description: 'scoreCsv end to end: bytes in, results CSV out to a null sink',
        // as the worker runs it: its upload, like this sink, is done with each chunk once it calls back
        run: async () =>
          (await scoreCsv(model, chunks, nullSink(), { sinkReleasesChunks: true })).rowsProcessed,
      };
    case 'score_preparsed': {
      const { mapping, batches } = parsedBatches(bytes);
      return {
        name,
        description:
          'the batch scorer on pre-parsed records (all of them live while it runs): canonical values, encode, ONNX, explain, format',
        run: async () => {
          const scorer = createBatchScorer(model, mapping, { delimiter: ',', decimal: '.' });
          let written = 0;
          for (const batch of batches) written += (await scorer.batch(batch)).length;
          return written > 0 ? scorer.summary.rowsProcessed : 0;
        },
      };
    }
    case 'ort_bare': {
      // One encoded batch: the same rows, features and variant as the scorer's.
      const { mapping, batches, rows } = parsedBatches(bytes);
      const present = new Set(mapping.columns.map((c) => c.column.name));
      const encoder = createEncoder(model.manifest, present);
      const variant = chooseVariant(model.manifest, present);
      const first = batchReader(mapping, BATCH_ROWS, '.')(batches[0] ?? []);
      const features = new Float64Array(first.size * encoder.width);
      encoder.encode(first, features, new Uint32Array(first.size));
      return {
        name,
        description: `InferenceSession.run alone on one encoded batch of ${first.size} rows, repeated for the same row count`,
        run: async () => {
          let done = 0;
          while (done < rows) {
            const n = Math.min(first.size, rows - done);
            await runModel(model, variant, features, n);
            done += n;
          }
          return done;
        },
      };
    }
  }
}

/** The file's records in scoring batches, and their column mapping. */
function parsedBatches(bytes: Buffer): { mapping: ColumnMapping; batches: string[][][]; rows: number } {
  const [header = [], ...data] = Papa.parse<string[]>(bytes.toString('utf8'), { skipEmptyLines: true }).data;
  const batches: string[][][] = [];
  for (let at = 0; at < data.length; at += BATCH_ROWS) batches.push(data.slice(at, at + BATCH_ROWS));
  return { mapping: mapColumns(header, batches[0] ?? []), batches, rows: data.length };
}

/** Micro case `name` on `file`'s rows, `reps` times after a warm-up pass. */
export async function runMicroCase(name: MicroCase, file: string, reps: number): Promise<Result> {
  const model = await loadModel();
  return measure(microCase(name, model, await readFile(file)), reps);
}

/** input bytes whose results (~15x larger) the floor's checksums and copy are measured on */
const FLOOR_SAMPLE_BYTES = 4 * 1024 * 1024;

/** The results of `file`'s first FLOOR_SAMPLE_BYTES, for the floor's per-byte costs. */
export async function floorResultsSample(file: string): Promise<Buffer> {
  const model = await loadModel();
  const bytes = await readFile(file);
  const input = bytes.subarray(0, bytes.lastIndexOf('\n', FLOOR_SAMPLE_BYTES) + 1);
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(Buffer.from(chunk));
      callback();
    },
  });
  await scoreCsv(model, chunksOf(input), sink);
  return Buffer.concat(parts);
}

const CHILD = fileURLToPath(new URL('micro-child.ts', import.meta.url));

export interface ApartOptions {
  /** the micro cases' input */
  readonly microFile: string;
  /** the big job's input and rows, and its results bytes per row, for the floor */
  readonly floorFile: string;
  readonly floorRows: number;
  readonly resultBytesPerRow: number;
  readonly reps: number;
}

/** a result as its child reported it, with the child's pid */
type FromChild<T> = T & { pid: number };

/**
 * Each micro case, then the floor, in a process of its own (micro-child.ts), run as the image runs the worker (its
 * CMD flags and ENV), so that each measures the engine alone: not the benchmark's process, whose emulator heap
 * every collection of scoreCsv's garbage marked too (scoreCsv 13.0 us per row there, 8-10 in a fresh process), and
 * not one another's inputs: with 100k parsed records kept live (as score_preparsed's were through every case of a
 * shared process), Papa Parse over the same chunks took 5.1 us per row against 1.4 without them.
 */
export async function runMicroCasesApart(
  options: ApartOptions,
): Promise<{ micro: Record<string, FromChild<Result>>; floor: FromChild<Floor> }> {
  const child = <T>(what: string, env: Record<string, string>): Promise<T> =>
    runJsonChild(what, CHILD, IMAGE.nodeArgs, { ...IMAGE.env, REPS: String(options.reps), ...env });
  const micro: Record<string, FromChild<Result>> = {};
  for (const name of MICRO_CASES) {
    const result = await child<FromChild<Result>>(`the micro case ${name}`, {
      CASE: name,
      MICRO_FILE: options.microFile,
    });
    micro[name] = result;
    process.stdout.write(
      `${name.padEnd(16)} ${Math.round(result.rowsPerSecond).toLocaleString('en-US').padStart(10)} rows/s\n`,
    );
  }
  const floor = await child<FromChild<Floor>>('the floor', {
    CASE: 'floor',
    MICRO_FILE: options.microFile,
    FLOOR_FILE: options.floorFile,
    FLOOR_ROWS: String(options.floorRows),
    RESULT_BYTES_PER_ROW: String(options.resultBytesPerRow),
  });
  return { micro, floor };
}
