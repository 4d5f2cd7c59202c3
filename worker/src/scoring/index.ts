/** The scoring library shared by the worker and the CLI (brief contracts.md §C). */
export { loadModel, defaultModelDir, type ChurnModel } from './model.js';
export { scoreCsv, BATCH_ROWS, type ScoreOptions, type ScoreSummary } from './pipeline.js';
export type { ByteSource } from './csv-reader.js';
export { InputError, isInputError, type InputErrorCode } from './errors.js';
export { readCanonicalTable, type CanonicalTable } from './training-table.js';
export { mapColumns, type ColumnMapping } from './columns.js';
export { matchHeader } from './header-match.js';
export { CANONICAL_COLUMNS, REQUIRED_COLUMNS } from './canonical-columns.js';
export { OUTPUT_COLUMNS } from './output.js';
