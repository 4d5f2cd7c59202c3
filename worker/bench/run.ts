import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Parser } from 'csv-parse';
import { batchReader } from '../src/scoring/canonical.js';
import { mapColumns } from '../src/scoring/columns.js';
import { createEncoder, chooseVariant } from '../src/scoring/encoder.js';
import { BATCH_ROWS, loadModel, scoreCsv, type ChurnModel } from '../src/scoring/index.js';
import { runModel } from '../src/scoring/model.js';
import { createBatchScorer } from '../src/scoring/pipeline.js';
import { generateTelcoCsv } from './generate.js';

/**
 * `npm run bench`: throughput of the scoring path against baselines measured in the same process on the
 * same data, so the ratios mean something on a noisy machine where absolute numbers do not.
 * Each case runs REPS times after a warm-up; the median is reported. Writes worker/bench/results.json.
 *
 *   BENCH_ROWS (100000)  rows in the generated Telco-shaped file (worker/bench/data/, regenerated on demand)
 *   BENCH_REPS (5)       measured repetitions per case
 */

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const REPS = Number(process.env.BENCH_REPS ?? 5);
const HERE = import.meta.dirname;
const TRAINING = join(HERE, '..', '..', '..', 'shared', 'data', 'telco-churn.csv');
const DATA = join(HERE, 'data', `telco-${ROWS}.csv`);
const CHUNK = 64 * 1024;

interface Case {
  readonly name: string;
  readonly description: string;
  /** one full pass; returns the rows it processed */
  run(): Promise<number>;
}

interface Result {
  name: string;
  description: string;
  rows: number;
  medianMs: number;
  rowsPerSecond: number;
  samplesMs: number[];
}

async function measure(c: Case): Promise<Result> {
  await c.run();
  const samples: number[] = [];
  let rows = 0;
  for (let i = 0; i < REPS; i++) {
    const started = performance.now();
    rows = await c.run();
    samples.push(performance.now() - started);
  }
  const sorted = [...samples].sort((a, b) => a - b);
  const medianMs = sorted[Math.floor(sorted.length / 2)] ?? NaN;
  return {
    name: c.name,
    description: c.description,
    rows,
    medianMs,
    rowsPerSecond: (rows / medianMs) * 1000,
    samplesMs: samples,
  };
}

const nullSink = (): Writable => new Writable({ write: (_chunk, _encoding, callback) => callback() });

function parseAll(chunks: readonly Buffer[]): string[][] {
  const parser = new Parser({
    bom: true,
    relax_quotes: true,
    relax_column_count: true,
    skip_empty_lines: true,
  });
  const records: string[][] = [];
  for (const chunk of chunks) {
    parser.write(chunk);
    for (let r = parser.read() as string[] | null; r !== null; r = parser.read() as string[] | null)
      records.push(r);
  }
  parser.end();
  for (let r = parser.read() as string[] | null; r !== null; r = parser.read() as string[] | null)
    records.push(r);
  return records;
}

function cases(model: ChurnModel, chunks: readonly Buffer[], records: readonly string[][]): Case[] {
  const [header = [], ...data] = records;
  const mapping = mapColumns(header, data.slice(0, BATCH_ROWS));
  const batches: string[][][] = [];
  for (let at = 0; at < data.length; at += BATCH_ROWS) batches.push(data.slice(at, at + BATCH_ROWS));

  // One encoded batch for the bare session baseline: the same rows, features and variant as the scorer's.
  const present = new Set(mapping.columns.map((c) => c.column.name));
  const encoder = createEncoder(model.manifest, present);
  const variant = chooseVariant(model.manifest, present);
  const first = batchReader(mapping, BATCH_ROWS)(batches[0] ?? []);
  const features = new Float64Array(first.size * encoder.width);
  encoder.encode(first, features, new Uint32Array(first.size));

  return [
    {
      name: 'csv_parse_bare',
      description: 'csv-parse alone over the file bytes, records discarded (the end-to-end baseline)',
      run: () => Promise.resolve(parseAll(chunks).length - 1),
    },
    {
      name: 'score_csv',
      description: 'scoreCsv end to end: bytes in, results CSV out to a null sink',
      run: async () => (await scoreCsv(model, chunks, nullSink())).rowsProcessed,
    },
    {
      name: 'score_preparsed',
      description: 'the batch scorer on pre-parsed records: canonical values, encode, ONNX, explain, format',
      run: async () => {
        const scorer = createBatchScorer(model, mapping);
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

async function main(): Promise<void> {
  if (!existsSync(DATA)) await generateTelcoCsv(TRAINING, DATA, ROWS);
  const bytes = await readFile(DATA);
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK) chunks.push(bytes.subarray(at, at + CHUNK));
  const model = await loadModel();
  const results: Record<string, Result> = {};
  for (const c of cases(model, chunks, parseAll(chunks))) {
    const result = await measure(c);
    results[c.name] = result;
    process.stdout.write(
      `${c.name.padEnd(16)} ${Math.round(result.rowsPerSecond).toLocaleString('en-US').padStart(10)} rows/s  ` +
        `(median ${result.medianMs.toFixed(0)} ms for ${result.rows.toLocaleString('en-US')} rows)\n`,
    );
  }
  const ms = (name: string): number => results[name]?.medianMs ?? NaN;
  const ratios = {
    score_csv_over_parse: ms('score_csv') / ms('csv_parse_bare'),
    score_preparsed_over_ort: ms('score_preparsed') / ms('ort_bare'),
  };
  process.stdout.write(
    `score_csv / csv_parse_bare time: ${ratios.score_csv_over_parse.toFixed(2)}x\n` +
      `score_preparsed / ort_bare time: ${ratios.score_preparsed_over_ort.toFixed(2)}x\n`,
  );
  const report = {
    generatedAt: new Date().toISOString(),
    machine: {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model,
      node: process.version,
      loadAverage: os.loadavg(),
    },
    input: { rows: ROWS, bytes: bytes.length, batchRows: BATCH_ROWS, reps: REPS },
    cases: results,
    ratios,
  };
  await writeFile(join(HERE, 'results.json'), JSON.stringify(report, null, 2) + '\n');
}

await main();
