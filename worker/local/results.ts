import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { openOutput } from '../src/cli/output-target.js';

/**
 * Streams a results object to `target`, under that name only once complete: an interrupted save leaves no file
 * that looks finished. Memory stays at a few stream buffers whatever the size (2.2 KB a row: a 200k-row file is
 * ~440 MB). `onCleanup` gets what removes the partial file, for a signal that ends the run mid-save.
 */
export async function saveResults(
  body: Readable,
  target: string,
  onCleanup: (step: () => Promise<unknown>) => void,
): Promise<void> {
  const output = await openOutput(target);
  onCleanup(() => output.abort());
  // not ended by the pipeline: commit() ends it and only then renames it into place
  await pipeline(body, output.stream, { end: false });
  await output.commit();
}
