import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// `npm run bench` takes its arguments the way the other commands do (#16.4): --help prints, a typo is refused;
// neither may start the suite, which runs for minutes (hence the time limit: a run that starts it fails).
const REPO = join(import.meta.dirname, '..', '..', '..');

/** Runs the npm script in its own process group, so that a run past the limit is stopped with all it started. */
function bench(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn('npm', ['run', '-s', 'bench', '--', ...args], { cwd: REPO, detached: true });
  const limit = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 30_000);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.once('close', (code) => {
      clearTimeout(limit);
      resolve({ code, stdout, stderr });
    }),
  );
}

describe('npm run bench', () => {
  it.each(['--help', '-h'])(
    'prints its usage on stdout with %s and exits 0 without running',
    async (flag) => {
      const { code, stdout, stderr } = await bench(flag);
      expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
      expect(stdout).toMatch(/^usage: npm run bench -- \[--soak \| --big-job\]\n/);
      expect(stdout).toContain('Exit codes: 0 done');
    },
  );

  it('refuses an unknown flag with the usage line, exit 2', async () => {
    const { code, stdout, stderr } = await bench('--sok');
    expect({ code, stdout }).toEqual({ code: 2, stdout: '' });
    expect(stderr).toMatch(
      /^bench: Unknown option '--sok'.*\nusage: npm run bench -- \[--soak \| --big-job\]\n$/,
    );
  });
});
