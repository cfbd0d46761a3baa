// Wires the data path together and owns what changes over the process's life:
// the loaded services, the listeners, the CrowdSec bouncer, reloads and shutdown.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, formatHostPort, loadServicesConfig, serviceEquals } from './config/load';
import type { ServicesConfig } from './config/types';
import { StreamBouncer } from './crowdsec/bouncer';
import { BouncerLifecycle } from './crowdsec/lifecycle';
import type { ListenerStatus, ServiceStatus, StatusReport } from './admin/status';
import { AdminServer } from './listeners/admin';
import { HostRouter } from './listeners/host-router';
import { HttpEntrypoint } from './listeners/http-entrypoint';
import { TcpListener } from './listeners/tcp-listener';
import { createLogs, type Logs } from './logger';
import { Metrics } from './metrics';
import { CidrSet } from './net/prefix-map';
import type { ChainContext } from './restrictions/chain';
import { openGeoDatabase, type GeoDatabase } from './restrictions/geo';
import { buildServiceRuntime, type HttpServiceRuntime, type ServiceRuntime, type TcpServiceRuntime } from './services';
import { SettingsError, type Settings } from './settings';
import { VERSION } from './version';

const CONFIG_POLL_MS = 500;
const CONFIG_DEBOUNCE_MS = 200;

export async function runDaemon(settings: Settings): Promise<void> {
  let trusted: CidrSet;
  try {
    trusted = new CidrSet(settings.trustedProxies);
  } catch (err) {
    throw new SettingsError(`--trusted-proxies / NB_PROXY_TRUSTED_PROXIES: ${(err as Error).message}`);
  }
  const config = await loadServicesConfig(settings.configPath, { crowdsecAvailable: settings.crowdsec !== undefined });
  const logs = createLogs(settings.logLevel, settings.accessLog);
  const daemon = new Daemon(settings, logs, trusted);
  await daemon.start(config);
}

class Daemon {
  private readonly log: Logger;
  private readonly chain: ChainContext;
  private readonly lifecycle: BouncerLifecycle;
  private readonly metrics: Metrics;
  private readonly http: HttpEntrypoint;
  private readonly admin: AdminServer;
  private readonly tcpListeners = new Map<string, TcpListener>();
  private readonly failedListeners = new Set<string>();
  private services = new Map<string, ServiceRuntime>();
  private loadedText = '';
  private reloading: Promise<void> = Promise.resolve();
  private reloadTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  constructor(
    private readonly settings: Settings,
    private readonly logs: Logs,
    private readonly trusted: CidrSet,
  ) {
    this.log = logs.log;
    this.chain = { geo: this.openGeo(), crowdsec: undefined };
    const crowdsec = settings.crowdsec;
    this.lifecycle = new BouncerLifecycle(() => (crowdsec === undefined ? undefined : new StreamBouncer({ settings: crowdsec, log: this.log })));
    this.metrics = new Metrics(() => this.lifecycle.current);
    const common = { chain: this.chain, trusted, proxyProtocol: settings.proxyProtocol, log: this.log, accessLog: logs.access, metrics: this.metrics };
    this.http = new HttpEntrypoint({ ...common, upstreamTimeoutMs: settings.upstreamTimeoutMs });
    this.admin = new AdminServer(
      {
        supportsCrowdSec: crowdsec !== undefined,
        notReadyReasons: () => this.notReadyReasons(),
        status: () => this.status(),
      },
      this.metrics,
      this.log,
    );
  }

