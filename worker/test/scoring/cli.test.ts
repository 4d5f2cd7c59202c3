import { spawnSync } from 'node:child_process';
import { copyFile, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
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
  const result = spawnSync(process.execPath, ['--import', 'tsx', CLI, ...args], {
    cwd: join(import.meta.dirname, '..', '..'),
    env: { ...process.env, INIT_CWD: dir },
    encoding: 'utf8',
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run score', () => {
  it.each([
    ['telco-sample.csv', 26, 'full'],
    ['saas-aliases.csv', 8, 'saas'],
    ['required-only.csv', 6, 'core'],
  ])('scores %s into <name>.scored.csv beside it', async (name, rows, variant) => {
    const { code, stderr, stdout } = score(name);
    expect(code).toBe(0);
    expect(stdout).toBe('');
    const output = join(dir, name.replace('.csv', '.scored.csv'));
    expect(stderr).toMatch(
      new RegExp(
        `^Scored ${rows} of ${rows} rows \\(High \\d+, Medium \\d+, Low \\d+\\) with model \\S+ variant ${variant} in [\\d.]+ s \\([\\d,]+ rows/s\\) -> ${output}\\n$`,
      ),
    );
    const records = parse<Record<string, string>>(await readFile(output), { columns: true });
    expect(records).toHaveLength(rows);
    expect(Object.keys(records[0] ?? {})).toEqual([...OUTPUT_COLUMNS]);
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

  it('names the accepted aliases of missing columns', () => {
    expect(score('missing-columns.csv').stderr).toContain(
      'Suggestions: TotalCharges may also be named ltv, lifetime_value, customer_lifetime_value, clv; ' +
        'Contract may also be named contract_type, plan, plan_type, subscription_plan',
    );
  });

  it.each([[[]], [['a.csv', 'b.csv']], [['--bogus', 'a.csv']], [['-o']]])(
    'exits 64 with usage on %j',
    (args) => {
      const { code, stderr } = score(...args);
      expect(code).toBe(64);
      expect(stderr).toContain('usage: npm run score -- <input.csv>');
    },
  );
});
