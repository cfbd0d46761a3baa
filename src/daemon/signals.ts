// Process signals and the last-resort crash handler.
import type { Logger } from 'pino';

export interface SignalActions {
  reload(): void;
  reopenLogs(): void;
  stop(signal: string): void;
  flushLogs(): void;
}

export function installSignalHandlers(log: Logger, actions: SignalActions): void {
  // A bug must not leave a half-working proxy behind: log it where operators look, then exit
  // non-zero so the supervisor restarts the process.
  const die = (err: unknown): void => {
    log.fatal({ err: err instanceof Error ? err.stack : String(err) }, 'netbird-proxy crashed');
    actions.flushLogs();
    process.exit(1);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  process.on('SIGHUP', () => actions.reload());
  process.on('SIGUSR2', () => {
    actions.reopenLogs();
    log.info('access log reopened');
  });
  process.once('SIGTERM', () => actions.stop('SIGTERM'));
  process.once('SIGINT', () => actions.stop('SIGINT'));
}