  async start(config: ServicesConfig): Promise<void> {
    this.log.info({ version: VERSION, config: this.settings.configPath }, 'netbird-proxy starting');
    this.loadedText = config.text;
    await this.apply(config);
    try {
      await this.http.listen(this.settings.httpAddr);
      await this.admin.listen(this.settings.adminAddr);
    } catch (err) {
      this.log.fatal({ err: (err as Error).message }, 'cannot bind listener');
      await this.shutdown(1);
      return;
    }
    this.log.info(
      { http_addr: formatHostPort(this.settings.httpAddr), admin_addr: formatHostPort(this.settings.adminAddr), services: config.services.length },
      'netbird-proxy listening',
    );
    this.installSignals();
    // Polling (one stat per interval) also sees atomic replaces and edits on bind mounts, which
    // inotify on the file misses. The first comparison catches a change made before the watcher's
    // first stat.
    watchFile(this.settings.configPath, { interval: CONFIG_POLL_MS, persistent: false }, (cur: Stats, prev: Stats) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) this.scheduleReload('file changed');
    });
    this.scheduleReload('file changed');
  }

  private openGeo(): GeoDatabase | undefined {
    try {
      const geo = openGeoDatabase(this.settings.geoipDb);
      this.log.info({ path: geo.path, type: geo.databaseType, build_date: geo.buildDate.toISOString() }, 'country database loaded');
      return geo;
    } catch (err) {
      this.log.error({ path: this.settings.geoipDb, err: (err as Error).message }, 'country database unavailable: services with country rules deny with geo_unavailable');
      return undefined;
    }
  }

  /** Swaps in a validated config: unchanged services keep their runtime, listener and connections. */
  private async apply(config: ServicesConfig): Promise<void> {
    const next = new Map<string, ServiceRuntime>();
    for (const svc of config.services) {
      const previous = this.services.get(svc.name);
      next.set(svc.name, previous !== undefined && serviceEquals(previous.config, svc) ? previous : buildServiceRuntime(svc));
    }
    const httpServices: HttpServiceRuntime[] = [];
    const tcpByAddr = new Map<string, TcpServiceRuntime>();
    for (const runtime of next.values()) {
      if (runtime.config.protocol === 'http') httpServices.push(runtime as HttpServiceRuntime);
      else tcpByAddr.set(formatHostPort(runtime.config.listen), runtime as TcpServiceRuntime);
    }

    // CrowdSec first, so that a newly enforcing service never sees a bouncer that is about to go.
    await this.lifecycle.update([...next.values()].filter((s) => s.access.crowdsec !== 'off').length);
    this.chain.crowdsec = this.lifecycle.current;

    this.http.router = new HostRouter(httpServices);
    for (const [addr, listener] of this.tcpListeners) {
      const runtime = tcpByAddr.get(addr);
      if (runtime === undefined) {
        void listener.close(false);
        this.tcpListeners.delete(addr);
      } else {
        listener.service = runtime;
      }
    }
    this.failedListeners.clear();
    for (const [addr, runtime] of tcpByAddr) {
      if (this.tcpListeners.has(addr)) continue;
      const listener = new TcpListener(runtime, { ...this.commonListenerOptions(), connectTimeoutMs: this.settings.upstreamTimeoutMs });
      try {
        await listener.listen();
        this.tcpListeners.set(addr, listener);
      } catch (err) {
        this.failedListeners.add(addr);
        this.log.error({ service: runtime.name, listen: addr, err: (err as Error).message }, 'cannot bind tcp listener');
      }
    }
    this.services = next;
  }

  private commonListenerOptions() {
    return { chain: this.chain, trusted: this.trusted, proxyProtocol: this.settings.proxyProtocol, log: this.log, accessLog: this.logs.access, metrics: this.metrics };
  }

  private scheduleReload(why: string): void {
    if (this.stopping) return;
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => {
      this.reloading = this.reloading.then(() => this.reload(why));
    }, CONFIG_DEBOUNCE_MS);
  }

  private async reload(why: string): Promise<void> {
    if (this.stopping) return;
    const file = this.settings.configPath;
    let config: ServicesConfig;
    try {
      config = await loadServicesConfig(file, { crowdsecAvailable: this.settings.crowdsec !== undefined });
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : (err as Error).message;
      this.log.error({ file, err: message }, 'config reload failed; keeping the running config');
      return;
    }
    if (why === 'file changed' && config.text === this.loadedText) return;
    await this.apply(config);
    this.loadedText = config.text;
    this.log.info({ file, reason: why, services: config.services.length }, 'config reloaded');
  }

  private notReadyReasons(): string[] {
    const reasons: string[] = [];
    if (!this.http.listening) reasons.push(`http listener ${formatHostPort(this.settings.httpAddr)} not bound`);
    for (const addr of this.failedListeners) reasons.push(`tcp listener ${addr} not bound`);
    const enforcing = [...this.services.values()].filter((s) => s.access.crowdsec === 'enforce').map((s) => s.name);
    const bouncer = this.lifecycle.current;
    if (enforcing.length > 0 && (bouncer === undefined || !bouncer.synced)) {
      reasons.push(`CrowdSec bouncer has not completed its initial sync (enforce: ${enforcing.join(', ')})`);
    }
    return reasons;
  }

  private status(): StatusReport {
    const bouncer = this.lifecycle.current;
    const services = [...this.services.values()];
    const crowdsecServices = services.filter((s) => s.access.crowdsec !== 'off').map((s) => ({ service: s.name, mode: s.access.crowdsec }));
    const reasons = this.notReadyReasons();
    return {
      version: VERSION,
      ready: reasons.length === 0,
      not_ready_reasons: reasons,
      listeners: this.listenerStatus(),
      services: services.map(serviceStatus),
      crowdsec: {
        configured: this.settings.crowdsec !== undefined,
        url: this.settings.crowdsec?.apiUrl ?? null,
        synced: bouncer?.synced ?? false,
        services: crowdsecServices,
        ...(bouncer === undefined ? { state: 'stopped' as const } : bouncer.status()),
      },
    };
  }

  private listenerStatus(): ListenerStatus[] {
    const list: ListenerStatus[] = [
      { kind: 'http', address: formatHostPort(this.settings.httpAddr), service: null, bound: this.http.listening },
      { kind: 'admin', address: formatHostPort(this.settings.adminAddr), service: null, bound: true },
    ];
    for (const s of this.services.values()) {
      if (s.config.protocol !== 'tcp') continue;
      const addr = formatHostPort(s.config.listen);
      list.push({ kind: 'tcp', address: addr, service: s.name, bound: this.tcpListeners.get(addr)?.listening ?? false });
    }
    return list;
  }

  private installSignals(): void {
    // A bug must not leave a half-working proxy behind: log it where operators look, then exit
    // non-zero so the supervisor restarts the process.
    const die = (err: unknown): void => {
      this.log.fatal({ err: err instanceof Error ? err.stack : String(err) }, 'netbird-proxy crashed');
      this.logs.flush();
      process.exit(1);
    };
    process.on('uncaughtException', die);
    process.on('unhandledRejection', die);
    process.on('SIGHUP', () => this.scheduleReload('SIGHUP'));
    process.on('SIGUSR2', () => {
      this.logs.reopen();
      this.log.info('access log reopened');
    });
    const onStop = (signal: string): void => {
      this.log.info({ signal }, 'shutting down');
      void this.shutdown(0);
    };
    process.once('SIGTERM', () => onStop('SIGTERM'));
    process.once('SIGINT', () => onStop('SIGINT'));
  }

  private async shutdown(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.reloadTimer);
    unwatchFile(this.settings.configPath);
    await Promise.all([
      this.http.close(this.settings.shutdownGraceMs),
      ...[...this.tcpListeners.values()].map((l) => l.close(true)),
      this.admin.close(),
      this.lifecycle.update(0),
    ]);
    this.log.info('netbird-proxy stopped');
    this.logs.flush();
    process.exit(code);
  }
}


function serviceStatus(s: ServiceRuntime): ServiceStatus {
  const c = s.config;
  return {
    name: s.name,
    protocol: c.protocol,
    match: c.protocol === 'http' ? [...c.domains] : [formatHostPort(c.listen)],
    target: c.protocol === 'http' ? `${c.target.protocol}//${c.target.host}` : formatHostPort(c.target),
    crowdsec: c.access.crowdsec,
    cidr: { allow: [...c.access.cidr.allow], deny: [...c.access.cidr.deny] },
    countries: { allow: [...c.access.countries.allow], deny: [...c.access.countries.deny] },
  };
}
