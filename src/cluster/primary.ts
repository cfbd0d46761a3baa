// The primary of --workers > 1. It loads and validates services.yaml (at start and on every reload),
// runs the admin listener and the ONE CrowdSec stream bouncer, whose pulls it relays to the workers
// (relay.ts, set-sync.ts); it forks the workers (fork.ts), replaces one that dies, and stops them
// all on SIGTERM. It serves no traffic itself: the workers bind the listeners (cluster shares the
// sockets). Status and metrics are the workers' answers merged (status.ts).
import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AdminUi } from '../admin/api';
import { EventLog } from '../admin/event-log';
import { AdminServer } from '../admin/server';
import type { CountryScopeState } from '../admin/status';
import { formatHostPort } from '../config/addr';
import { ConfigError } from '../config/errors';
import { crowdsecModeOf } from '../config/routes';
import type { ServicesConfig } from '../config/types';
import type { ActiveDecisionRow } from '../crowdsec/core/stats';
import { StreamBouncer } from '../crowdsec/stream/bouncer';
import { BouncerLifecycle } from '../crowdsec/stream/lifecycle';
import { emptySnapshot, mergeSnapshots, type UsageSnapshot } from '../crowdsec/usage/counters';
import type { UsageMetricsPusher } from '../crowdsec/usage/pusher';
import { ConfigReloader, validateWith } from '../daemon/config-reload';
import { countryScopeState } from '../daemon/country-scope';
import { preflight } from '../daemon/preflight';
import { installSignalHandlers } from '../daemon/signals';
import { buildServiceRuntime, type ServiceRuntime } from '../services';
import type { Settings } from '../settings/types';
import { createLogs, type Logs } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import { VERSION } from '../version';
import { ClusterAcme, type AcmePeer } from './acme';
import { WorkerChannels } from './channels';
import { ConfigPush } from './config-push';
import { forkWorker, respawnDelayMs, setupWorkers, type ForkHooks } from './fork';
import type { FromWorker } from './messages';
import { ReplayStore } from '../challenge/core';
import { DecisionRelay } from './relay';
import { SetSync } from './set-sync';
import { newSlot, type Slot } from './slot';
import { clusterMetrics, clusterStatus, notReadyFrom, workerReports, type ClusterStatus } from './status';
import { clusterUsagePusher } from './usage';

/** A worker answers in turn, after the batches before the ask: a big pull may be ahead of it. */
const USAGE_ASK_TIMEOUT_MS = 60_000;

export async function runPrimary(settings: Settings): Promise<void> {
  const { config, geo } = await preflight(settings);
  const logs = createLogs(settings.logLevel, undefined, { onWriteError: () => undefined }, undefined, undefined, settings.logFormat);
  // The kernel spreads connections over the workers' shared sockets; round-robin would make this
  // process accept every connection and hand it on (NODE_CLUSTER_SCHED_POLICY=rr still selects it).
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  await new Primary(settings, logs, config, countryScopeState(settings.crowdsec, geo)).start();
}

class Primary {
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly lifecycle: BouncerLifecycle;
  private relay: DecisionRelay | undefined;
  private readonly slots: Slot[] = [];
  private readonly channels = new WorkerChannels();
  /** Challenge solutions used anywhere in the group. */
  private readonly claims = new ReplayStore();
  private readonly sets: SetSync;
  private readonly configs: ConfigPush;
  private readonly forkHooks: ForkHooks;
  private readonly admin: AdminServer;
  private readonly events: EventLog | undefined;
  private readonly usagePusher: UsageMetricsPusher | undefined;
  private reloader: ConfigReloader | undefined;
  private services: ServiceRuntime[] = [];
  private stopping = false;
  private allStarted: (() => void) | undefined;
  /** At shutdown the workers are gone before the last usage push: it reports the set as last seen. */
  private lastActive: ActiveDecisionRow[] | undefined;
  /** Usage counts stopped workers handed over as they exited, for the last push. */
  private stoppedUsage: UsageSnapshot = emptySnapshot();
  /** The certificates (ACME orders and files) as the workers serve them; /status shows these. */
  private readonly acme: ClusterAcme;

