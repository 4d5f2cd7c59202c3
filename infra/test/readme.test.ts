import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../config-schema.js';
import { estimateMonthlyCost } from '../plan/pricing.js';
import { deployStack } from './support/program.js';

const README = readFileSync(path.join(import.meta.dirname, '../README.md'), 'utf8');

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
