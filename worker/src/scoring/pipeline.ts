import type { Writable } from 'node:stream';
import { ByteWriter } from './byte-writer.js';
import { batchReader } from './canonical.js';
import { inputErrors } from './errors.js';
import { mapColumns, type ColumnMapping } from './columns.js';
import { openCsv, type ByteSource, type Dialect } from './csv-reader.js';
import { chooseVariant, createEncoder, imputedCount } from './encoder.js';
import { createConfidence } from './confidence.js';
import { createExplainer } from './explain.js';
import { runModel, type ChurnModel } from './model.js';
import type { InputEncoding } from './text-decoder.js';
import type { DecimalSeparator } from './values.js';
import type { RiskLevel } from './output.js';
import { rowFormatter } from './row-writer.js';

/**
 * bytes → text (UTF-8, UTF-16 or Windows-1252) → CSV records → column mapping → batches → encode → ONNX → explain → CSV lines →
 * sink, one batch at a time, so memory is bounded by the batch, not the file, and the sink's
 * backpressure holds the whole pipeline.
 */

/**
 * Rows per model call: enough to amortise the session call (ONNX alone runs >1M rows/s at this size), few
 * enough that a batch's results (~1.1 MB) stay small: 2048 rows peaked the worker at ~335 MB RSS on the
 * 200k-row bench job, 512 at ~280 MB, at the same speed.
 */
export const BATCH_ROWS = 512;

export interface ScoreOptions {
  readonly signal?: AbortSignal;
  /** called after each batch with the number of rows written so far */
  readonly onProgress?: (rowsSoFar: number) => void;
  /**
   * The sink is done with a chunk once it has called back for it without an error: it copies the bytes or writes
   * them out, as the results upload and file streams do, unlike a PassThrough or a collector, which keep the
   * chunk. Each batch's results are then written over the memory of the batch before instead of into a new
   * ~1.1 MB buffer: on the 1M-row job that was ~2,000 allocations, each page-faulted in as it was filled and
   * left for the garbage collector.
   * @default false
   */
  readonly sinkReleasesChunks?: boolean;
}

export interface ScoreSummary {
  /** data records read (blank ones included) */
  originalRows: number;
  /** rows written to the results file */
  rowsProcessed: number;
  riskCounts: Record<RiskLevel, number>;
  /** mean retention_prediction (metrics_json.positive_rate) */
  positiveRate: number;
  /** the model variant used for the file */
  variant: string;
  /** model-column cells that were missing or unreadable and were filled in */
  imputedCells: number;
  modelVersion: string;
  /** canonical column → the input header it was read from */
  mappedColumns: Record<string, string>;
  /** the encoding the file was read in (metrics_json.input_encoding) */
  inputEncoding: InputEncoding;
  /** the file's delimiter (metrics_json.input_delimiter) */
  inputDelimiter: string;
  /** the decimal mark its numbers were read with (metrics_json.decimal_separator) */
  decimalSeparator: DecimalSeparator;
}

/**
 * Scores a customer CSV into the results CSV (spec/csv-io.md §8). Throws InputError for anything the
 * customer must fix; any other error is a bug or an I/O fault. The sink is written but not ended: the
 * caller owns it (and destroys it on failure).
 */
export async function scoreCsv(
  model: ChurnModel,
  source: ByteSource,
  sink: Writable,
  options: ScoreOptions = {},
): Promise<ScoreSummary> {
  const { signal, onProgress, sinkReleasesChunks = false } = options;
  signal?.throwIfAborted();
  const csv = await openCsv(source);
  const batches = csv.batches(BATCH_ROWS);
  const first = await batches.next();
  if (first.done) throw inputErrors.noDataRows();
  const mapping = mapColumns(csv.header, first.value);
  // a file that fits in its first batch needs buffers no larger than that batch
  const score = createBatchScorer(model, mapping, csv.dialect, first.value.length);
  await write(sink, score.header, signal);
  let next: IteratorResult<string[][], void> = first;
  while (!next.done) {
    signal?.throwIfAborted();
    const results = await score.batch(next.value);
    await write(sink, results, signal, sinkReleasesChunks ? () => score.release(results) : undefined);
    onProgress?.(score.summary.rowsProcessed);
    next = await batches.next();
  }
  return { ...score.summary, originalRows: csv.counts.records, inputEncoding: csv.encoding };
}

