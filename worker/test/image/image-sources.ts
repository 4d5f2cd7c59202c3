import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { parseDockerfile, type ParsedDockerfile } from './dockerfile.js';
import { loadBuildContext, type BuildContext } from './replay.js';

/** What the image is built from, as the image tests read it. */
export interface ImageSources {
  /** worker/Dockerfile as written */
  text: string;
  dockerfile: ParsedDockerfile;
  /** the repository root, as /.dockerignore lets it into the build */
  context: BuildContext;
}

export async function loadImageSources(): Promise<ImageSources> {
  const text = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
  const context = await loadBuildContext(fileURLToPath(new URL('../../../', import.meta.url)));
  return { text, dockerfile: parseDockerfile(text), context };
}