  constructor(
    private readonly settings: Settings,
    private readonly logs: Logs,
    private config: ServicesConfig,
    private readonly countryScope: CountryScopeState,
  ) {
    this.log = logs.log;
    const crowdsec = settings.crowdsec;
    this.lifecycle = new BouncerLifecycle(() => {
      if (crowdsec === undefined) return undefined;
      // The relay calls back only once pulls run, after `bouncer` is set.
      const relay = new DecisionRelay(
        (m) => this.sets.broadcast(m),
        () => this.channels.behind(),
      );
      const bouncer: StreamBouncer = new StreamBouncer({ settings: crowdsec, log: this.log, store: relay, freshStore: () => relay, pulls: relay });
      this.relay = relay;
      return bouncer;
    });
    this.sets = new SetSync(this.slots, this.channels, {
      canDump: () => this.relay !== undefined && !this.relay.pulling,
      requestResync: () => this.lifecycle.current?.requestResync(),
    });
    this.configs = new ConfigPush(this.slots, this.channels);
    this.metrics = new Metrics(() => this.lifecycle.current);
    this.acme = new ClusterAcme(settings.acme, this.log, this.metrics.registry, () => this.acmePeers());
    if (crowdsec?.metricsIntervalMs) {
      const asker = {
        usage: async () => {
          const taken = await Promise.all(this.slots.map((slot) => this.channels.ask(slot, 'usage', USAGE_ASK_TIMEOUT_MS).then((a) => a?.usage)));
          const stopped = this.stoppedUsage;
          this.stoppedUsage = emptySnapshot();
          return [...taken, stopped];
        },
        active: () => this.activeDecisions(),
        bouncerRunning: () => this.lifecycle.current !== undefined,
      };
      this.usagePusher = clusterUsagePusher(crowdsec, asker, this.log);
    }
    this.events = settings.eventLogSize > 0 ? new EventLog(settings.eventLogSize) : undefined;
    this.forkHooks = {
      // Workers write JSON; with --log-format pretty their lines go through this process's pino-pretty.
      stdout: settings.logFormat === 'pretty' ? logs.out : process.stdout,
      events: this.events,
      onMessage: (slot, worker, m) => this.onMessage(slot, worker, m),
      onExit: (slot, worker, code, signal) => this.onExit(slot, worker, code, signal),
    };
    const ui = new AdminUi(
      {
        configPath: settings.configPath,
        crowdsecAvailable: crowdsec !== undefined,
        appsecAvailable: settings.appsec !== undefined,
        accessLogTarget: settings.accessLog ?? 'stdout',
        services: () => this.services,
        reloadConfig: (why: string) => this.reloader?.reloadNow(why) ?? Promise.resolve(),
        validateConfig: (text: string) => validateWith(this.reloader, text),
      },
      this.events,
      settings.adminToken,
      this.log,
    );
    const registry = this.metrics.registry;
    this.admin = new AdminServer(
      {
        supportsCrowdSec: crowdsec !== undefined,
        supportsAppSec: settings.appsec !== undefined,
        notReadyReasons: () => this.notReadyReasons(),
        status: () => this.status(),
      },
      {
        registry: { contentType: registry.contentType, metrics: () => clusterMetrics(registry, this.slots, this.channels) },
        requestError: (where) => this.metrics.requestError(where),
      },
      this.log,
      ui,
    );
  }

