import { batchReader, type ColumnValues } from './canonical.js';
import { mapColumns, type ColumnMapping } from './columns.js';
import { openCsv, type ByteSource } from './csv-reader.js';
import { inputErrors } from './errors.js';
import { MISSING_CATEGORY } from './values.js';

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
  if (first.done) throw inputErrors.noDataRows();
  const sample = first.value;
  const mapping = mapColumns(csv.header, sample);
  const passThrough = (options.passThrough ?? []).map((name) => {
    const index = mapping.headers.indexOf(name);
    if (index < 0) throw inputErrors.missingColumn(name);
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
