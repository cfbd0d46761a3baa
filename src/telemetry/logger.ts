// Operational logs (pino) and the access log share one stdout destination unless --access-log
// names a file. JSON operational lines carry an ISO time and the level's name; the access line
// keeps its own fixed shape (access-log.ts). --log-format pretty passes both through pino-pretty.
import type { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { AccessLog } from './access-log';
import { AccessLogFile, type AccessLogFileEvents } from './access-log-file';
import { useColor, type LogFormat } from './log-format';

export interface Logs {
  log: Logger;
  access: AccessLog;
  /** Reopen the access log file (SIGUSR2); a no-op on stdout. */
  reopen(): void;
  flush(): void;
  /** Where lines for stdout go (workers' lines are relayed into it, so that they get the same format). */
  out: Writable;
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
  format: LogFormat = 'json',
): Logs {
  const stdout = pino.destination({ dest: 1, ...BATCHING });
  const out: Writable =
    format === 'json'
      ? (stdout as unknown as Writable)
      : pinoPretty({
          destination: stdout,
          colorize: useColor(process.stdout),
          translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l',
          ignore: 'hostname',
          singleLine: true,
        });
  const log = pino({ level, base, timestamp: pino.stdTimeFunctions.isoTime, formatters: { level: (label) => ({ level: label }) } }, out);
  const file = accessLogPath !== undefined ? new AccessLogFile(accessLogPath, log, events) : undefined;
  return {
    log,
    access: new AccessLog(file ?? out, accessHead),
    out,
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
