import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import Papa from 'papaparse';
import { Writable } from 'node:stream';
import { batchReader } from '../src/scoring/canonical.js';
import { mapColumns } from '../src/scoring/columns.js';
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

function microCases(model: ChurnModel, chunks: readonly Buffer[], records: readonly string[][]): Case[] {
  const [header = [], ...data] = records;
  const mapping = mapColumns(header, data.slice(0, BATCH_ROWS));
  const batches: string[][][] = [];
  for (let at = 0; at < data.length; at += BATCH_ROWS) batches.push(data.slice(at, at + BATCH_ROWS));

  // One encoded batch for the bare session baseline: the same rows, features and variant as the scorer's.
  const present = new Set(mapping.columns.map((c) => c.column.name));
  const encoder = createEncoder(model.manifest, present);
  const variant = chooseVariant(model.manifest, present);
  const first = batchReader(mapping, BATCH_ROWS, '.')(batches[0] ?? []);
  const features = new Float64Array(first.size * encoder.width);
  encoder.encode(first, features, new Uint32Array(first.size));

  return [
    {
      name: 'csv_parse_bare',
      description: 'csv-parse (array mode) alone over the file bytes, records discarded: the fixed reference',
      run: () => Promise.resolve(csvParseRecords(chunks)),
    },
    {
      name: 'papaparse_bare',
      description: "Papa Parse's core parser alone, driven as the scoring reader drives it",
      run: () => Promise.resolve(papaParseRecords(chunks)),
    },
    {
      name: 'score_csv',
      description: 'scoreCsv end to end: bytes in, results CSV out to a null sink',
      // as the worker runs it: its upload, like this sink, is done with each chunk once it calls back
      run: async () =>
        (await scoreCsv(model, chunks, nullSink(), { sinkReleasesChunks: true })).rowsProcessed,
    },
    {
      name: 'score_preparsed',
      description: 'the batch scorer on pre-parsed records: canonical values, encode, ONNX, explain, format',
      run: async () => {
        const scorer = createBatchScorer(model, mapping, { delimiter: ',', decimal: '.' });
        let bytes = 0;
        for (const batch of batches) bytes += (await scorer.batch(batch)).length;
        return bytes > 0 ? scorer.summary.rowsProcessed : 0;
      },
    },
    {
      name: 'ort_bare',
      description: `InferenceSession.run alone on one encoded batch of ${first.size} rows, repeated for the same row count`,
      run: async () => {
        let rows = 0;
        while (rows < data.length) {
          const n = Math.min(first.size, data.length - rows);
          await runModel(model, variant, features, n);
          rows += n;
        }
        return rows;
      },
    },
  ];
}

/** The file's records, for the cases that start from parsed rows. */
function parseAll(bytes: Buffer): string[][] {
  return Papa.parse<string[]>(bytes.toString('utf8'), { skipEmptyLines: true }).data;
}

/**
 * The in-process cases on the file's rows, each `reps` times; their inputs (the parsed records) are garbage once
 * this returns. Also returns the results of the file's first FLOOR_SAMPLE_BYTES, for the floor's per-byte costs.
 */
export async function runMicroCases(
  file: string,
  reps: number,
  log: (name: string, result: Result) => void,
): Promise<{ micro: Record<string, Result>; resultsSample: Buffer }> {
  const model = await loadModel();
  const microBytes = await readFile(file);
  const micro: Record<string, Result> = {};
  for (const c of microCases(model, chunksOf(microBytes), parseAll(microBytes))) {
    const result = await measure(c, reps);
    micro[c.name] = result;
    log(c.name, result);
  }
  const sample = microBytes.subarray(0, microBytes.lastIndexOf('\n', FLOOR_SAMPLE_BYTES) + 1);
  return { micro, resultsSample: await resultsOf(model, sample) };
}

/** input bytes whose results (~15x larger) the floor's checksums and copy are measured on */
const FLOOR_SAMPLE_BYTES = 4 * 1024 * 1024;

async function resultsOf(model: ChurnModel, input: Buffer): Promise<Buffer> {
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

/**
 * The micro cases and the floor (micro-child.ts) in a process of their own, run as the image runs the worker (its
 * CMD flags and ENV), so that they measure the engine and not the benchmark's process: after the big job that
 * process holds the emulator's heap, and every collection of scoreCsv's garbage there marked it too (scoreCsv
 * measured 13.0 us per row there, 8-10 us in a fresh process on the same build).
 */
export async function runMicroCasesApart(
  options: ApartOptions,
): Promise<{ micro: Record<string, Result>; floor: Floor }> {
  return runJsonChild('the micro cases', CHILD, IMAGE.nodeArgs, {
    ...IMAGE.env,
    MICRO_FILE: options.microFile,
    FLOOR_FILE: options.floorFile,
    FLOOR_ROWS: String(options.floorRows),
    RESULT_BYTES_PER_ROW: String(options.resultBytesPerRow),
    REPS: String(options.reps),
  });
}
