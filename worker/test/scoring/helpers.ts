import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { InputError } from '../../src/scoring/errors.js';
import { scoreCsv, type ScoreSummary } from '../../src/scoring/index.js';
import type { ChurnModel } from '../../src/scoring/model.js';

export const FIXTURES = join(import.meta.dirname, '..', 'fixtures');

export const fixture = (name: string): Promise<Buffer> => readFile(join(FIXTURES, name));

/** The input delivered in chunks of `size` bytes, as a network stream would split it. */
export function chunked(bytes: Uint8Array, size = 64 * 1024): Readable {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(bytes.subarray(at, at + size));
  return Readable.from(chunks, { objectMode: false });
}

export class MemorySink extends Writable {
  readonly chunks: Buffer[] = [];
  override _write(chunk: Buffer, _: BufferEncoding, callback: () => void): void {
    this.chunks.push(chunk);
    callback();
  }
  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}

export async function scoreText(
  model: ChurnModel,
  input: string | Uint8Array,
  chunkSize?: number,
): Promise<{ text: string; summary: ScoreSummary; rows: Record<string, string>[] }> {
  const sink = new MemorySink();
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const summary = await scoreCsv(model, chunked(bytes, chunkSize), sink);
  const text = sink.text();
  return { text, summary, rows: parse<Record<string, string>>(text, { columns: true }) };
}

export async function inputError(run: Promise<unknown>): Promise<InputError> {
  try {
    await run;
  } catch (error) {
    if (error instanceof InputError) return error;
    throw error;
  }
  throw new Error('expected an InputError');
}
