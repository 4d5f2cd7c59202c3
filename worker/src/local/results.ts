import type { Readable } from 'node:stream';
import { openOutput } from '../cli/output-target.js';

/** An S3 GetObject body as the SDK hands it over in Node: a stream, with the SDK's helpers. */
export type ObjectBody = Readable & { transformToByteArray(): Promise<Uint8Array> };

/**
 * Saves a results object to `target`, under that name only once complete: an interrupted save leaves no file
 * that looks finished. `onCleanup` gets what removes the partial file, for a signal that ends the run mid-save.
 */
export async function saveResults(
  body: ObjectBody,
  target: string,
  onCleanup: (step: () => Promise<unknown>) => void,
): Promise<void> {
  const output = await openOutput(target);
  onCleanup(() => output.abort());
  output.stream.write(await body.transformToByteArray());
  await output.commit();
}
