// The commands docs/operations.md and the README give for `npm run ops`, read from those documents and run on the
// local stack as written: a command the runbook gives must never be a usage error.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { useStack } from '../support/harness.js';
import { ops, orphan } from '../support/ops.js';

const ctx = useStack();

describe('the runbook', () => {
  const documents = ['docs/operations.md', 'README.md'].map((path) =>
    readFileSync(new URL(`../../../${path}`, import.meta.url), 'utf8'),
  );
  const commands = [
    ...new Set(
      documents.flatMap((text) =>
        [...text.matchAll(/npm run ops -- ([^`\n#|]+)/g)].map((m) => (m[1] ?? '').trim()),
      ),
    ),
  ].filter((command) => !command.startsWith('<command>'));

  it('gives ops commands for every alarm, the sweeps and the redrives', () => {
    for (const needed of [
      'status',
      'dlq list',
      'dlq redrive --all',
      'requeue <prediction_id>',
      'sweep --older-than 30m --requeue',
    ]) {
      expect(
        commands.some((c) => c.startsWith(needed)),
        needed,
      ).toBe(true);
    }
  });

  it('gives only commands that run on the local stack as they are written (none is a usage error)', async () => {
    const { stack } = ctx;
    const folder = mkdtempSync(join(tmpdir(), 'ops-outputs-'));
    onTestFinished(() => rmSync(folder, { recursive: true, force: true }));
    const outputs = join(folder, 'outputs.json');
    // what `pulumi stack output --json` names, for this stack
    writeFileSync(
      outputs,
      JSON.stringify({ queueUrl: stack.queueUrl, dlqUrl: stack.dlqUrl, bucketName: stack.bucket }),
    );
    for (const command of commands) {
      const queued = await orphan(ctx, 1);
      const argv = command
        .replace(/<prediction_id>(\.\.\.)?/g, queued)
        .replace(/--stack-outputs (outputs\.json|-)/, `--stack-outputs ${outputs}`)
        .split(/\s+/);
      const run = await ops(stack, ...argv);
      expect(run.stderr, command).not.toContain('usage:');
      expect([0, 1, 2], command).toContain(run.code);
    }
  });
});
