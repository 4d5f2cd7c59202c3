import { createReadStream, createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { stringify } from 'csv-stringify';
import { cleanHeaders, normaliseName } from '../src/scoring/header-names.js';
import { openCsv } from '../src/scoring/csv-reader.js';
import { readCanonicalTable } from '../src/scoring/training-table.js';
import { isMissingCell, MISSING_CATEGORY, yesNo } from '../src/scoring/values.js';

/**
 * A company's labelled history → the canonical training CSV `fit.py` reads. Columns are mapped and cells
 * canonicalised by the scoring library itself, so the model is trained on exactly what it will be fed
 * when scoring; only the label column is handled here.
 */

/** Label column names tried when none is given, compared in normalised form (`Is Churned` matches). */
export const LABEL_CANDIDATES = ['Churn', 'churned', 'is_churned', 'label'] as const;

/** Name of the 0/1 label column in the canonical CSV; no canonical column has it. */
export const CANONICAL_LABEL = 'churned';

export class TrainingDataError extends Error {
  override readonly name = 'TrainingDataError';
}

export interface TrainingDataSummary {
  /** the label column as named in the data file (cleaned header) */
  readonly labelColumn: string;
  /** canonical columns written, label excluded */
  readonly columns: readonly string[];
  readonly rows: number;
  readonly positives: number;
  /** rows left out because their label cell is empty or an NA token */
  readonly unlabelled: number;
}

/** The label column among cleaned headers: `requested` if given (exact, then normalised), else a candidate. */
export function findLabelColumn(headers: readonly string[], requested?: string): string {
  const byNormalised = (name: string) => headers.find((h) => normaliseName(h) === normaliseName(name));
  if (requested !== undefined) {
    const found = headers.find((h) => h === requested) ?? byNormalised(requested);
    if (found === undefined) {
      throw new TrainingDataError(
        `The label column "${requested}" is not in the file. Columns: ${headers.join(', ')}.`,
      );
    }
    return found;
  }
  for (const candidate of LABEL_CANDIDATES) {
    const found = byNormalised(candidate);
    if (found !== undefined) return found;
  }
  throw new TrainingDataError(
    `No label column found (looked for ${LABEL_CANDIDATES.join(', ')}). Name the column with --label <column>.`,
  );
}

/** Yes/No, 1/0, true/false, y/n in any case → 1/0; missing → undefined; anything else → null. */
export function parseLabel(cell: string): 0 | 1 | undefined | null {
  if (isMissingCell(cell)) return undefined;
  const code = LABEL_PARSER.parse(cell);
  if (code === MISSING_CATEGORY) return null;
  return LABEL_PARSER.labels[code] === 'Yes' ? 1 : 0;
}

const LABEL_PARSER = yesNo();
const MAX_REPORTED = 3;

async function readHeaders(path: string): Promise<string[]> {
  const stream = createReadStream(path);
  try {
    return cleanHeaders((await openCsv(stream)).header);
  } finally {
    stream.destroy();
  }
}

/**
 * Reads `dataPath`, writes the canonical CSV (canonical columns, then `churned` 0/1) to `outPath`.
 * Throws InputError for an unreadable file and TrainingDataError for an unusable label column.
 */
export async function writeTrainingCsv(
  dataPath: string,
  outPath: string,
  options: { label?: string } = {},
): Promise<TrainingDataSummary> {
  const labelColumn = findLabelColumn(await readHeaders(dataPath), options.label);
  const table = await readCanonicalTable(createReadStream(dataPath), { passThrough: [labelColumn] });
  const columns = table.columns.filter((c) => c !== labelColumn);
  const counts = { rows: 0, positives: 0, unlabelled: 0, invalid: 0, dataRow: 0 };
  const examples: string[] = [];

  async function* records(): AsyncGenerator<string[]> {
    yield [...columns, CANONICAL_LABEL];
    for await (const row of table.rows) {
      counts.dataRow++;
      const label = parseLabel(row[labelColumn] ?? '');
      if (label === undefined) {
        counts.unlabelled++;
      } else if (label === null) {
        counts.invalid++;
        if (examples.length < MAX_REPORTED)
          examples.push(`"${row[labelColumn]}" (data row ${counts.dataRow})`);
      } else {
        counts.rows++;
        counts.positives += label;
        yield [...columns.map((c) => row[c] ?? ''), String(label)];
      }
    }
  }

  await pipeline(records(), stringify(), createWriteStream(outPath));
  if (counts.invalid > 0) {
    throw new TrainingDataError(
      `The label column "${labelColumn}" has ${counts.invalid} value(s) that are not Yes/No, 1/0 or true/false, ` +
        `e.g. ${examples.join(', ')}.`,
    );
  }
  return {
    labelColumn,
    columns,
    rows: counts.rows,
    positives: counts.positives,
    unlabelled: counts.unlabelled,
  };
}
