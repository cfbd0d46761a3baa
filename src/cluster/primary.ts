// The primary of --workers > 1. It loads and validates services.yaml (at start and on every reload),
// runs the admin listener and the ONE CrowdSec stream bouncer, whose pulls it relays to the workers
// (relay.ts); it forks the workers, replaces one that dies, and stops them all on SIGTERM.
// It serves no traffic itself: the workers bind the listeners (cluster shares the sockets).
import cluster, { type Worker } from 'node:cluster';
import { Readable } from 'node:stream';
import v8 from 'node:v8';
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue } from 'prom-client';
import type { Logger } from 'pino';
import { AdminUi } from '../admin/api';
import { EventLog } from '../admin/event-log';
import { AdminServer } from '../admin/server';
import type { StatusReport } from '../admin/status';
import { formatHostPort } from '../config/addr';
import { ConfigError } from '../config/errors';
import type { ServicesConfig } from '../config/types';
import type { UsageMetricsPusher } from '../crowdsec/usage/pusher';
import { emptySnapshot, mergeSnapshots, type UsageSnapshot } from '../crowdsec/usage/counters';
import type { ActiveDecisionRow } from '../crowdsec/core/stats';
import { StreamBouncer } from '../crowdsec/stream/bouncer';
import { BouncerLifecycle } from '../crowdsec/stream/lifecycle';
import { ConfigReloader, validateWith } from '../daemon/config-reload';
import { serviceStatus } from '../daemon/daemon';
import { mergeWorkerRoutes } from '../admin/route-status';
import { crowdsecModeOf } from '../config/routes';
import { preflight } from '../daemon/preflight';
import type { CountryScopeState } from '../admin/status';
import { countryScopeState } from '../daemon/country-scope';
import { installSignalHandlers } from '../daemon/signals';
import { buildServiceRuntime, type ServiceRuntime } from '../services';
import type { Settings } from '../settings/types';
import { createLogs, type Logs } from '../telemetry/logger';
import { Metrics } from '../telemetry/metrics';
import { VERSION } from '../version';
import { EVENT_FD, EventReceiver } from './event-channel';
import { relayLines } from './line-relay';
import { isFromWorker, type AskWhat, type FromWorker, type ToWorker, type WorkerReport } from './messages';
import { DecisionRelay } from './relay';
import { clusterUsagePusher } from './usage';
import { WORKER_SLOT_ENV } from './worker';
import { ClusterAcme, type AcmePeer } from './acme';

const ASK_TIMEOUT_MS = 5000;
const WORKER_SEMI_SPACE_MB = 4;
const PRIMARY_SEMI_SPACE_MB = 1;
/** A worker answers in turn, after the batches before the ask: a big pull may be ahead of it. */
const USAGE_ASK_TIMEOUT_MS = 60_000;
const CONFIG_TIMEOUT_MS = 30_000;
/** Messages (a batch is ~2,000 decisions, ~70 KB) that may wait in one worker's channel before the pull pauses. */
const MAX_UNWRITTEN = 16;
/** A worker that dies sooner than this after its start is replaced after a pause, not at once. */
const QUICK_DEATH_MS = 5000;

interface Slot {
  readonly n: number;
  worker: Worker | undefined;
  /** Said hello: it gets broadcasts from now on. */
  joined: boolean;
  /** Holds a complete set: it was sent a whole full pull, or another worker's set (a donor). */
  synced: boolean;
  /** Was sent the pull-begin of the full pull (or dump) in progress. */
  fullOpen: boolean;
  /** Joined while the group already had a set: it is to be built from a synced worker's. */
  needsSet: boolean;
  /** Being built from `donor`'s set: broadcasts wait in `pending` until its dump has been passed on. */
  dump: { id: number; donor: Slot; pending: ToWorker[] } | undefined;
  started: boolean;
  everStarted: boolean;
  forkedAt: number;
}

type Answer = Extract<FromWorker, { t: 'answer' }>;

