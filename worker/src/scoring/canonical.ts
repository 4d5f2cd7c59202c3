import type { ColumnMapping, MappedColumn } from './columns.js';
import { mapColumns } from './columns.js';
import { openCsv, type ByteSource } from './csv-reader.js';
import { InputError } from './errors.js';
import { MISSING_CATEGORY, numberParser, type CategoryParser, type DecimalSeparator } from './values.js';

/**
 * Records → canonical values, column by column into typed arrays that are reused from batch to batch,
 * so the hot path allocates nothing per cell: numbers are a Float64Array (NaN = missing), categories an
 * Int8Array of label indices (-1 = missing), ids the strings as read.
 */

export type ColumnValues =
  | { readonly kind: 'number'; readonly values: Float64Array }
  | { readonly kind: 'category'; readonly codes: Int8Array; readonly labels: readonly string[] }
  | { readonly kind: 'id'; readonly values: string[] };

export interface CanonicalBatch {
  size: number;
  /** the columns present in the file (text-only engagement columns excepted), by canonical name */
  readonly columns: ReadonlyMap<string, ColumnValues>;
}

type Fill = (records: readonly string[][]) => void;

/**
 * A reader for one mapping, reading numbers with the file's decimal mark: `read(records)` refills and
 * returns the same batch object every time.
 */
export function batchReader(
  mapping: ColumnMapping,
  capacity: number,
  decimal: DecimalSeparator,
): (records: readonly string[][]) => CanonicalBatch {
  const columns = new Map<string, ColumnValues>();
  const fills: Fill[] = [];
  const parseNumber = numberParser(decimal);
  for (const mapped of mapping.columns) {
    const built = columnReader(mapped, capacity, parseNumber);
    if (!built) continue;
    columns.set(mapped.column.name, built.values);
    fills.push(built.fill);
  }
  const batch: CanonicalBatch = { size: 0, columns };
  return (records) => {
    if (records.length > capacity) throw new Error(`batch of ${records.length} exceeds capacity ${capacity}`);
    batch.size = records.length;
    for (const fill of fills) fill(records);
    return batch;
  };
}

function columnReader(
  mapped: MappedColumn,
  capacity: number,
  parseNumber: (cell: string) => number,
): { values: ColumnValues; fill: Fill } | undefined {
  const { index, scale } = mapped;
  const spec = mapped.column.value;
  switch (spec.kind) {
    case 'number': {
      const values = new Float64Array(capacity);
      const fill: Fill =
        scale === 1
          ? (records) => {
              for (let i = 0; i < records.length; i++)
                values[i] = parseNumber((records[i] as string[])[index] ?? '');
            }
          : (records) => {
              for (let i = 0; i < records.length; i++)
                values[i] = parseNumber((records[i] as string[])[index] ?? '') * scale;
            };
      return { values: { kind: 'number', values }, fill };
    }
    case 'category': {
      const parser: CategoryParser = spec.parser();
      const codes = new Int8Array(capacity);
      const fill: Fill = (records) => {
        for (let i = 0; i < records.length; i++) {
          const cell = (records[i] as string[])[index];
          codes[i] = cell === undefined ? MISSING_CATEGORY : parser.parse(cell);
        }
      };
      return { values: { kind: 'category', codes, labels: parser.labels }, fill };
    }
    case 'id': {
      const values = new Array<string>(capacity).fill('');
      const fill: Fill = (records) => {
        for (let i = 0; i < records.length; i++) values[i] = (records[i] as string[])[index] ?? '';
      };
      return { values: { kind: 'id', values }, fill };
    }
    case 'text':
      return undefined;
  }
}

/** One canonical cell as text: the number, the label or the id; "" when missing. */
export function canonicalText(values: ColumnValues, row: number): string {
  switch (values.kind) {
    case 'number': {
      const value = values.values[row] as number;
      return Number.isNaN(value) ? '' : String(value);
    }
    case 'category': {
      const code = values.codes[row] as number;
      return code === MISSING_CATEGORY ? '' : (values.labels[code] as string);
    }
    case 'id':
      return values.values[row] as string;
  }
}

export interface CanonicalTable {
  /** canonical columns present in the file (in canonical order), then the pass-through columns */
  readonly columns: readonly string[];
  readonly mapping: ColumnMapping;
  /** one object per data row: canonical text per column ("" = missing), pass-through cells as read */
  readonly rows: AsyncGenerator<Record<string, string>>;
}

const SAMPLE_ROWS = 4096;

/**
 * A CSV as canonical text rows (the training pipeline's input): the same decoding, mapping and
 * canonicalisation as scoring, plus `passThrough` columns (e.g. the `Churn` label) copied verbatim,
 * found by their cleaned header name.
 */
export async function readCanonicalTable(
  source: ByteSource,
  options: { passThrough?: readonly string[] } = {},
): Promise<CanonicalTable> {
  const csv = await openCsv(source);
  const batches = csv.batches(SAMPLE_ROWS);
  const first = await batches.next();
  if (first.done) throw noDataRows();
  const sample = first.value;
  const mapping = mapColumns(csv.header, sample);
  const passThrough = (options.passThrough ?? []).map((name) => {
    const index = mapping.headers.indexOf(name);
    if (index < 0) throw new InputError('missing_columns', `Missing column: ${name}.`);
    return { name, index };
  });
  const read = batchReader(mapping, SAMPLE_ROWS, csv.dialect.decimal);
  const canonical = [...read([]).columns.keys()];
  async function* rows(): AsyncGenerator<Record<string, string>> {
    let records = sample;
    for (;;) {
      const batch = read(records);
      for (let i = 0; i < batch.size; i++) {
        const row: Record<string, string> = {};
        for (const [name, values] of batch.columns) row[name] = canonicalText(values, i);
        for (const { name, index } of passThrough) row[name] = (records[i] as string[])[index] ?? '';
        yield row;
      }
      const next = await batches.next();
      if (next.done) return;
      records = next.value;
    }
  }
  return { columns: [...canonical, ...passThrough.map((p) => p.name)], mapping, rows: rows() };
}

export function noDataRows(): InputError {
  return new InputError(
    'no_data_rows',
    'CSV has no data rows. Add at least one customer row below the header.',
  );
}
