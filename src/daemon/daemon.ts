// Wires the data path together and owns what changes over the process's life: the loaded
// services, the listeners, the CrowdSec bouncer, open connections, reloads and shutdown.
import type { Logger } from 'pino';
import { AuthGate } from '../auth/gate';
import { ChallengeGate } from '../challenge/gate';
import type { SolutionClaims } from '../challenge/core';
import { usesChallenge } from '../challenge/service';
import { loadSessionSecret } from '../auth/session-secret';
import { authSummary } from '../auth/summary';
import { formatHostPort } from '../config/addr';
import { ConfigError } from '../config/errors';
import { serviceEquals } from '../config/load';
import { crowdsecModeOf } from '../config/routes';
import type { HostPort, ServicesConfig } from '../config/types';
import { StreamBouncer, type BouncerStatus } from '../crowdsec/stream/bouncer';
import type { DecisionChange } from '../crowdsec/stream/decision-change';
import { BouncerLifecycle } from '../crowdsec/stream/lifecycle';
import { LapiClient } from '../crowdsec/stream/lapi-client';
import { UsageCounters } from '../crowdsec/usage/counters';
import { UsageMetricsPusher } from '../crowdsec/usage/pusher';
import { AdminUi } from '../admin/api';
import { AppSecGate } from '../appsec/gate';
import { appsecStatus } from '../appsec/status';
import { EventLog } from '../admin/event-log';
import { AdminServer } from '../admin/server';
import type { RouteStatus, ListenerStatus, ServiceStatus, StatusReport } from '../admin/status';
import { HostRouter } from '../listeners/host-router';
import { serviceUsesAuth } from '../listeners/auth-site';
import { HttpEntrypoint } from '../listeners/http-entrypoint';
import { OpenConnections, type OpenConnection } from '../listeners/open-connections';
import { type CidrSet } from '../net/cidr-set';
import type { ChainContext, CrowdSecSource } from '../restrictions/chain';
import type { Verdict } from '../restrictions/types';
import { rebuildServiceRuntime, type HttpServiceRuntime, type ServiceRuntime, type TcpServiceRuntime } from '../services';
import type { Settings } from '../settings/types';
import type { Logs } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import type { AcmeFollower } from '../tls/acme/follower';
import { TlsManager } from '../tls/manager';
import { TlsMetrics } from '../tls/metrics';
import { VERSION } from '../version';
import { ConfigReloader, validateWith } from './config-reload';
import { countryScopeState } from './country-scope';
import { openGeoDatabase, type GeoDatabase } from './geo-database';
import { affectedBy, rejudge } from './rejudge';
import { installSignalHandlers } from './signals';
import { TcpListeners } from './tcp-listeners';
import { attachUpstreamAgents } from './upstream-agents';
import { HealthProbes } from './health-probes';
import { routesStatus, upstreamRows } from '../admin/route-status';
import { registerUpstreamMetrics } from '../telemetry/upstream-metrics';

/** What answers CrowdSec lookups: the bouncer's lifecycle, or in a worker (--workers > 1) the mirror of the primary's pulls. */
export interface CrowdSecRunner {
  update(servicesUsingCrowdSec: number): Promise<void>;
  readonly current: (CrowdSecSource & { status(): BouncerStatus }) | undefined;
}

/** A worker of --workers > 1: no admin listener, no signals, no reloader; the primary drives it (src/cluster/worker.ts). */
export interface WorkerRole {
  crowdsec: CrowdSecRunner;
  /** ACME certificates and challenges handed over by the primary, which orders them. */
  acme?: AcmeFollower;
  /** After draining, before exit: the worker hands its last usage counts to the primary. */
  beforeExit?: () => Promise<void>;
  /** Challenge solutions are claimed at the primary, so that a replay to another worker is refused. */
  challengeClaims?: SolutionClaims;
}

