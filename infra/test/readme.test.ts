import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_KEYS } from '../config.js';
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
