import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../config-schema.js';
import { estimateMonthlyCost } from '../plan/pricing.js';
import { deployStack } from './support/program.js';

const INFRA = path.join(import.meta.dirname, '..');
const README = readFileSync(path.join(INFRA, 'README.md'), 'utf8');
const LAYOUT = README.slice(README.indexOf('### Layout'), README.indexOf('Every component takes'));

/**
 * The files and folders the layout tables name, relative to infra/: a row like "`plan/`: `offline.ts`, …" names
 * files of that folder, and the test table names files of test/.
 */
function namedInLayout(): string[] {
  let base = '';
  return LAYOUT.split('\n').flatMap((line) => {
    if (line.startsWith('| Test |')) base = 'test/';
    if (!line.startsWith('| `')) return [];
    const cell = line.slice(0, line.indexOf(' | '));
    const folder = /^\| `(\w+\/)`:/.exec(cell)?.[1] ?? '';
    return [...cell.matchAll(/`([^`]+)`/g)].flatMap(([, name = '']) =>
      name === folder ? [] : [base + folder + name],
    );
  });
}

function filesBelow(prefix = ''): string[] {
  return readdirSync(path.join(INFRA, prefix), { withFileTypes: true }).flatMap((entry) => {
    if (entry.name === 'node_modules') return [];
    const relative = prefix + entry.name;
    return entry.isDirectory() ? filesBelow(`${relative}/`) : [relative];
  });
}

describe('infra/README.md', () => {
  it.each(CONFIG_KEYS)('documents the config key %s', (key) => {
    expect(README).toContain(`\`${key}\``);
  });

  it('documents every stack output', async () => {
    const stack = await deployStack({
      backendImage: `123456789012.dkr.ecr.us-east-1.amazonaws.com/retainwise-backend@sha256:${'e'.repeat(64)}`,
    });
    for (const output of Object.keys(stack.outputs)) expect(README, output).toContain(`\`${output}\``);
  });

  it('lists every file of infra/ in its layout tables (a folder row such as simulate/ stands for its files)', () => {
    const named = namedInLayout();
    const unlisted = filesBelow().filter(
      (file) =>
        file !== 'README.md' &&
        !named.includes(file) &&
        !named.some((name) => name.endsWith('/') && file.startsWith(name)),
    );
    expect(unlisted).toEqual([]);
  });

  it('lists no file in its layout tables that does not exist', () => {
    expect(namedInLayout().filter((name) => !existsSync(path.join(INFRA, name)))).toEqual([]);
  });
});

const ROOT_README = readFileSync(path.join(import.meta.dirname, '../../README.md'), 'utf8');
const DEPLOY_GUIDE = readFileSync(path.join(import.meta.dirname, '../../docs/deploy.md'), 'utf8');

describe('README.md', () => {
  it('states the fixed monthly cost the plan computes for a new VPC with one NAT gateway', async () => {
    const claimed = /about \$\d+ in the existing VPC[^$]*\$(\d+) in a new VPC with one NAT gateway/.exec(
      ROOT_README,
    );
    const cost = estimateMonthlyCost((await deployStack({ egress: 'nat-gateway' })).resources);
    expect(Number(claimed?.[1])).toBe(Math.round(cost.fixedMonthlyUsd));
  });

  it('gives a KMS alias in the secrets-provider example that the deploy guide creates', () => {
    const alias = /awskms:\/\/(alias\/[\w-]+)\?/.exec(ROOT_README)?.[1];
    expect(DEPLOY_GUIDE).toContain(`--alias-name ${alias}`);
  });

  it('runs --serve with npm -s wherever its stdout is meant to be read', () => {
    expect(ROOT_README).toContain('npm start -s -- --serve');
    expect(ROOT_README).not.toMatch(/npm start -- --serve/);
  });
});
