import { ConfigError, loadConfig } from './config.js';
import { describeError } from './errors.js';
import { startWorker } from './worker.js';

// The container's entry point: validate the environment, start the worker, and on SIGTERM (ECS stop, scale-in,
// deployment) or SIGINT stop receiving, finish or hand back running jobs within SHUTDOWN_TIMEOUT_SECONDS, exit 0.
let config;
try {
  config = loadConfig();
} catch (error) {
  process.stderr.write(`${error instanceof ConfigError ? error.message : describeError(error)}\n`);
  process.exit(78); // EX_CONFIG: a deployment problem, not a crash
}

const worker = await startWorker(config);
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
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
