import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout (what CloudWatch Logs and Logs Insights want); human-readable through pino-pretty only
 * when a developer is watching a terminal locally. pino-pretty is a dev dependency, so it is never requested in the
 * container, where stdout is not a TTY.
 */
export function createLogger(options: {
  level: string;
  environment: string;
  pretty?: boolean;
  /** 2 sends logs to stderr (when stdout carries something a script reads, as `npm start -- --serve` does) */
  fd?: 1 | 2;
}): Logger {
  const fd = options.fd ?? 1;
  const terminal = fd === 1 ? process.stdout.isTTY : process.stderr.isTTY;
  const pretty = options.pretty ?? (options.environment === 'local' && terminal);
  const settings: LoggerOptions = {
    level: options.level,
    base: { service: 'retainwise-worker', environment: options.environment },
    // Redact anything that could carry the database password or a user's data should it ever be logged whole.
    redact: {
      paths: ['password', '*.password', 'databaseUrl', '*.databaseUrl', 'body', '*.body'],
      remove: true,
    },
  };
  if (pretty) {
    return pino({
      ...settings,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, destination: fd, ignore: 'pid,hostname,service,environment' },
      },
    });
  }
  return pino(settings, pino.destination({ dest: fd, sync: true }));
}
