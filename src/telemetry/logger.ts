// Operational logs (pino) and the access log share one stdout destination unless --access-log
// names a file.
import pino, { type Logger } from 'pino';
import { AccessLog } from './access-log';
import { AccessLogFile, type AccessLogFileEvents } from './access-log-file';

export interface Logs {
  log: Logger;
  access: AccessLog;
  /** Reopen the access log file (SIGUSR2); a no-op on stdout. */
  reopen(): void;
  flush(): void;
}

// Writes are asynchronous and batched: lines collect until 4 KiB or 200 ms, whichever comes
// first, so a busy proxy makes one write per batch instead of one per request, and an idle one
// still shows a line within 200 ms. flush() writes what is left on exit.
const BATCHING = { sync: false, minLength: 4096, periodicFlush: 200 } as const;

/** `events` receives the access log file's write failures (the metrics counter). */
export function createLogs(
  level: string,
  accessLogPath: string | undefined,
  events: AccessLogFileEvents,
  accessHead?: string,
  base?: Record<string, number>,
): Logs {
  const stdout = pino.destination({ dest: 1, ...BATCHING });
  const log = pino({ level, base }, stdout);
  const file = accessLogPath !== undefined ? new AccessLogFile(accessLogPath, log, events) : undefined;
  return {
    log,
    access: new AccessLog(file ?? stdout, accessHead),
    reopen() {
      file?.reopen();
    },
    flush() {
      file?.flushSync();
      try {
        stdout.flushSync();
      } catch {
        // Nothing was written yet.
      }
    },
  };
}
