// Wires the data path together and owns what changes over the process's life: the loaded
// services, the listeners, the CrowdSec bouncer, open connections, reloads and shutdown.
import type { Logger } from 'pino';
import { formatHostPort } from '../config/addr';
import { serviceEquals } from '../config/load';
import type { ServicesConfig } from '../config/types';
import { StreamBouncer, type DecisionChange } from '../crowdsec/stream/bouncer';
import { BouncerLifecycle } from '../crowdsec/stream/lifecycle';
import { AdminServer } from '../admin/server';
import { HostRouter } from '../listeners/host-router';
import { HttpEntrypoint } from '../listeners/http-entrypoint';
import { OpenConnections, type OpenConnection } from '../listeners/open-connections';
import { CidrSet } from '../net/cidr-set';
import type { ChainContext } from '../restrictions/chain';
import type { Verdict } from '../restrictions/types';
import { buildServiceRuntime, type HttpServiceRuntime, type ServiceRuntime, type TcpServiceRuntime } from '../services';
import type { Settings } from '../settings';
import { createLogs, type Logs } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import { VERSION } from '../version';
import { ConfigReloader } from './config-reload';
import { openGeoDatabase, type GeoDatabase } from './geo-database';
import { preflight } from './preflight';
import { affectedBy, rejudge } from './rejudge';
import { installSignalHandlers } from './signals';
import { TcpListeners } from './tcp-listeners';

export async function runDaemon(settings: Settings): Promise<void> {
  const { trusted, config, geo } = await preflight(settings);
  // The counter lives in Metrics, which the daemon builds; the file may fail before that.
  const accessLogEvents = { onWriteError: (_lines: number): void => undefined };
  const logs = createLogs(settings.logLevel, settings.accessLog, accessLogEvents);
  const daemon = new Daemon(settings, logs, trusted, geo);
  accessLogEvents.onWriteError = () => daemon.accessLogWriteError();
  await daemon.start(config);
}

class Daemon {
  private readonly log: Logger;
  private readonly chain: ChainContext;
  private readonly lifecycle: BouncerLifecycle;
  private readonly metrics: Metrics;
  private readonly open = new OpenConnections();
  private readonly http: HttpEntrypoint;
  private readonly tcp: TcpListeners;
  private readonly admin: AdminServer;
  private reloader: ConfigReloader | undefined;
  private services = new Map<string, ServiceRuntime>();
  private stopping = false;

