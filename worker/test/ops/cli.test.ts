// `npm run ops` as an operator types it: the root package.json script, a child process, its output and exit code.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));

function npmRunOps(args: string[], env: Record<string, string> = {}) {
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn('npm', ['run', '-s', 'ops', '--', ...args], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run ops', () => {
  it('prints its help on stdout and exits 0', async () => {
    const run = await npmRunOps(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run ops -- <command>/);
    expect(run.stdout).toContain('Exit codes: 0 nothing wrong, 1 problems found or a step failed');
  });

  it('without a stack to talk to, names every missing variable in one line and exits 2', async () => {
    const run = await npmRunOps(['status']);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'ops: configuration: PREDICTIONS_QUEUE_URL: required but not set; PREDICTIONS_DLQ_URL: required but not set; S3_BUCKET: required but not set; DATABASE_URL: required but not set (see --help, "Where it connects")\n',
    );
  });

  it('says which stack outputs file it cannot read, exit 2', async () => {
    const run = await npmRunOps(['status', '--stack-outputs', 'no-such-outputs.json']);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('ops: cannot read the stack outputs no-such-outputs.json: ENOENT');
  });
});
