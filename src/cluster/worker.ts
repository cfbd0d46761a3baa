// One worker of --workers > 1: the single-process Daemon without the admin listener, the reloader
// and a bouncer of its own. The primary hands it the config text, relays the decision batches
// (mirror.ts), asks it for /status and /metrics, and tells it to stop.
import { Socket } from 'node:net';
import { parseServicesConfig } from '../config/load';
import { ConfigError } from '../config/errors';
import { emptySnapshot } from '../crowdsec/usage/counters';
import { assembleDaemon } from '../assembly/daemon';
import type { Daemon } from '../daemon/daemon';
import { preflightSettings } from '../daemon/preflight';
import type { Settings } from '../settings/types';
import { EVENT_FD, EventSender, exportDropped } from './event-channel';
import { encodeBatch, isToWorker, type FromWorker, type ToWorker, type WorkerReport } from './messages';
import type { LapiDecision } from '../crowdsec/core/types';
import { DecisionMirror, MirrorRunner } from './mirror';
import { AcmeFollower } from '../tls/acme/follower';
import { PrimaryClaims } from './claims';

export const WORKER_SLOT_ENV = 'NB_PROXY_WORKER_SLOT';
/** Decisions per dump-batch message (as the stream parser's batches). */
const DUMP_BATCH = 2000;

