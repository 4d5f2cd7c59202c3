import { defineConfig } from 'vitest/config';

// One `npm test` for the whole repository: each workspace is a project with its own timeouts, because the
// worker's tests start real services (SQS/S3 emulator, PostgreSQL, child worker processes).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'infra',
          root: './infra',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          // beforeAll hooks run the whole Pulumi program under mocks; on a loaded machine that outlasts vitest's 10 s default.
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'worker',
          root: './worker',
          include: ['test/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