  constructor(
    private readonly settings: Settings,
    private readonly logs: Logs,
    trusted: CidrSet,
    geo: GeoDatabase | undefined,
  ) {
    this.log = logs.log;
    this.chain = { geo: this.openGeo(geo), crowdsec: undefined };
    const crowdsec = settings.crowdsec;
    this.lifecycle = new BouncerLifecycle(() =>
      crowdsec === undefined ? undefined : new StreamBouncer({ settings: crowdsec, log: this.log, onChange: (change) => this.onDecisionChange(change) }),
    );
    this.metrics = new Metrics(() => this.lifecycle.current);
    const common = {
      chain: this.chain,
      trusted,
      proxyProtocol: settings.proxyProtocol,
      log: this.log,
      accessLog: logs.access,
      metrics: this.metrics,
      open: this.open,
    };
    this.http = new HttpEntrypoint({
      ...common,
      upstreamTimeoutMs: settings.upstreamTimeoutMs,
      headerTimeoutMs: settings.headerTimeoutMs,
      maxHeaderSize: settings.maxHeaderSize,
    });
    this.tcp = new TcpListeners({ ...common, connectTimeoutMs: settings.upstreamTimeoutMs }, this.log);
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

  accessLogWriteError(): void {
    this.metrics.accessLogWriteError();
  }

  async start(config: ServicesConfig): Promise<void> {
    const { envFile, envFileVars, crowdsec } = this.settings;
    this.log.info(
      {
        version: VERSION,
        config: this.settings.configPath,
        env_file: envFile ?? null,
        env_file_vars: envFileVars,
        crowdsec: crowdsec === undefined ? 'not configured' : crowdsec.apiUrl,
      },
      'netbird-proxy starting',
    );
    await this.apply(config);
    const tcpFailure = [...this.tcp.bindFailures].at(0);
    if (tcpFailure !== undefined) {
      const [addr, { service, err }] = tcpFailure;
      return this.failStart(`${this.settings.configPath}: service "${service}": listen ${addr}: ${bindProblem(err)}`);
    }
    for (const [flag, addr, listen] of [
      ['--http-addr', this.settings.httpAddr, () => this.http.listen(this.settings.httpAddr)],
      ['--admin-addr', this.settings.adminAddr, () => this.admin.listen(this.settings.adminAddr)],
    ] as const) {
      try {
        await listen();
      } catch (err) {
        return this.failStart(`${flag} ${formatHostPort(addr)}: ${bindProblem(err as NodeJS.ErrnoException)}`);
      }
    }
    this.log.info(
      { http_addr: formatHostPort(this.settings.httpAddr), admin_addr: formatHostPort(this.settings.adminAddr), services: config.services.length },
      'netbird-proxy listening',
    );
    this.reloader = new ConfigReloader(
      this.settings.configPath,
      { crowdsecAvailable: this.settings.crowdsec !== undefined },
      config,
      (next) => this.apply(next),
      this.log,
    );
    installSignalHandlers(this.log, {
      reload: () => this.reloader?.schedule('SIGHUP'),
      reopenLogs: () => this.logs.reopen(),
      stop: (signal) => {
        this.log.info({ signal }, 'shutting down');
        void this.shutdown(0);
      },
      flushLogs: () => this.logs.flush(),
    });
    this.reloader.watch();
  }

  /** A listener could not be bound at start: an operator error, one line on stderr, exit 2. */
  private async failStart(line: string): Promise<void> {
    this.log.fatal({ err: line }, 'cannot bind listener');
    this.logs.flush();
    process.stderr.write(`netbird-proxy: ${line}\n`);
    await this.shutdown(2);
  }

  /** `given` is the --geoip-db database (opened by the preflight); else the bundled one is tried. */
  private openGeo(given: GeoDatabase | undefined): GeoDatabase | undefined {
    try {
      const geo = given ?? openGeoDatabase(undefined);
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
    const tcpServices: TcpServiceRuntime[] = [];
    for (const runtime of next.values()) {
      if (runtime.config.protocol === 'http') httpServices.push(runtime as HttpServiceRuntime);
      else tcpServices.push(runtime as TcpServiceRuntime);
    }

    // CrowdSec first, so that a newly enforcing service never sees a bouncer that is about to go.
    await this.lifecycle.update([...next.values()].filter((s) => s.access.crowdsec !== 'off').length);
    this.chain.crowdsec = this.lifecycle.current;

    this.http.router = new HostRouter(httpServices);
    await this.tcp.reconcile(tcpServices);
    const first = this.services.size === 0;
    this.services = next;
    if (!first && this.open.size > 0) this.rejudgeOpen(this.open.all(), false, 'reload');
  }

  private onDecisionChange(change: DecisionChange): void {
    if (this.open.size > 0) this.rejudgeOpen(affectedBy(change, this.open), true, 'decisions');
  }

  private rejudgeOpen(conns: Iterable<OpenConnection>, crowdsecOnly: boolean, why: string): void {
    const startNs = process.hrtime.bigint();
    const cut = rejudge(conns, { services: this.services, chain: this.chain, nowMs: Date.now(), onCut: (conn, verdict) => this.onCut(conn, verdict) }, crowdsecOnly);
    if (cut > 0 || why === 'reload') {
      this.log.debug({ why, open: this.open.size, cut, ms: Number(process.hrtime.bigint() - startNs) / 1e6 }, 'open connections judged again');
    }
  }

  private onCut(conn: OpenConnection, verdict: Verdict): void {
    this.metrics.connectionTerminated(conn.serviceName, verdict.denyReason);
    this.log.info(
      { service: conn.serviceName, protocol: conn.protocol, client_ip: conn.clientIp, deny_reason: verdict.denyReason },
      'open connection closed: the rules now deny it',
    );
  }

  private notReadyReasons(): string[] {
    const reasons: string[] = [];
    if (!this.http.listening) reasons.push(`http listener ${formatHostPort(this.settings.httpAddr)} not bound`);
    for (const addr of this.tcp.unbound) reasons.push(`tcp listener ${addr} not bound`);
    const enforcing = [...this.services.values()].filter((s) => s.access.crowdsec === 'enforce').map((s) => s.name);
    const bouncer = this.lifecycle.current;
    if (enforcing.length > 0 && (bouncer === undefined || !bouncer.synced)) {
      reasons.push(`CrowdSec bouncer has not completed its initial sync (enforce: ${enforcing.join(', ')})`);
    }
    return reasons;
  }

  private status(): unknown {
    const bouncer = this.lifecycle.current;
    const crowdsecServices = [...this.services.values()].filter((s) => s.access.crowdsec !== 'off').map((s) => ({ service: s.name, mode: s.access.crowdsec }));
    return {
      version: VERSION,
      open_connections: this.open.size,
      crowdsec: {
        configured: this.settings.crowdsec !== undefined,
        services: crowdsecServices,
        ...(bouncer === undefined ? { state: 'stopped' } : bouncer.status()),
      },
    };
  }

  private async shutdown(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.reloader?.stop();
    await Promise.all([this.http.close(this.settings.shutdownGraceMs), this.tcp.closeAll(), this.admin.close(), this.lifecycle.update(0)]);
    this.log.info('netbird-proxy stopped');
    this.logs.flush();
    process.exit(code);
  }
}

function bindProblem(err: NodeJS.ErrnoException): string {
  switch (err.code) {
    case 'EADDRINUSE':
      return 'address already in use (EADDRINUSE): stop the other process or choose another address';
    case 'EACCES':
      return 'permission denied (EACCES): ports below 1024 need root or CAP_NET_BIND_SERVICE; choose a port >= 1024';
    case 'EADDRNOTAVAIL':
      return 'address not available on this host (EADDRNOTAVAIL): use an address of a local interface, or 0.0.0.0';
    default:
      return `cannot listen (${err.code ?? err.message})`;
  }
}