export function runWorker(settings: Settings): Promise<void> {
  const slot = Number(process.env[WORKER_SLOT_ENV] ?? '0');
  const send = (m: FromWorker): void => {
    if (process.connected) process.send?.(m);
  };
  const claims = new PrimaryClaims((m) => process.connected && process.send !== undefined && process.send(m));
  const mirror = new DecisionMirror(settings.crowdsec?.remediationFallback ?? 'ban', settings.crowdsec?.filters?.scopes.includes('country') ?? false);
  const runner = new MirrorRunner(mirror, settings.crowdsec !== undefined);
  const { trusted, geo } = preflightSettings(settings);
  const acme = new AcmeFollower(settings.acme);
  const beforeExit = (): Promise<void> =>
    new Promise((resolve) => {
      const usage = daemon.usage?.take();
      if (usage === undefined || !process.connected || process.send === undefined) return resolve();
      process.send({ t: 'usage-final', usage } satisfies FromWorker, undefined, {}, () => resolve());
    });
  const role = { crowdsec: runner, acme, beforeExit, challengeClaims: claims };
  const { daemon, logs } = assembleDaemon(settings, trusted, geo, { accessHead: `{"level":30,"worker":${slot}`, base: { worker: slot }, role });
  const log = logs.log;
  if (settings.eventLogSize > 0) {
    const pipe = new Socket({ fd: EVENT_FD, readable: false, writable: true });
    pipe.on('error', () => undefined); // the primary is gone: the disconnect handler stops us
    pipe.unref();
    const sender = new EventSender(pipe);
    logs.access.tap = sender;
    exportDropped(daemon.metrics.registry, slot, sender);
  }

  const die = (err: unknown): void => {
    log.fatal({ err: err instanceof Error ? err.stack : String(err) }, 'netbird-proxy worker crashed');
    logs.flush();
    process.exit(1);
  };
  process.on('uncaughtException', die);
  process.on('unhandledRejection', die);
  // The primary reloads, and stops the group; a signal sent to the whole group is left to it.
  process.on('SIGHUP', () => undefined);
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => void daemon.shutdown(0));
  process.on('SIGUSR2', () => logs.reopen());
  // The primary is gone (killed): nothing would relay decisions or replace us; stop serving.
  process.on('disconnect', () => void daemon.shutdown(0));
  setInterval(() => {
    if (!process.connected) void daemon.shutdown(0);
  }, 1000).unref();

  let started = false;
  const onMessage = async (m: ToWorker): Promise<void> => {
    switch (m.t) {
      case 'config': {
        let error: string | null = null;
        try {
          const config = parseServicesConfig(m.text, m.file, {
            crowdsecAvailable: settings.crowdsec !== undefined,
            appsecAvailable: settings.appsec !== undefined,
            denyTemplate: settings.denyTemplate,
          });
          if (!started) {
            started = true;
            await daemon.start(config);
            send({ t: 'started' });
            return;
          }
          await daemon.apply(config);
        } catch (err) {
          if (!started) throw err;
          error = err instanceof ConfigError ? err.message : (err as Error).message;
        }
        return send({ t: 'config-applied', seq: m.seq, error });
      }
      case 'pull-begin':
        return mirror.begin(m.full);
      case 'batch':
        return mirror.apply(m.batch);
      case 'pull-end': {
        const change = mirror.end(m.ok, Date.now());
        if (change !== undefined && runner.current !== undefined) daemon.onDecisionChange(change);
        if (m.report === true) {
          const store = mirror.store;
          send({ t: 'store-stats', stats: store.stats(Date.now()), breakdown: store.breakdown(Date.now()), skipped: mirror.skipped });
        }
        return;
      }
      case 'ask':
        if (m.what === 'metrics') return send({ t: 'answer', id: m.id, metrics: await daemon.metrics.registry.getMetricsAsJSON() });
        // Taken counts are the primary's from here on: a worker that dies loses only what it counted since.
        if (m.what === 'usage') return send({ t: 'answer', id: m.id, usage: daemon.usage?.take() ?? emptySnapshot() });
        if (m.what === 'active') return send({ t: 'answer', id: m.id, active: mirror.synced ? mirror.store.activeByOrigin(Date.now()) : undefined });
        return send({ t: 'answer', id: m.id, status: report(slot, daemon, mirror) });
      case 'dump':
        return dump(m.id);
      case 'reopen-logs':
        return logs.reopen();
      case 'stop':
        return daemon.shutdown(0);
    }
  };
  // The set, for a new worker: one batch written to the channel at a time. The queue below waits for
  // this, so no batch is applied to the store while its tables are walked.
  const dump = async (id: number): Promise<void> => {
    const at = Date.now();
    let batch: LapiDecision[] = [];
    const flush = (): Promise<void> => {
      const message: FromWorker = { t: 'dump-batch', id, batch: encodeBatch('new', batch, at) };
      batch = [];
      return new Promise((resolve) => {
        if (!process.connected || process.send === undefined) return resolve();
        process.send(message, undefined, {}, () => resolve());
      });
    };
    for (const d of mirror.store.exportDecisions(at)) {
      batch.push(d);
      if (batch.length === DUMP_BATCH) await flush();
    }
    if (batch.length > 0) await flush();
    send({ t: 'dump-end', id });
  };
  // Messages are handled one after another: a config is in force before the batches that follow it.
  let queue = Promise.resolve();
  process.on('message', (m: unknown) => {
    if (!isToWorker(m)) return;
    if (m.t === 'claimed') return claims.answered(m.id, m.ok);
    // Certificates and challenges depend on nothing else: in force at once, even before the config.
    if (m.t === 'acme') {
      const bad = acme.apply(m.update);
      log.debug({ certs: m.update.certs.map((c) => c.domain), challenges: m.update.challenges.map((c) => c.kind) }, 'ACME state from the primary');
      if (bad.length > 0) log.error({ domains: bad }, 'unusable certificate from the primary');
      if (m.id > 0) send({ t: 'acme-ack', id: m.id });
      return;
    }
    queue = queue.then(() => onMessage(m)).catch(die);
  });
  send({ t: 'hello' });
  return Promise.resolve();
}

function report(slot: number, daemon: Daemon, mirror: DecisionMirror): WorkerReport {
  return {
    worker: slot,
    pid: process.pid,
    synced: mirror.synced,
    decisions: mirror.size,
    open_connections: daemon.open.size,
    not_ready_reasons: daemon.notReadyReasons(),
    listeners: daemon.listenerStatus(),
    certificates: daemon.certificates(),
    routes: daemon.routesStatus(),
  };
}
