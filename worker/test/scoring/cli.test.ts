import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OUTPUT_COLUMNS } from '../../src/scoring/output.js';
import { FIXTURES } from './helpers.js';

const CLI = join(import.meta.dirname, '..', '..', 'src', 'cli', 'score.ts');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'score-cli-'));
  for (const name of await readdir(FIXTURES)) await copyFile(join(FIXTURES, name), join(dir, name));
  // a binary file renamed .csv: not UTF-8, and its NUL byte is no Windows-1252 text either
  await writeFile(join(dir, 'binary.csv'), Buffer.from([0x61, 0x0a, 0x00, 0xff, 0x0a]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs the CLI as `npm run score` does: a child process started from elsewhere, INIT_CWD = the user's directory. */
function score(...args: string[]) {
  return run(process.execPath, '--import', 'tsx', CLI, ...args);
}

/** The same with a file piped in by a shell, as `cat in.csv | npm run score -- -` (stdin is a real pipe). */
function scorePiped(input: string, ...args: string[]) {
  return run('sh', '-c', 'cat "$0" | "$@"', input, process.execPath, '--import', 'tsx', CLI, ...args);
}

function run(command: string, ...args: string[]) {
  const result = spawnSync(command, args, {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, INIT_CWD: dir, HOME: join(dir, 'home') },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The same on a terminal: stdin, stdout and stderr are one pseudo-terminal, whose output is returned. */
function scoreOnTerminal(...args: string[]) {
  const command = [process.execPath, '--import', 'tsx', CLI, ...args].map((a) => `'${a}'`).join(' ');
  return run('script', '-qec', command, '/dev/null');
}

// ESC [ K: erase to the end of the line, after the carriage return that goes back to its start
const ERASE = String.raw`\r\u001b\[K`;
const PROGRESS = new RegExp(`${ERASE}[\\d,]+ rows, [\\d,]+ rows/s, [\\d.]+ s elapsed`);

describe('npm run score', () => {
  it.each([
    ['telco-sample.csv', 26, 'full', 'all 20 by their own names'],
    [
      'saas-aliases.csv',
      8,
      'saas',
      'user_id → customerID, months_subscribed → tenure, mrr → MonthlyCharges, total_revenue → TotalCharges, ' +
        'plan_type → Contract, payment_type → PaymentMethod; 7 more by their own names',
    ],
    ['required-only.csv', 6, 'core', 'all 5 by their own names'],
  ])('scores %s into <name>.scored.csv beside it', async (name, rows, variant, columns) => {
    const { code, stderr, stdout } = score(name);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    const output = join(dir, name.replace('.csv', '.scored.csv'));
    const [scored, mapped, end] = stderr.split('\n');
    expect(scored).toMatch(
      new RegExp(
        `^Scored ${rows} of ${rows} rows \\(High \\d+, Medium \\d+, Low \\d+\\) with model \\S+ variant ${variant} in [\\d.]+ s \\([\\d,]+ rows/s\\) -> ${output}$`,
      ),
    );
    expect(mapped).toBe(`Columns: ${columns}`);
    expect(end).toBe('');
    const records = parse<Record<string, string>>(await readFile(output), { columns: true });
    expect(records).toHaveLength(rows);
    expect(Object.keys(records[0] ?? {})).toEqual([...OUTPUT_COLUMNS]);
  });

  it('writes nothing under the home folder (onnxruntime telemetry is off)', async () => {
    await mkdir(join(dir, 'home'), { recursive: true });
    expect(score('telco-sample.csv', '-o', 'quiet.csv').code).toBe(0);
    expect(await readdir(join(dir, 'home'))).toEqual([]);
  });

  it('writes to stdout with -o - and to a chosen file with -o, byte for byte the same', async () => {
    const toStdout = score('telco-sample.csv', '-o', '-');
    const toFile = score('telco-sample.csv', '-o', 'chosen.csv');
    expect(toStdout.code).toBe(0);
    expect(toFile.code).toBe(0);
    expect(toStdout.stdout).toBe(await readFile(join(dir, 'chosen.csv'), 'utf8'));
    expect(toStdout.stdout.startsWith('customerID,risk_level,')).toBe(true);
  });

  it.each([
    ['empty.csv', 'The CSV file is empty.'],
    ['header-only.csv', 'CSV has no data rows.'],
    ['missing-columns.csv', 'Missing required columns: TotalCharges, Contract.'],
    ['binary.csv', 'The file is not valid UTF-8 text (line 2, byte 4).'],
    ['no-such-file.csv', 'cannot read'],
  ])('rejects %s with one line and exit code 2, leaving no output file', async (name, message) => {
    const { code, stderr } = score(name);
    expect(code).toBe(2);
    expect(stderr.split('\n')).toHaveLength(2);
    expect(stderr).toContain(message);
    expect(stderr).not.toMatch(/\n\s+at /);
    expect((await readdir(dir)).filter((f) => f.startsWith(name.replace('.csv', '.scored')))).toEqual([]);
  });

  describe('a large file', () => {
    let big: string;
    beforeAll(async () => {
      const [header, ...rows] = (await readFile(join(FIXTURES, 'telco-sample.csv'), 'utf8'))
        .trimEnd()
        .split('\n');
      big = join(dir, 'big.csv');
      await writeFile(big, [header, ...Array<string[]>(400).fill(rows).flat()].join('\n'));
    });

    it('keeps one updating line (rows, rows/s, elapsed) on a terminal and clears it before the summary', () => {
      const { code, stdout } = scoreOnTerminal(big, '-o', join(dir, 'big.scored.csv'));
      expect(code).toBe(0);
      expect(stdout).toMatch(PROGRESS);
      expect(stdout).not.toMatch(/rows\/s, [\d.]+ s elapsed\r?\n/);
      expect(stdout).toMatch(
        new RegExp(`${ERASE}Scored 10,400 of 10,400 rows .*\\r\\nColumns: all 20 by their own names\\r\\n$`),
      );
    });

    it('is silent when stderr is not a terminal', () => {
      const { code, stderr } = score(big, '-o', join(dir, 'big.scored.csv'));
      expect(code).toBe(0);
      expect(stderr).not.toMatch(new RegExp(ERASE));
      expect(stderr.split('\n')).toHaveLength(3);
    });

    it('ends quietly with exit 0 when the reader of its stdout goes away, as under `| head -1`', () => {
      // pipefail: the pipeline's status is the CLI's, not head's
      const piped = ['set -o pipefail; "$@" | head -1', 'score', process.execPath, '--import', 'tsx', CLI];
      const { code, stdout, stderr } = run('bash', '-c', ...piped, big, '-o', '-');
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toBe(`${OUTPUT_COLUMNS.join(',')}\n`);
    });
  });

  it('names the accepted aliases of missing columns', () => {
    expect(score('missing-columns.csv').stderr).toContain(
      'Suggestions: TotalCharges may also be named ltv, lifetime_value, customer_lifetime_value, clv; ' +
        'Contract may also be named contract_type, plan, plan_type, subscription_plan',
    );
  });

  it.each([[[]], [['a.csv', 'b.csv']], [['--bogus', 'a.csv']], [['-o']]])(
    'exits 2 with usage on %j',
    (args) => {
      const { code, stdout, stderr } = score(...args);
      expect(code).toBe(2);
      expect(stdout).toBe('');
      expect(stderr).toMatch(/^score: .+\nusage: npm run score -- <input.csv>.*\n$/);
    },
  );

  it.each(['--help', '-h'])('prints its help on stdout with %s, outputs and exit codes included', (flag) => {
    const { code, stdout, stderr } = score(flag);
    expect(code).toBe(0);
    expect(stderr).toBe('');
    expect(stdout).toMatch(/^usage: npm run score -- <input.csv>/);
    expect(stdout).toContain('Exit codes: 0 ');
  });

  describe('output targets', () => {
    const isRoot = process.getuid?.() === 0;

    // A device node of our own (mknod needs root), so a regression can never replace the machine's /dev/null.
    it.skipIf(!isRoot)('writes straight to a device and leaves it a device', async () => {
      const device = join(dir, 'null-device');
      expect(spawnSync('mknod', [device, 'c', '1', '3']).status).toBe(0);
      const { code, stderr } = score('telco-sample.csv', '-o', device);
      expect(stderr).toMatch(/^Scored 26 of 26 rows/);
      expect(code).toBe(0);
      expect((await stat(device)).isCharacterDevice()).toBe(true);
      expect(await readdir(dir)).not.toContain('null-device.partial');
      await rm(device);
    });

    it.each([
      ['-', ['-']],
      ['a path to /dev/stdin', ['stdin-folder/stdin']],
    ])('reads %s and writes the results to stdout, creating no file', async (_name, args) => {
      const folder = join(dir, 'stdin-folder');
      await mkdir(folder, { recursive: true });
      await rm(join(folder, 'stdin'), { force: true });
      await symlink('/dev/stdin', join(folder, 'stdin'));
      const before = await readdir(dir);
      const { code, stdout, stderr } = scorePiped(join(dir, 'telco-sample.csv'), ...args);
      expect(stderr).toMatch(/^Scored 26 of 26 rows/);
      expect(code).toBe(0);
      expect(stdout.startsWith('customerID,risk_level,')).toBe(true);
      expect(await readdir(folder)).toEqual(['stdin']);
      expect(await readdir(dir)).toEqual(before);
    });

    it.each([
      ['a folder that does not exist', 'no-such-folder/out.csv', 'no-such-folder does not exist'],
      ['a path under a file', 'telco-sample.csv/out.csv', 'telco-sample.csv is not a folder'],
      ['a folder', '.', 'is a folder: name the output file'],
    ])('refuses %s as the output with one line and exit code 2', async (_name, output, message) => {
      const before = await readdir(dir);
      const { code, stderr } = score('telco-sample.csv', '-o', output);
      expect(stderr).toContain(message);
      expect(stderr.split('\n')).toHaveLength(2);
      expect(stderr).not.toMatch(/\n\s+at |Unhandled/);
      expect(code).toBe(2);
      expect(await readdir(dir)).toEqual(before);
    });
  });
});
