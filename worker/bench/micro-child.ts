import { readFile } from 'node:fs/promises';
import { measureFloor } from './floor.js';
import { floorResultsSample, MICRO_CASES, runMicroCase, type MicroCase } from './micro.js';
import { chunksOf } from './parsers.js';

/**
 * One micro case, or the floor (CASE=floor), in the process runMicroCasesApart (micro.ts) starts for it: on stdout,
 * as its last line, the result as JSON with this process's pid.
 */

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined)
    throw new Error(`${name} is not set: micro-child.ts is started by runMicroCasesApart`);
  return value;
};

const name = env('CASE');
const reps = Number(env('REPS'));
let result: object;
if (name === 'floor') {
  const sample = await floorResultsSample(env('MICRO_FILE'));
  result = measureFloor(
    chunksOf(await readFile(env('FLOOR_FILE'))),
    Number(env('FLOOR_ROWS')),
    sample,
    Number(env('RESULT_BYTES_PER_ROW')),
    reps,
  );
} else if ((MICRO_CASES as readonly string[]).includes(name)) {
  result = await runMicroCase(name as MicroCase, env('MICRO_FILE'), reps);
} else throw new Error(`CASE=${name}: expected floor or one of ${MICRO_CASES.join(', ')}`);
process.stdout.write(`${JSON.stringify({ ...result, pid: process.pid })}\n`);
