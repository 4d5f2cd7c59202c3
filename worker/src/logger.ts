import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout (what CloudWatch Logs and Logs Insights want); human-readable through pino-pretty only
 * when a developer is watching a terminal locally. pino-pretty is a dev dependency, so it is never requested in the
 * container, where stdout is not a TTY.
 */
export function createLogger(options: { level: string; environment: string; pretty?: boolean }): Logger {
  const pretty = options.pretty ?? (options.environment === 'local' && process.stdout.isTTY);
  return pino({
    level: options.level,
    base: { service: 'retainwise-worker', environment: options.environment },
    // Redact anything that could carry the database password or a user's data should it ever be logged whole.
    redact: {
      paths: ['password', '*.password', 'databaseUrl', '*.databaseUrl', 'body', '*.body'],
      remove: true,
    },
    ...(pretty
      ? {
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, ignore: 'pid,hostname,service,environment' },
          },
        }
      : {}),
  });
}
