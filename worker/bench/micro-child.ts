import { readFile } from 'node:fs/promises';
import { measureFloor } from './floor.js';
import { runMicroCases } from './micro.js';
import { chunksOf } from './parsers.js';

/**
 * The micro cases and the floor, in the process runMicroCasesApart (micro.ts) starts for them: a line per case
 * on stderr, and on stdout, as its last line, `{ micro, floor }` as JSON.
 */

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined)
    throw new Error(`${name} is not set: micro-child.ts is started by runMicroCasesApart`);
  return value;
};

const reps = Number(env('REPS'));
const { micro, resultsSample } = await runMicroCases(env('MICRO_FILE'), reps, (name, result) =>
  process.stderr.write(
    `${name.padEnd(16)} ${Math.round(result.rowsPerSecond).toLocaleString('en-US').padStart(10)} rows/s\n`,
  ),
);
const floor = measureFloor(
  chunksOf(await readFile(env('FLOOR_FILE'))),
  Number(env('FLOOR_ROWS')),
  resultsSample,
  Number(env('RESULT_BYTES_PER_ROW')),
  reps,
);
process.stdout.write(`${JSON.stringify({ micro, floor })}\n`);
