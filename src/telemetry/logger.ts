// Operational logs (pino) and the access log share one stdout destination unless --access-log
// names a file.
import pino, { type Logger } from 'pino';
import { AccessLog } from './access-log';

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

export function createLogs(level: string, accessLogPath: string | undefined): Logs {
  const stdout = pino.destination({ dest: 1, ...BATCHING });
  const log = pino({ level, base: undefined }, stdout);
  const accessDest = accessLogPath !== undefined ? pino.destination({ dest: accessLogPath, mkdir: true, ...BATCHING }) : stdout;
  return {
    log,
    access: new AccessLog(accessDest),
    reopen() {
      if (accessDest !== stdout) accessDest.reopen();
    },
    flush() {
      for (const dest of accessDest === stdout ? [stdout] : [stdout, accessDest]) {
        try {
          dest.flushSync();
        } catch {
          // flushSync throws while a file destination is still opening; nothing was written to it yet.
        }
      }
    },
  };
}
