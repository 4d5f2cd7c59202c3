import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES } from '../scoring/helpers.js';

// `npm start` as a user runs it: a child process, stopped by a signal or failing to start. Each run gets its own
// TMPDIR, so whatever the stack leaves in the temp dir is visible, and its own INIT_CWD for `.local/results`.
const START = join(import.meta.dirname, '..', '..', 'src', 'local', 'start.ts');
const REPO = join(import.meta.dirname, '..', '..', '..');

let tmp: string;
let home: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'start-tmp-'));
  // PostgreSQL runs as the `postgres` user when we are root, and must reach its data directory in here.
  await chmod(tmp, 0o755);
  home = await mkdtemp(join(tmpdir(), 'start-home-'));
});
afterEach(async () => {
  await rm(tmp, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

function start(...args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', START, ...args], {
    cwd: REPO,
    env: { ...process.env, TMPDIR: tmp, INIT_CWD: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return {
    child,
    exited,
    output: () => ({ stdout, stderr }),
    async waitFor(text: string): Promise<void> {
      const deadline = Date.now() + 60_000;
      while (!stdout.includes(text) && !stderr.includes(text)) {
        if (child.exitCode !== null || Date.now() > deadline) {
          throw new Error(`never printed ${text}:\n${stdout}\n${stderr}`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}

const leftInTmp = async () => (await readdir(tmp)).filter((name) => name.startsWith('retainwise-pg-'));

describe('npm start: every way it stops cleans up', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    'removes the PostgreSQL folder and logs no lost connection when --serve gets %s',
    async (signal) => {
      const run = start('--serve');
      await run.waitFor('Ctrl-C stops');
      run.child.kill(signal);
      await run.exited;
      expect(await leftInTmp()).toEqual([]);
      expect(run.output().stderr).not.toMatch(/WARN|ERROR|terminat/);
    },
  );

  it('leaves neither the PostgreSQL folder nor a results file when a --file job is interrupted', async () => {
    const sample = await readFile(join(FIXTURES, 'telco-sample.csv'), 'utf8');
    const [header, ...rows] = sample.trimEnd().split('\n');
    await writeFile(join(home, 'big.csv'), [header, ...Array<string[]>(4000).fill(rows).flat()].join('\n'));
    const run = start('--file', 'big.csv');
    await run.waitFor('Submitted prediction');
    run.child.kill('SIGINT');
    expect(await run.exited).not.toBe(0);
    expect(await leftInTmp()).toEqual([]);
    await mkdir(join(home, '.local', 'results'), { recursive: true });
    expect(await readdir(join(home, '.local', 'results'))).toEqual([]);
  });

  describe('when the database port is taken', () => {
    let server: Server;
    beforeEach(async () => {
      server = createServer();
      await new Promise<void>((resolve) => server.listen(54320, '127.0.0.1', resolve));
    });
    afterEach(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it('fails in one line and removes the PostgreSQL folder', async () => {
      const run = start('--serve');
      expect(await run.exited).toBe(1);
      const { stderr } = run.output();
      expect(stderr).toMatch(/^Starting the local stack.*\nnpm start failed: .*54320.*\n$/);
      expect(await leftInTmp()).toEqual([]);
    });
  });
});
