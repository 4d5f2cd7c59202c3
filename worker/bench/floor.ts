import { createHash } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { papaParseRecords } from './parsers.js';

/**
 * The floor for a job's CPU per row (issue #15): what any worker must spend on a row of this input and output,
 * measured in this process on the same data - Papa Parse reading the input and nothing else, then one pass each
 * of SHA-256 (the SigV4 payload hash), CRC32 (the SDK's default checksum) and memcpy over the results bytes. Each
 * stage is CPU time (process.cpuUsage), the best of `reps`, since CPU time under other processes' load only grows.
 */

export interface Floor {
  parseUsPerRow: number;
  sha256UsPerRow: number;
  crc32UsPerRow: number;
  memcpyUsPerRow: number;
  /** the sum of the four */
  usPerRow: number;
}

function bestCpuUs(reps: number, run: () => void): number {
  let best = Infinity;
  for (let i = 0; i < reps; i++) {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    best = Math.min(best, used.user + used.system);
  }
  return best;
}

/**
 * `input`: the job's file as chunks, of `rows` data rows. `results`: a sample of results bytes, of which the
 * job wrote `resultBytesPerRow` per row; the per-byte costs are measured on it in 5 MiB pieces (one part each).
 */
export function measureFloor(
  input: readonly Uint8Array[],
  rows: number,
  results: Buffer,
  resultBytesPerRow: number,
  reps: number,
): Floor {
  const part = 5 * 1024 * 1024;
  const pieces: Buffer[] = [];
  for (let at = 0; at < results.length; at += part) pieces.push(results.subarray(at, at + part));
  const copy = Buffer.allocUnsafe(part);
  const perRow = (us: number): number => (us / results.length) * resultBytesPerRow;
  const parseUsPerRow = bestCpuUs(reps, () => papaParseRecords(input)) / rows;
  const sha256UsPerRow = perRow(
    bestCpuUs(reps, () => {
      for (const piece of pieces) createHash('sha256').update(piece).digest();
    }),
  );
  const crc32UsPerRow = perRow(
    bestCpuUs(reps, () => {
      for (const piece of pieces) crc32(piece);
    }),
  );
  const memcpyUsPerRow = perRow(
    bestCpuUs(reps, () => {
      for (const piece of pieces) piece.copy(copy);
    }),
  );
  return {
    parseUsPerRow,
    sha256UsPerRow,
    crc32UsPerRow,
    memcpyUsPerRow,
    usPerRow: parseUsPerRow + sha256UsPerRow + crc32UsPerRow + memcpyUsPerRow,
  };
}