export class Daemon {
  private readonly log: Logger;
  private readonly chain: ChainContext;
  private readonly lifecycle: CrowdSecRunner;
  private readonly usagePusher: UsageMetricsPusher | undefined;
  private readonly appsec: AppSecGate | undefined;
  /** What the listeners count for CrowdSec usage metrics; a worker's are taken by the primary. */
  readonly usage: UsageCounters | undefined;
  readonly metrics: Metrics;
  readonly open = new OpenConnections();
  private readonly http: HttpEntrypoint;
  private readonly https: HttpEntrypoint;
  private readonly tls: TlsManager;
  private httpsBinding: Promise<void> | undefined;
  private readonly tcp: TcpListeners;
  private readonly admin: AdminServer | undefined;
  private reloader: ConfigReloader | undefined;
  private services = new Map<string, ServiceRuntime>();
  private readonly auth: AuthGate;
  private readonly challenge: ChallengeGate;
  private stopping = false;
  private probes: HealthProbes | undefined;

  constructor(
    private readonly settings: Settings,
    private readonly logs: Logs,
    trusted: CidrSet,
    geo: GeoDatabase | undefined,
    private readonly worker?: WorkerRole,
  ) {
    this.log = logs.log;
    this.chain = { geo: this.openGeo(geo), crowdsec: undefined };
    const crowdsec = settings.crowdsec;
    if (countryScopeState(crowdsec, this.chain.geo).startsWith('unavailable')) {
      this.log.warn('--crowdsec-scopes has country but no country database is loaded: country-scope decisions cannot match');
    }
    const bouncers =
      worker === undefined
        ? new BouncerLifecycle(() =>
            crowdsec === undefined ? undefined : new StreamBouncer({ settings: crowdsec, log: this.log, onChange: (change) => this.onDecisionChange(change) }),
          )
        : undefined;
    this.lifecycle = worker?.crowdsec ?? (bouncers as BouncerLifecycle);
    this.metrics = new Metrics(() => bouncers?.current);
    registerUpstreamMetrics(this.metrics.registry, () => upstreamRows(this.services.values()));
    const usage = crowdsec?.metricsIntervalMs ? new UsageCounters() : undefined;
    this.usage = usage;
    // With --workers > 1 the primary pushes the workers' counts (src/cluster/usage.ts).
    this.usagePusher = bouncers && usage && crowdsec && this.createUsagePusher(usage, crowdsec, bouncers);
    const tlsMetrics = new TlsMetrics(this.metrics.registry, () => this.tls.status());
    this.tls = new TlsManager({ acme: settings.acme, log: this.log, metrics: tlsMetrics, follower: worker?.acme });
    this.auth = new AuthGate(() => loadSessionSecret({ ...settings.session, certDir: settings.acme.certDir }), this.log);
    this.challenge = new ChallengeGate(
      settings.challenge,
      () => loadSessionSecret({ ...settings.session, certDir: settings.acme.certDir }),
      this.log,
      worker?.challengeClaims,
    );
    const common = {
      chain: this.chain,
      trusted,
      proxyProtocol: settings.proxyProtocol,
      log: this.log,
      accessLog: logs.access,
      metrics: this.metrics,
      open: this.open,
      usage,
    };
    this.appsec = settings.appsec && new AppSecGate({ settings: settings.appsec, log: this.log, metrics: this.metrics, usage });
    const entrypoint = {
      ...common,
      tls: this.tls,
      upstreamTimeoutMs: settings.upstreamTimeoutMs,
      headerTimeoutMs: settings.headerTimeoutMs,
      maxHeaderSize: settings.maxHeaderSize,
      httpsRedirectPort: { port: settings.httpsRedirectPort, httpsPort: settings.httpsAddr.port },
      auth: this.auth,
      appsec: this.appsec,
      challenge: this.challenge,
    };
    this.http = new HttpEntrypoint({ ...entrypoint, scheme: 'http' });
    const http2 = settings.http2 ? { maxConcurrentStreams: settings.http2MaxConcurrentStreams } : undefined;
    this.https = new HttpEntrypoint({ ...entrypoint, scheme: 'https', http2 });
    this.tcp = new TcpListeners({ ...common, connectTimeoutMs: settings.upstreamTimeoutMs }, this.log);
    this.admin =
      worker !== undefined
        ? undefined
        : new AdminServer(
            {
              supportsCrowdSec: crowdsec !== undefined,
              supportsAppSec: settings.appsec !== undefined,
              notReadyReasons: () => this.notReadyReasons(),
              status: () => this.status(),
            },
            this.metrics,
            this.log,
            this.createAdminUi(),
          );
  }

