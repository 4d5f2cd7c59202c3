import type { ColumnMapping, MappedColumn } from './columns.js';
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
