import './cli/quiet.js';
import { ConfigError, loadConfig } from './config.js';
import { describeError } from './errors.js';
import { selfCheck } from './self-check.js';
import { startWorker } from './worker.js';

// The container's entry point: validate the environment, start the worker, and on SIGTERM (ECS stop, scale-in,
// deployment) or SIGINT stop receiving, finish or hand back running jobs within SHUTDOWN_TIMEOUT_SECONDS, exit 0;
// a second signal hands them back at once.
// With --self-check: check what a job needs (self-check.ts), print one line per check, exit 0 or 1.
let config;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : describeError(error)}\n`);
  process.exit(78); // EX_CONFIG: a deployment problem, not a crash
}

if (process.argv.includes('--self-check')) {
  const results = await selfCheck(config);
  for (const { name, problem } of results) {
    process.stdout.write(problem === undefined ? `ok: ${name}\n` : `failed: ${name}: ${problem}\n`);
  }
  process.exit(results.every((r) => r.problem === undefined) ? 0 : 1);
}

const worker = await startWorker(config);
let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  // process.on, not once: a second signal must reach us rather than Node's default, which kills the process
  // before unfinished jobs are handed back. It cuts the drain short instead; the hand-back still happens.
  process.on(signal, () => {
    if (stopping) {
      worker.logger.info({ signal }, 'second shutdown signal: handing running jobs back now');
      worker.hurry();
      return;
    }
    stopping = true;
    worker.logger.info({ signal }, 'shutdown requested');
    worker.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        worker.logger.fatal({ err: describeError(error) }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
process.on('unhandledRejection', (reason) => {
  worker.logger.error({ err: describeError(reason) }, 'unhandled promise rejection');
});