export async function runPrimary(settings: Settings): Promise<void> {
  // The primary serves no traffic: a small young generation costs it nothing (set before it allocates much).
  if (!process.execArgv.some((a) => a.includes('--max-semi-space-size'))) v8.setFlagsFromString(`--max-semi-space-size=${PRIMARY_SEMI_SPACE_MB}`);
  const { config, geo } = await preflight(settings);
  const logs = createLogs(settings.logLevel, undefined, { onWriteError: () => undefined }, undefined, undefined, settings.logFormat);
  // The kernel spreads connections over the workers' shared sockets; round-robin would make this
  // process accept every connection and hand it on (NODE_CLUSTER_SCHED_POLICY=rr still selects it).
  if (process.env.NODE_CLUSTER_SCHED_POLICY === undefined) cluster.schedulingPolicy = cluster.SCHED_NONE;
  await new Primary(settings, logs, config, countryScopeState(settings.crowdsec, geo)).start();
}

/**
 * A worker's young generation is capped at WORKER_SEMI_SPACE_MB per semi-space (V8's default grows to
 * 16 MB): a 1M-decision pull otherwise leaves each worker ~25 MB of heap it never gives back. An
 * explicit --max-semi-space-size (node flag or NODE_OPTIONS) is left alone.
 */
function workerExecArgv(): string[] {
  const given = [...process.execArgv, process.env.NODE_OPTIONS ?? ''].some((a) => a.includes('--max-semi-space-size'));
  return given ? process.execArgv : [...process.execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
}

class Primary {
  private readonly log: Logger;
  private readonly metrics: Metrics;
  private readonly lifecycle: BouncerLifecycle;
  private relay: DecisionRelay | undefined;
  private readonly slots: Slot[] = [];
  private readonly admin: AdminServer;
  private readonly events: EventLog | undefined;
  private readonly usagePusher: UsageMetricsPusher | undefined;
  private reloader: ConfigReloader | undefined;
  private services: ServiceRuntime[] = [];
  private configSeq = 0;
  private readonly configWaits = new Map<string, (error: string | null) => void>();
  private askSeq = 0;
  private dumpSeq = 0;
  private readonly asks = new Map<number, (a: Answer | undefined) => void>();
  /** Messages handed to worker.send() whose write has not completed, per worker. */
  private readonly unwritten = new Map<Worker, number>();
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;
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
        (m) => this.broadcast(m),
        () => this.channelsBehind(),
      );
      const bouncer: StreamBouncer = new StreamBouncer({ settings: crowdsec, log: this.log, store: relay, freshStore: () => relay, pulls: relay });
      this.relay = relay;
      return bouncer;
    });
    this.metrics = new Metrics(() => this.lifecycle.current);
    this.acme = new ClusterAcme(settings.acme, this.log, this.metrics.registry, () => this.acmePeers());
    if (crowdsec?.metricsIntervalMs) {
      const asker = {
        usage: async () => {
          const taken = await Promise.all(this.slots.map((slot) => this.ask(slot, 'usage', USAGE_ASK_TIMEOUT_MS).then((a) => a?.usage)));
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
      { registry: { contentType: registry.contentType, metrics: () => this.clusterMetrics() }, requestError: (where) => this.metrics.requestError(where) },
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
        this.broadcast({ t: 'reopen-logs' });
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
    // Workers inherit no stdio: their lines come through relayLines, whole; fd 4 carries their event-log entries.
    cluster.setupPrimary({ stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'], execArgv: workerExecArgv() });
    const started = new Promise<void>((resolve) => (this.allStarted = resolve));
    for (let n = 1; n <= s.workers; n++) {
      const slot: Slot = {
        n,
        worker: undefined,
        joined: false,
        synced: false,
        fullOpen: false,
        needsSet: false,
        dump: undefined,
        started: false,
        everStarted: false,
        forkedAt: 0,
      };
      this.slots.push(slot);
      this.fork(slot);
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
    if (this.lifecycle.current !== undefined) return;
    // No bouncer: the workers drop their sets (MirrorRunner); a new bouncer's first pull is a full one for all.
    for (const slot of this.slots) Object.assign(slot, { synced: false, fullOpen: false, needsSet: false, dump: undefined });
  }

  /** A validated config goes to every worker; if one cannot apply it, the ones that did go back to the running config. */
  private async reload(next: ServicesConfig): Promise<void> {
    const previous = this.config;
    await this.adopt(next);
    const errors = (await this.sendConfig(next)).filter((e): e is string => e !== null);
    if (errors.length === 0) return;
    await this.adopt(previous);
    await this.sendConfig(previous);
    throw new Error(`a worker could not apply it: ${errors[0]}`);
  }

  private async sendConfig(config: ServicesConfig): Promise<Array<string | null>> {
    const seq = ++this.configSeq;
    const waits: Array<Promise<string | null>> = [];
    for (const slot of this.slots) {
      const w = slot.worker;
      // A worker still starting has the config it was handed at hello queued first; this one follows it.
      if (w === undefined || !slot.joined) continue;
      waits.push(
        new Promise<string | null>((resolve) => {
          const key = `${w.id}:${seq}`;
          const timer = setTimeout(() => done(`worker ${slot.n} did not answer`), CONFIG_TIMEOUT_MS);
          const done = (error: string | null): void => {
            clearTimeout(timer);
            this.configWaits.delete(key);
            resolve(error);
          };
          this.configWaits.set(key, done);
          w.once('exit', () => done(null));
          this.sendTo(w, { t: 'config', seq, file: config.file, text: config.text });
        }),
      );
    }
    return Promise.all(waits);
  }

  private fork(slot: Slot): void {
    const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.n) });
    slot.worker = worker;
    slot.joined = false;
    slot.started = false;
    slot.forkedAt = Date.now();
    // Workers write JSON; with --log-format pretty their lines go through this process's pino-pretty.
    if (worker.process.stdout) relayLines(worker.process.stdout, this.settings.logFormat === 'pretty' ? this.logs.out : process.stdout);
    if (worker.process.stderr) relayLines(worker.process.stderr, process.stderr);
    const events = this.events;
    const eventPipe = worker.process.stdio[EVENT_FD];
    if (events !== undefined && eventPipe instanceof Readable) {
      const receiver = new EventReceiver(events);
      eventPipe.on('data', (chunk: Buffer) => receiver.take(chunk));
    }
    worker.on('message', (m: unknown) => {
      if (isFromWorker(m)) this.onMessage(slot, worker, m);
    });
    worker.on('exit', (code, signal) => this.onExit(slot, worker, code, signal));
  }

  private onMessage(slot: Slot, worker: Worker, m: FromWorker): void {
    switch (m.t) {
      case 'hello': {
        // In one go, before any later broadcast: the certificates, the config, then the decisions so far.
        const acme = this.acme.snapshot();
        if (acme !== undefined) this.sendTo(worker, acme);
        this.sendTo(worker, { t: 'config', seq: 0, file: this.config.file, text: this.config.text });
        slot.joined = true;
        // Not at the group's first start (the bouncer starts after it): a replacement, built from another worker's set.
        if (this.lifecycle.current !== undefined) {
          slot.needsSet = true;
          this.startDumps();
        }
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
        return this.configWaits.get(`${worker.id}:${m.seq}`)?.(m.error);
      case 'store-stats':
        return this.relay?.report(m.stats, m.breakdown);
      case 'dump-batch':
      case 'dump-end':
        return this.onDump(slot, m);
      case 'answer':
        return this.asks.get(m.id)?.(m);
    }
  }

  /** The decisions held, by origin, from the first synced worker. */
  private async activeDecisions(): Promise<ActiveDecisionRow[] | undefined> {
    for (const slot of this.slots) {
      const active = (await this.ask(slot, 'active'))?.active;
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
      peers.push({ send: (m) => this.sendTo(w, m), onGone: (cb) => w.once('exit', cb) });
    }
    return peers;
  }

  /** Builds every worker that needs a set from a synced one, unless a pull is under way (it waits for its end). */
  private startDumps(): void {
    if (this.relay === undefined || this.relay.pulling) return;
    for (const slot of this.slots) {
      const w = slot.worker;
      if (!slot.needsSet || slot.dump !== undefined || w === undefined || !slot.joined) continue;
      const donor = this.slots.find((d) => d.synced && d.started && d.dump === undefined && d.worker?.isConnected() === true);
      if (donor === undefined) {
        // No worker holds a set (all were replaced): the bouncer's next pull is a full one, which every worker takes.
        this.lifecycle.current?.requestResync();
        return;
      }
      const id = ++this.dumpSeq;
      slot.dump = { id, donor, pending: [] };
      slot.needsSet = false;
      this.sendTo(w, { t: 'pull-begin', full: true });
      this.sendTo(donor.worker as Worker, { t: 'dump', id });
    }
  }

  /** A donor's batch goes on to the worker being built; at the end, what was broadcast meanwhile follows. */
  private onDump(donor: Slot, m: Extract<FromWorker, { t: 'dump-batch' | 'dump-end' }>): void {
    const target = this.slots.find((s) => s.dump?.id === m.id && s.dump.donor === donor);
    const w = target?.worker;
    if (target === undefined || w === undefined) return;
    if (m.t === 'dump-batch') return this.sendTo(w, { t: 'batch', batch: m.batch });
    const pending = (target.dump as NonNullable<Slot['dump']>).pending;
    target.dump = undefined;
    this.sendTo(w, { t: 'pull-end', ok: true });
    target.synced = true;
    for (const msg of pending) this.deliver(target, w, msg);
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    // Its unwritten messages never will be: the pull must not wait for them.
    this.unwritten.set(worker, 1);
    this.written(worker);
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.joined = false;
    slot.started = false;
    slot.synced = false;
    slot.fullOpen = false;
    slot.needsSet = false;
    slot.dump = undefined;
    // Workers it was building are built again, from another.
    for (const s of this.slots) {
      if (s.dump?.donor !== slot) continue;
      s.dump = undefined;
      s.needsSet = true;
    }
    this.startDumps();
    if (this.stopping) return;
    if (!slot.everStarted) {
      // It could not start (a listener it cannot bind, ...): it said why on stderr; the group cannot serve.
      this.log.fatal({ worker: slot.n, code, signal }, 'worker failed to start');
      void this.shutdown(code === 2 ? 2 : 1);
      return;
    }
    const quick = Date.now() - slot.forkedAt < QUICK_DEATH_MS;
    this.log.error({ worker: slot.n, pid: worker.process.pid, code, signal }, 'worker exited; starting a replacement');
    const again = (): void => {
      if (!this.stopping && slot.worker === undefined) this.fork(slot);
    };
    if (quick) setTimeout(again, 1000).unref();
    else again();
  }

  private sendTo(worker: Worker, m: ToWorker): void {
    if (!worker.isConnected()) return;
    const unwritten = (this.unwritten.get(worker) ?? 0) + 1;
    this.unwritten.set(worker, unwritten);
    try {
      worker.send(m, () => this.written(worker));
    } catch {
      // The channel closed under us: the worker is exiting, its 'exit' replaces it.
      this.written(worker);
    }
  }

  private written(worker: Worker): void {
    const n = (this.unwritten.get(worker) ?? 1) - 1;
    if (n > 0) this.unwritten.set(worker, n);
    else this.unwritten.delete(worker);
    if (this.drained !== undefined && this.channelsBehind() === undefined) {
      const resolve = this.drained.resolve;
      this.drained = undefined;
      resolve();
    }
  }

  /**
   * Backpressure for the pull: a promise while a live worker's channel holds more than MAX_UNWRITTEN unwritten
   * messages (it applies batches slower than the LAPI sends them), so that the primary never queues a
   * whole pull in memory per worker.
   */
  private channelsBehind(): Promise<void> | undefined {
    let behind = false;
    for (const [worker, n] of this.unwritten) {
      if (n <= MAX_UNWRITTEN) continue;
      if (worker.isConnected()) behind = true;
      else this.unwritten.delete(worker);
    }
    if (!behind) return undefined;
    if (this.drained === undefined) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  private broadcast(m: ToWorker): void {
    let reporter = m.t === 'pull-end';
    for (const slot of this.slots) {
      const w = slot.worker;
      if (w === undefined || !slot.joined) continue;
      if (slot.dump !== undefined) {
        slot.dump.pending.push(m);
        continue;
      }
      if (reporter) {
        this.deliver(slot, w, { ...m, report: true } as ToWorker);
        reporter = false;
      } else this.deliver(slot, w, m);
    }
    if (m.t === 'pull-end') this.startDumps();
  }

  /** Sends a stream message to one worker, noting whether it now holds a whole set. */
  private deliver(slot: Slot, w: Worker, m: ToWorker): void {
    if (m.t === 'pull-begin' && m.full) slot.fullOpen = true;
    if (m.t === 'pull-end' && m.full === true) {
      if (m.ok && slot.fullOpen) {
        slot.synced = true;
        slot.needsSet = false;
      }
      slot.fullOpen = false;
    }
    this.sendTo(w, m);
  }

  private ask(slot: Slot, what: AskWhat, timeoutMs = ASK_TIMEOUT_MS): Promise<Answer | undefined> {
    const w = slot.worker;
    if (w === undefined || !slot.started) return Promise.resolve(undefined);
    const id = ++this.askSeq;
    return new Promise((resolve) => {
      const done = (a: Answer | undefined): void => {
        clearTimeout(timer);
        this.asks.delete(id);
        resolve(a);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.asks.set(id, done);
      this.sendTo(w, { t: 'ask', id, what });
    });
  }

  private async reports(): Promise<Array<{ slot: Slot; report: WorkerReport | undefined }>> {
    const answers = await Promise.all(this.slots.map((slot) => this.ask(slot, 'status')));
    return this.slots.map((slot, i) => ({ slot, report: answers[i]?.status }));
  }

  private async clusterMetrics(): Promise<string> {
    const own = await this.metrics.registry.getMetricsAsJSON();
    const answers = await Promise.all(this.slots.map((slot) => this.ask(slot, 'metrics')));
    type Json = MetricObjectWithValues<MetricValue<string>>[];
    const all: Json[] = [own];
    for (const a of answers) if (Array.isArray(a?.metrics)) all.push(a.metrics as Json);
    return AggregatorRegistry.aggregate(all).metrics();
  }

  private notReadyFrom(reports: Array<{ slot: Slot; report: WorkerReport | undefined }>): string[] {
    const reasons: string[] = [];
    for (const { slot, report } of reports) {
      if (report === undefined) reasons.push(`worker ${slot.n} not running`);
      else for (const r of report.not_ready_reasons) reasons.push(`worker ${slot.n}: ${r}`);
    }
    return reasons;
  }

  private async notReadyReasons(): Promise<string[]> {
    return this.notReadyFrom(await this.reports());
  }

  private async status(): Promise<StatusReport & { workers: Array<WorkerReport | { worker: number; running: false }> }> {
    const reports = await this.reports();
    const reasons = this.notReadyFrom(reports);
    const live = reports.map((r) => r.report).filter((r): r is WorkerReport => r !== undefined);
    const first = live[0];
    const bouncer = this.lifecycle.current;
    const s = this.settings;
    return {
      version: VERSION,
      ready: reasons.length === 0,
      not_ready_reasons: reasons,
      open_connections: live.reduce((n, r) => n + r.open_connections, 0),
      listeners: [...(first?.listeners ?? []), { kind: 'admin', address: formatHostPort(s.adminAddr), service: null, bound: true }],
      services: mergeWorkerRoutes(
        this.services.map((svc) => serviceStatus(svc)),
        live,
      ),
      crowdsec: {
        configured: s.crowdsec !== undefined,
        url: s.crowdsec?.apiUrl ?? null,
        synced: bouncer?.synced ?? false,
        country_scope: this.countryScope,
        services: this.services.filter((svc) => svc.access.crowdsec !== 'off').map((svc) => ({ service: svc.name, mode: svc.access.crowdsec })),
        ...(bouncer === undefined ? { state: 'stopped' as const } : bouncer.status()),
      },
      certificates: this.acme.tls.status(),
      workers: reports.map(({ slot, report }) => report ?? { worker: slot.n, running: false as const }),
    };
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
        this.sendTo(w, { t: 'stop' });
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