  /**
   * The admin UI: the event log ring is fed by the access log; mode changes reload services.yaml
   * through the same queue as SIGHUP.
   */
  private createAdminUi(): AdminUi {
    const events = this.settings.eventLogSize > 0 ? new EventLog(this.settings.eventLogSize) : undefined;
    this.logs.access.tap = events;
    const host = {
      configPath: this.settings.configPath,
      crowdsecAvailable: this.settings.crowdsec !== undefined,
      appsecAvailable: this.settings.appsec !== undefined,
      accessLogTarget: this.settings.accessLog ?? 'stdout',
      services: () => [...this.services.values()],
      reloadConfig: (why: string) => this.reloader?.reloadNow(why) ?? Promise.resolve(),
      validateConfig: (text: string) => validateWith(this.reloader, text),
    };
    return new AdminUi(host, events, this.settings.adminToken, this.log);
  }

  /** Usage metrics go to the LAPI on a client of their own, with the bouncer's credentials. */
  private createUsagePusher(usage: UsageCounters, crowdsec: NonNullable<Settings['crowdsec']>, bouncers: BouncerLifecycle): UsageMetricsPusher {
    const client = new LapiClient({ settings: crowdsec });
    return new UsageMetricsPusher({
      post: (body) => client.postUsageMetrics(body),
      source: usage,
      activeDecisions: () => bouncers.current?.store.activeByOrigin(Date.now()),
      intervalMs: crowdsec.metricsIntervalMs ?? 0,
      version: VERSION,
      log: this.log,
    });
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
        env_file_reason: this.settings.envFileReason,
        crowdsec: crowdsec === undefined ? 'not configured' : crowdsec.apiUrl,
      },
      'netbird-proxy starting',
    );
    try {
      await this.apply(config);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      // --cert-dir not writable, --acme-ca-cert unreadable: one line, not a stack.
      return this.failStart((err as Error).message);
    }
    const tcpFailure = [...this.tcp.bindFailures].at(0);
    if (tcpFailure !== undefined) {
      const [addr, { service, err }] = tcpFailure;
      return this.failStart(`${this.settings.configPath}: service "${service}": listen ${addr}: ${bindProblem(err)}`);
    }
    const { httpAddr, httpsAddr, adminAddr } = this.settings;
    const listeners: Array<[string, HostPort, () => Promise<void>]> = [
      ['--http-addr', httpAddr, () => this.http.listen(httpAddr)],
      ...(this.tls.enabled ? [['--https-addr', httpsAddr, () => this.https.listen(httpsAddr)] as [string, HostPort, () => Promise<void>]] : []),
      ...(this.admin === undefined ? [] : [['--admin-addr', adminAddr, () => this.admin?.listen(adminAddr)] as [string, HostPort, () => Promise<void>]]),
    ];
    for (const [flag, addr, listen] of listeners) {
      try {
        await listen();
      } catch (err) {
        return this.failStart(`${flag} ${formatHostPort(addr)}: ${bindProblem(err as NodeJS.ErrnoException)}`);
      }
    }
    this.log.info(
      {
        http_addr: formatHostPort(this.settings.httpAddr),
        https_addr: this.https.listening ? formatHostPort(this.settings.httpsAddr) : undefined,
        admin_addr: formatHostPort(this.settings.adminAddr),
        tcp: this.tcp.boundByService(),
        services: config.services.length,
      },
      this.worker === undefined ? 'netbird-proxy listening' : 'worker listening',
    );
    if (this.worker !== undefined) return;
    this.reloader = new ConfigReloader(
      this.settings.configPath,
      {
        crowdsecAvailable: this.settings.crowdsec !== undefined,
        appsecAvailable: this.settings.appsec !== undefined,
        denyTemplate: this.settings.denyTemplate,
      },
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
    this.usagePusher?.start();
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
      this.log.error(
        { path: this.settings.geoipDb, err: (err as Error).message },
        'country database unavailable: services with country rules deny with geo_unavailable',
      );
      return undefined;
    }
  }

  /**
   * Swaps in a validated config: unchanged services keep their runtime, listener and connections.
   * Certificate files and upstream CA files are read first; if one fails (a ConfigError) nothing
   * has changed.
   */
  async apply(config: ServicesConfig): Promise<void> {
    const next = new Map<string, ServiceRuntime>();
    const fresh: HttpServiceRuntime[] = [];
    for (const svc of config.services) {
      const previous = this.services.get(svc.name);
      const reuse = previous !== undefined && serviceEquals(previous.config, svc);
      const runtime = reuse ? previous : rebuildServiceRuntime(svc, previous);
      if (!reuse && runtime.config.protocol === 'http') fresh.push(runtime as HttpServiceRuntime);
      next.set(svc.name, runtime);
    }
    await attachUpstreamAgents(fresh, config.file, this.settings.upstreamTimeoutMs);
    if (fresh.some(serviceUsesAuth)) {
      try {
        this.auth.prepare();
      } catch (err) {
        throw new ConfigError(`a service has auth, but ${(err as Error).message}`, { file: config.file }, { cause: err });
      }
    }
    if (fresh.some((s) => usesChallenge(s.config))) this.challenge.prepare(config.file);
    await this.tls.apply(config);
    const httpServices: HttpServiceRuntime[] = [];
    const tcpServices: TcpServiceRuntime[] = [];
    for (const runtime of next.values()) {
      if (runtime.config.protocol === 'http') httpServices.push(runtime as HttpServiceRuntime);
      else tcpServices.push(runtime as TcpServiceRuntime);
    }

    // CrowdSec first, so that a newly enforcing service never sees a bouncer that is about to go.
    await this.lifecycle.update([...next.values()].filter((s) => crowdsecModeOf(s.config) !== 'off').length);
    this.chain.crowdsec = this.lifecycle.current;

    this.http.router = new HostRouter(httpServices);
    // Only services served over HTTPS answer there, whatever Host a client sends.
    this.https.router = new HostRouter(httpServices.filter((s) => s.config.tls.mode !== 'off'));
    await this.tcp.reconcile(tcpServices);
    const first = this.services.size === 0;
    if (!first) void this.bindHttpsIfNeeded();
    this.services = next;
    (this.probes ??= new HealthProbes(this.log)).reconcile(next.values());
    if (!first && this.open.size > 0) this.rejudgeOpen(this.open.all(), false, 'reload');
  }

  /** A reload that adds the first TLS service binds --https-addr; a failure is logged and shown by /readyz. */
  private bindHttpsIfNeeded(): Promise<void> {
    if (!this.tls.enabled || this.https.listening || this.stopping) return Promise.resolve();
    this.httpsBinding ??= this.https
      .listen(this.settings.httpsAddr)
      .then(
        () => this.log.info({ https_addr: formatHostPort(this.settings.httpsAddr) }, 'https listener bound'),
        (err: Error) => this.log.error({ https_addr: formatHostPort(this.settings.httpsAddr), err: err.message }, 'cannot bind the https listener'),
      )
      .finally(() => (this.httpsBinding = undefined));
    return this.httpsBinding;
  }

  onDecisionChange(change: DecisionChange): void {
    if (this.open.size > 0) this.rejudgeOpen(affectedBy(change, this.open), true, 'decisions');
  }

  private rejudgeOpen(conns: Iterable<OpenConnection>, crowdsecOnly: boolean, why: string): void {
    const startNs = process.hrtime.bigint();
    const cut = rejudge(
      conns,
      { services: this.services, chain: this.chain, nowMs: Date.now(), onCut: (conn, verdict) => this.onCut(conn, verdict) },
      crowdsecOnly,
    );
    if (cut > 0 || why === 'reload') {
      this.log.debug({ why, open: this.open.size, cut, ms: Number(process.hrtime.bigint() - startNs) / 1e6 }, 'open connections judged again');
    }
  }

  private onCut(conn: OpenConnection, verdict: Verdict): void {
    this.metrics.connectionTerminated(conn.serviceName, verdict.denyReason);
    // A TCP connection is CrowdSec's unit "connection": one cut by a decision is dropped (its admission was processed).
    if (conn.protocol === 'tcp' && verdict.decision !== undefined) this.usage?.dropped('connection', verdict.decision);
    this.log.info(
      { service: conn.serviceName, protocol: conn.protocol, client_ip: conn.clientIp, deny_reason: verdict.denyReason },
      'open connection closed: the rules now deny it',
    );
  }

  notReadyReasons(): string[] {
    const reasons: string[] = [];
    if (!this.http.listening) reasons.push(`http listener ${formatHostPort(this.settings.httpAddr)} not bound`);
    if (this.tls.enabled && !this.https.listening) reasons.push(`https listener ${formatHostPort(this.settings.httpsAddr)} (--https-addr) not bound`);
    for (const addr of this.tcp.unbound) reasons.push(`tcp listener ${addr} not bound`);
    const enforcing = [...this.services.values()].filter((s) => crowdsecModeOf(s.config) === 'enforce').map((s) => s.name);
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
      open_connections: this.open.size,
      listeners: this.listenerStatus(),
      services: services.map(serviceStatus),
      crowdsec: {
        configured: this.settings.crowdsec !== undefined,
        url: this.settings.crowdsec?.apiUrl ?? null,
        synced: bouncer?.synced ?? false,
        country_scope: countryScopeState(this.settings.crowdsec, this.chain.geo),
        services: crowdsecServices,
        ...(bouncer === undefined ? { state: 'stopped' as const } : bouncer.status()),
      },
      certificates: this.tls.status(),
      appsec: appsecStatus(this.settings.appsec, this.appsec?.inflight.count ?? 0, services),
    };
  }

  listenerStatus(): ListenerStatus[] {
    const list: ListenerStatus[] = [
      { kind: 'http', address: formatHostPort(this.settings.httpAddr), service: null, bound: this.http.listening },
      ...(this.tls.enabled ? [{ kind: 'https' as const, address: formatHostPort(this.settings.httpsAddr), service: null, bound: this.https.listening }] : []),
      ...(this.admin === undefined ? [] : [{ kind: 'admin' as const, address: formatHostPort(this.settings.adminAddr), service: null, bound: true }]),
    ];
    for (const s of this.services.values()) {
      if (s.config.protocol !== 'tcp') continue;
      const addr = formatHostPort(s.config.listen);
      list.push({ kind: 'tcp', address: addr, service: s.name, bound: !this.tcp.unbound.has(addr) });
    }
    return list;
  }

  /** Routed services' routes and targets as this process sees them (--workers: each worker's report). */
  routesStatus(): Record<string, RouteStatus[]> {
    const out: Record<string, RouteStatus[]> = {};
    for (const s of this.services.values()) {
      const routes = routesStatus(s);
      if (routes !== undefined) out[s.name] = routes;
    }
    return out;
  }

  certificates(): ReturnType<TlsManager['status']> {
    return this.tls.status();
  }

  async shutdown(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + this.settings.shutdownGraceMs;
    this.reloader?.stop();
    this.usagePusher?.stop();
    this.probes?.stopAll();
    await Promise.all([
      this.http.close(this.settings.shutdownGraceMs),
      this.https.close(this.settings.shutdownGraceMs),
      this.tcp.closeAll(),
      this.admin?.close(),
      this.tls.close(),
    ]);
    // The last usage push reports the decisions held: the bouncer stops after it.
    await (this.worker?.beforeExit?.() ?? this.usagePusher?.flush(deadline));
    await this.lifecycle.update(0);
    this.appsec?.close();
    this.log.info('netbird-proxy stopped');
    this.logs.flush();
    process.exit(code);
  }
}

export function serviceStatus(s: ServiceRuntime): ServiceStatus {
  const c = s.config;
  return {
    name: s.name,
    protocol: c.protocol,
    match: c.protocol === 'http' ? [...c.domains] : [formatHostPort(c.listen)],
    target: c.protocol === 'http' ? `${c.target.protocol}//${c.target.host}` : formatHostPort(c.target),
    crowdsec: c.access.crowdsec,
    cidr: { allow: [...c.access.cidr.allow], deny: [...c.access.cidr.deny] },
    countries: { allow: [...c.access.countries.allow], deny: [...c.access.countries.deny] },
    ...routesField(s),
    auth: c.protocol === 'http' ? authSummary(c.auth) : null,
  };
}

function routesField(s: ServiceRuntime): { routes?: RouteStatus[] } {
  const routes = routesStatus(s);
  return routes === undefined ? {} : { routes };
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
