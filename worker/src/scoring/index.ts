/** The scoring library shared by the worker and the CLI (brief contracts.md §C). */
export { loadModel, defaultModelDir, type ChurnModel } from './model.js';
export { scoreCsv, BATCH_ROWS, type ScoreOptions, type ScoreSummary } from './pipeline.js';
export type { ByteSource } from './csv-reader.js';
export { InputError, isInputError, type InputErrorCode } from './errors.js';
export { readCanonicalTable, type CanonicalTable } from './training-table.js';
export {
  mapColumns,
  matchHeader,
  CANONICAL_COLUMNS,
  REQUIRED_COLUMNS,
  type ColumnMapping,
} from './columns.js';
export { OUTPUT_COLUMNS } from './output.js';
