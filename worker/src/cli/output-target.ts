import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { BadInput } from './command.js';

/**
 * Where a CLI writes a results file. A regular file (or a new one) is written beside its final name and renamed
 * into place on success, so a failed or interrupted run never leaves a partial file under that name. Anything
 * else (a device such as /dev/null, a FIFO, a terminal) is written straight to: renaming over it would replace
 * it with a regular file, which as root is how `-o /dev/null` once destroyed /dev/null.
 */
export interface OutputTarget {
  readonly stream: Writable;
  /** ends the stream and, for a regular file, moves it to its final name */
  commit(): Promise<void>;
  /** drops whatever was written (a partial file is removed) */
  abort(): Promise<void>;
}

export const STDOUT = '-';

export async function openOutput(path: string): Promise<OutputTarget> {
  if (path === STDOUT) {
    const done = () => Promise.resolve();
    return { stream: process.stdout, commit: done, abort: done };
  }
  const existing = await stat(path).catch(() => undefined);
  if (existing?.isDirectory()) {
    throw new BadInput(`${path} is a folder: name the output file, e.g. -o ${path}/scored.csv`);
  }
  if (existing && !existing.isFile()) {
    const stream = (await open(path, 'w').catch(writeError(path))).createWriteStream();
    return {
      stream,
      commit: () => end(stream),
      abort: () => Promise.resolve(void stream.destroy()),
    };
  }
  const partial = `${path}.partial`;
  const stream = (await open(partial, 'w').catch(writeError(path))).createWriteStream();
  return {
    stream,
    commit: async () => {
      await end(stream);
      await rename(partial, path);
    },
    abort: async () => {
      stream.destroy();
      await rm(partial, { force: true });
    },
  };
}

/** Ends the stream and waits until everything written has reached the file. */
async function end(stream: Writable): Promise<void> {
  stream.end();
  await finished(stream);
}

/** The errors opening an output can meet, as one line the user can act on. */
function writeError(path: string) {
  return async (error: unknown): Promise<never> => {
    const code = (error as NodeJS.ErrnoException).code;
    const folder = dirname(path);
    if (code === 'ENOENT') throw new BadInput(`cannot write ${path}: the folder ${folder} does not exist`);
    if (code === 'ENOTDIR')
      throw new BadInput(`cannot write ${path}: ${await firstNonFolder(folder)} is not a folder`);
    if (code === 'EACCES' || code === 'EPERM') throw new BadInput(`cannot write ${path}: permission denied`);
    if (code === 'EROFS') throw new BadInput(`cannot write ${path}: read-only file system`);
    throw error;
  };
}

/** The ancestor of a path that exists but is not a folder (what ENOTDIR is about). */
async function firstNonFolder(path: string): Promise<string> {
  const parent = dirname(path);
  if (parent !== path && !(await stat(parent).catch(() => undefined))?.isDirectory()) {
    return firstNonFolder(parent);
  }
  return path;
}