  async start(): Promise<void> {
    const config = this.config;
    const s = this.settings;
    this.log.info(
      {
        version: VERSION,
        config: s.configPath,
        env_file: s.envFile ?? null,
        env_file_vars: s.envFileVars,
        env_file_reason: s.envFileReason,
        crowdsec: s.crowdsec === undefined ? 'not configured' : s.crowdsec.apiUrl,
        workers: s.workers,
        scheduling: cluster.schedulingPolicy === cluster.SCHED_RR ? 'rr' : 'none',
      },
      'netbird-proxy starting',
    );
    installSignalHandlers(this.log, {
      reload: () => this.reloader?.schedule('SIGHUP'),
      reopenLogs: () => {
        this.logs.reopen();
        this.sets.broadcast({ t: 'reopen-logs' });
      },
      stop: (signal) => {
        this.log.info({ signal }, 'shutting down');
        void this.shutdown(0);
      },
      flushLogs: () => this.logs.flush(),
    });
    try {
      await this.admin.listen(s.adminAddr);
    } catch (err) {
      return this.failStart(`--admin-addr ${formatHostPort(s.adminAddr)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    this.services = config.services.map((svc) => buildServiceRuntime(svc));
    setupWorkers();
    const started = new Promise<void>((resolve) => (this.allStarted = resolve));
    for (let n = 1; n <= s.workers; n++) {
      const slot = newSlot(n);
      this.slots.push(slot);
      forkWorker(slot, this.forkHooks);
    }
    await started;
    if (this.stopping) return;
    // ACME orders start once the workers listen: the CA's validation connects to them.
    try {
      await this.acme.tls.apply(config);
    } catch (err) {
      if (err instanceof ConfigError) throw err;
      // --cert-dir not writable, --acme-ca-cert unreadable: one line, not a stack.
      return this.failStart((err as Error).message);
    }
    // The bouncer starts once every worker has started: the initial pull reaches them live, at the pace
    // they apply it (backpressure), instead of piling up in a worker still starting or in a replay burst.
    await this.adopt(config);
    this.log.info(
      { http_addr: formatHostPort(s.httpAddr), admin_addr: formatHostPort(s.adminAddr), services: config.services.length, workers: s.workers },
      'netbird-proxy listening',
    );
    this.reloader = new ConfigReloader(
      s.configPath,
      { crowdsecAvailable: s.crowdsec !== undefined, appsecAvailable: s.appsec !== undefined, denyTemplate: s.denyTemplate },
      config,
      (next) => this.reload(next),
      this.log,
    );
    this.reloader.watch();
    this.usagePusher?.start();
  }

  /** The primary's own view of a config: the services the admin UI lists, and whether the bouncer runs. */
  private async adopt(config: ServicesConfig): Promise<void> {
    await this.acme.tls.apply(config);
    this.config = config;
    this.services = config.services.map((svc) => buildServiceRuntime(svc));
    await this.lifecycle.update(config.services.filter((svc) => crowdsecModeOf(svc) !== 'off').length);
    if (this.lifecycle.current === undefined) this.sets.dropAll();
  }

  /** A validated config goes to every worker; if one cannot apply it, the ones that did go back to the running config. */
  private async reload(next: ServicesConfig): Promise<void> {
    const previous = this.config;
    await this.adopt(next);
    const errors = (await this.configs.send(next)).filter((e): e is string => e !== null);
    if (errors.length === 0) return;
    await this.adopt(previous);
    await this.configs.send(previous);
    throw new Error(`a worker could not apply it: ${errors[0]}`);
  }

  private onMessage(slot: Slot, worker: Worker, m: FromWorker): void {
    switch (m.t) {
      case 'hello': {
        // In one go, before any later broadcast: the certificates, the config, then the decisions so far.
        const acme = this.acme.snapshot();
        if (acme !== undefined) this.channels.send(worker, acme);
        this.channels.send(worker, { t: 'config', seq: 0, file: this.config.file, text: this.config.text });
        slot.joined = true;
        // Not at the group's first start (the bouncer starts after it): a replacement, built from another worker's set.
        if (this.lifecycle.current !== undefined) this.sets.joined(slot);
        return;
      }
      case 'acme-ack':
        return this.acme.acked(m.id);
      case 'usage-final':
        this.stoppedUsage = mergeSnapshots(this.stoppedUsage, m.usage);
        return;
      case 'started':
        slot.started = true;
        if (slot.everStarted) this.log.info({ worker: slot.n, pid: worker.process.pid }, 'replacement worker serving');
        slot.everStarted = true;
        if (this.slots.every((s) => s.started)) this.allStarted?.();
        return;
      case 'config-applied':
        return this.configs.applied(worker.id, m.seq, m.error);
      case 'store-stats':
        return this.relay?.report(m.stats, m.breakdown);
      case 'dump-batch':
      case 'dump-end':
        return this.sets.onDump(slot, m);
      case 'answer':
        return this.channels.answered(m);
      case 'claim':
        return this.channels.send(worker, { t: 'claimed', id: m.id, ok: this.claims.claim(m.key, m.expiresMs, Date.now()) });
    }
  }

  /** The decisions held, by origin, from the first synced worker. */
  private async activeDecisions(): Promise<ActiveDecisionRow[] | undefined> {
    for (const slot of this.slots) {
      const active = (await this.channels.ask(slot, 'active'))?.active;
      if (active !== undefined) return (this.lastActive = active);
    }
    return this.stopping ? this.lastActive : undefined;
  }

  /** The workers an ACME change goes to now; one that joins later gets it in its snapshot. */
  private acmePeers(): AcmePeer[] {
    const peers: AcmePeer[] = [];
    for (const slot of this.slots) {
      const w = slot.worker;
      if (w === undefined || !slot.joined || !w.isConnected()) continue;
      peers.push({ send: (m) => this.channels.send(w, m), onGone: (cb) => w.once('exit', cb) });
    }
    return peers;
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    this.channels.gone(worker);
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.joined = false;
    slot.started = false;
    this.sets.exited(slot);
    if (this.stopping) return;
    if (!slot.everStarted) {
      // It could not start (a listener it cannot bind, ...): it said why on stderr; the group cannot serve.
      this.log.fatal({ worker: slot.n, code, signal }, 'worker failed to start');
      void this.shutdown(code === 2 ? 2 : 1);
      return;
    }
    const delay = respawnDelayMs(slot);
    this.log.error({ worker: slot.n, pid: worker.process.pid, code, signal }, 'worker exited; starting a replacement');
    const again = (): void => {
      if (!this.stopping && slot.worker === undefined) forkWorker(slot, this.forkHooks);
    };
    if (delay > 0) setTimeout(again, delay).unref();
    else again();
  }

  private async notReadyReasons(): Promise<string[]> {
    return notReadyFrom(await workerReports(this.slots, this.channels));
  }

  private async status(): Promise<ClusterStatus> {
    const reports = await workerReports(this.slots, this.channels);
    const view = {
      settings: this.settings,
      services: this.services,
      bouncer: this.lifecycle.current,
      countryScope: this.countryScope,
      certificates: this.acme.tls.status(),
    };
    return clusterStatus(view, reports);
  }

  private async failStart(line: string): Promise<void> {
    this.log.fatal({ err: line }, 'cannot bind listener');
    this.logs.flush();
    process.stderr.write(`netbird-proxy: ${line}\n`);
    await this.shutdown(2);
  }

  /** Every worker drains (--shutdown-grace) and exits; then the bouncer and the admin listener stop. */
  private async shutdown(code: number): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    const deadline = Date.now() + this.settings.shutdownGraceMs;
    this.allStarted?.();
    this.reloader?.stop();
    this.usagePusher?.stop();
    if (this.usagePusher !== undefined && this.lifecycle.current !== undefined) await this.activeDecisions();
    const exits = this.slots.map((slot) => {
      const w = slot.worker;
      if (w === undefined) return Promise.resolve();
      return new Promise<void>((resolve) => {
        const kill = setTimeout(() => w.process.kill('SIGKILL'), this.settings.shutdownGraceMs + 5000);
        w.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        this.channels.send(w, { t: 'stop' });
      });
    });
    await Promise.all(exits);
    await this.usagePusher?.flush(deadline);
    await Promise.all([this.admin.close(), this.lifecycle.update(0), this.acme.tls.close()]);
    this.log.info('netbird-proxy stopped');
    this.logs.flush();
    process.exit(code);
  }
}
