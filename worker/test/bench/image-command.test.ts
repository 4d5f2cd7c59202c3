import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { imageCommand } from '../../bench/processes.js';

const dockerfile = (cmd: string, env = 'ENV NODE_ENV=production'): string =>
  `FROM node:24-slim AS runtime\n${env}\nCMD ${cmd}\n`;

describe("the bench's worker process", () => {
  it("runs with the node flags of the image's CMD and the environment of its ENV", () => {
    expect(
      imageCommand(
        dockerfile('["node", "--enable-source-maps", "--stack-trace-limit=20", "dist/src/main.js"]'),
      ),
    ).toEqual({
      nodeArgs: ['--enable-source-maps', '--stack-trace-limit=20'],
      env: { NODE_ENV: 'production' },
    });
  });

  it('is what worker/Dockerfile runs', async () => {
    const text = await readFile(new URL('../../Dockerfile', import.meta.url), 'utf8');
    const { nodeArgs, env } = imageCommand(text);
    expect(nodeArgs).toContain('--enable-source-maps');
    expect(env.NODE_OPTIONS).toMatch(/--max-semi-space-size=\d+/);
  });

  it('refuses an image whose CMD does not run dist/src/main.js with node, naming it', () => {
    expect(() => imageCommand(dockerfile('["node", "dist/src/other.js"]'))).toThrow(
      /CMD \["node","dist\/src\/other.js"\]/,
    );
  });
});