export interface BatchScorer {
  /** the results CSV's header line */
  readonly header: string;
  /** records (at most `capacity`) → their results CSV lines */
  batch(records: readonly string[][]): Promise<Buffer>;
  /** `results`, the latest batch's, are read by no one any more: the next batch may be written over them */
  release(results: Buffer): void;
  readonly summary: ScoreSummary;
}

/** Everything that depends only on the model and the file's columns and dialect, built once per file. */
export function createBatchScorer(
  model: ChurnModel,
  mapping: ColumnMapping,
  dialect: Dialect,
  capacity: number = BATCH_ROWS,
): BatchScorer {
  const { manifest } = model;
  const present = new Set(mapping.columns.map((c) => c.column.name));
  const variant = chooseVariant(manifest, present);
  const encoder = createEncoder(manifest, present);
  const explain = createExplainer(manifest, encoder);
  const confidence = createConfidence(manifest, encoder, variant);
  const formatter = rowFormatter(manifest);
  const read = batchReader(mapping, capacity, dialect.decimal);
  const features = new Float64Array(capacity * encoder.width);
  const imputed = new Uint32Array(capacity);
  let retained = 0;
  // results bytes per row so far: each batch's buffer is sized from it, so it rarely grows
  let rowBytes = 2560;
  let latest: ArrayBuffer | undefined;
  let spare: ArrayBuffer | undefined;
  const summary: ScoreSummary = {
    originalRows: 0,
    rowsProcessed: 0,
    riskCounts: { High: 0, Medium: 0, Low: 0 },
    positiveRate: 0,
    variant: manifest.variants[variant]?.name ?? '',
    imputedCells: 0,
    modelVersion: manifest.model_version,
    mappedColumns: Object.fromEntries(mapping.columns.map((c) => [c.column.name, c.header])),
    inputEncoding: 'utf-8',
    inputDelimiter: dialect.delimiter,
    decimalSeparator: dialect.decimal,
  };
  return {
    header: formatter.header,
    summary,
    async batch(records) {
      const batch = read(records);
      encoder.encode(batch, features, imputed);
      const outputs = await runModel(model, variant, features, batch.size);
      const ids = batch.columns.get('customerID');
      const scores = { batch, features, imputed, outputs };
      const out = new ByteWriter(Math.ceil(batch.size * rowBytes * 1.25), spare);
      spare = undefined;
      for (let i = 0; i < batch.size; i++) {
        const probability = outputs.probability[i] as number;
        const mask = imputed[i] as number;
        formatter.write(out, {
          customerId: ids?.kind === 'id' ? (ids.values[i] as string) : '',
          probability,
          explanation: explain(scores, i),
          confidence: confidence(mask),
        });
        summary.riskCounts[formatter.riskLevel(probability)]++;
        if (1 - probability >= manifest.thresholds.retention) retained++;
        summary.imputedCells += imputedCount(mask);
      }
      summary.rowsProcessed += batch.size;
      summary.positiveRate = retained / summary.rowsProcessed;
      if (batch.size > 0) rowBytes = out.length / batch.size;
      const results = out.finish();
      latest = results.buffer as ArrayBuffer;
      return results;
    },
    release(results) {
      // only the latest batch's: an older one's memory may already hold a newer batch
      if (results.buffer === latest) spare = latest;
    },
  };
}

/**
 * Writes respecting backpressure; fails instead of hanging if the sink errors or closes meanwhile. `taken` runs
 * once the sink has called back for the chunk without an error.
 */
async function write(
  sink: Writable,
  chunk: string | Uint8Array,
  signal: AbortSignal | undefined,
  taken?: () => void,
): Promise<void> {
  if (sink.destroyed || sink.writableEnded)
    throw new Error('the output stream closed before scoring finished');
  const written =
    taken &&
    ((error?: Error | null): void => {
      if (!error) taken();
    });
  if (sink.write(chunk, written)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (error?: unknown): void => {
      sink.off('drain', onDrain).off('error', onError).off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (error === undefined) resolve();
      else reject(error instanceof Error ? error : new Error('scoring was aborted'));
    };
    const onDrain = (): void => settle();
    const onError = (error: Error): void => settle(error);
    const onClose = (): void => settle(new Error('the output stream closed before scoring finished'));
    const onAbort = (): void => settle(signal?.reason);
    sink.on('drain', onDrain).on('error', onError).on('close', onClose);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
