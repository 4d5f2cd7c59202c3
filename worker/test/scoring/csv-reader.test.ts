import { describe, expect, it } from 'vitest';
import { MAX_RECORD_BYTES, openCsv, type ByteSource } from '../../src/scoring/csv-reader.js';
import { inputError } from './helpers.js';

const CHUNK = 64 * 1024;

/** `total` bytes of `byte` in 64 KiB chunks, counting how many chunks the reader pulled. */
function endless(byte: string, total: number): { source: ByteSource; pulled: () => number } {
  let pulled = 0;
  const chunk = Buffer.alloc(CHUNK, byte);
  function* chunks(): Generator<Uint8Array> {
    for (let sent = 0; sent < total; sent += CHUNK) {
      pulled++;
      yield chunk;
    }
  }
  return { source: chunks(), pulled: () => pulled };
}

describe('record size limit', () => {
  it('fails a file with no line break as soon as it passes the limit, without reading the rest', async () => {
    const input = endless('x', 16 * MAX_RECORD_BYTES);
    const error = await inputError(openCsv(input.source));
    expect(error.code).toBe('line_too_long');
    expect(error.message).toMatch(/^A record near line 1 is larger than 1 MiB/);
    expect(input.pulled()).toBeLessThanOrEqual(MAX_RECORD_BYTES / CHUNK + 2);
  });
});
