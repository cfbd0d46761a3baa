// The one place a Daemon is put together with its logs, for the single process and for each worker
// of --workers > 1 (src/cluster/worker.ts), so that neither entry reaches into the other.
import type { CidrSet } from '../net/cidr-set';
import { Daemon, type WorkerRole } from '../daemon/daemon';
import type { GeoDatabase } from '../daemon/geo-database';
import type { Settings } from '../settings/types';
import { createLogs, type Logs } from '../telemetry/logger';

export interface Assembly {
  daemon: Daemon;
  logs: Logs;
}

/** How a worker's lines differ: a JSON head and base fields naming its slot, and its role. */
export interface WorkerAssembly {
  accessHead: string;
  base: Record<string, number>;
  role: WorkerRole;
}

export function assembleDaemon(settings: Settings, trusted: CidrSet, geo: GeoDatabase | undefined, worker?: WorkerAssembly): Assembly {
  // The counter lives in Metrics, which the daemon builds; the file may fail before that.
  const accessLogEvents = { onWriteError: (_lines: number): void => undefined };
  // Workers write JSON: the primary relays their lines through its own format.
  const logs =
    worker === undefined
      ? createLogs(settings.logLevel, settings.accessLog, accessLogEvents, undefined, undefined, settings.logFormat)
      : createLogs(settings.logLevel, settings.accessLog, accessLogEvents, worker.accessHead, worker.base);
  const daemon = new Daemon(settings, logs, trusted, geo, worker?.role);
  accessLogEvents.onWriteError = () => daemon.accessLogWriteError();
  return { daemon, logs };
}
