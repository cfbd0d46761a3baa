// Operational logs and the access log share stdout unless --access-log names a file.
import pino, { type Logger } from 'pino';

export interface Logs {
  log: Logger;
  access: Logger;
  /** Reopen the access log file (SIGUSR2); a no-op on stdout. */
  reopen(): void;
  flush(): void;
}

export function createLogs(level: string, accessLogPath: string | undefined): Logs {
  // Asynchronous writes keep logging off the request path; lines written while a write is in flight are batched.
  const stdout = pino.destination({ dest: 1, sync: false });
  const log = pino({ level, base: undefined, redact: { paths: ['apiKey', '*.apiKey', 'headers["x-api-key"]'], censor: '[redacted]' } }, stdout);
  const accessDest = accessLogPath !== undefined ? pino.destination({ dest: accessLogPath, sync: false, mkdir: true }) : stdout;
  const access = pino({ level: 'info', base: undefined }, accessDest);
  return {
    log,
    access,
    reopen() {
      if (accessDest !== stdout) accessDest.reopen();
    },
    flush() {
      for (const dest of accessDest === stdout ? [stdout] : [stdout, accessDest]) {
        try {
          dest.flushSync();
        } catch {
          // flushSync throws while the destination is still opening; the exit handler retries.
        }
      }
    },
  };
}
