// Prometheus metrics. The per-request and per-connection outcome counters are plain numbers per
// service, handed to prom-client only at scrape time (collect): a labelled child's inc() rebuilds
// its label hash on every call, which cost ~0.65 µs and 340 bytes per request.
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { DropReason } from '../client-ip/accept';
import type { BouncerStats } from '../crowdsec/core/types';
import type { UpstreamErrorKind } from '../forward/errors';

export type Outcome = 'allowed' | 'denied' | 'not_found' | 'bad_request';
/** Where a per-request or per-connection handler threw (its request ended, the process went on). */
export type HandlerPlace = 'http' | 'https' | 'upgrade' | 'connect' | 'forward' | 'tcp' | 'admin';

export class Metrics {
  readonly registry = new Registry();
  private readonly requests = new OutcomeTally();
  private readonly connections = new OutcomeTally();
  private readonly upstreamErrors: Counter<'service' | 'kind'>;
  private readonly dropped: Counter<'listener' | 'reason'>;
  private readonly terminated: Counter<'service' | 'deny_reason'>;
  private readonly accessLogWriteErrors: Counter;
  private readonly requestErrors: Counter<'where'>;

  /** `bouncer` gives the running CrowdSec bouncer's stats, undefined when none runs; `now` is for tests. */
  constructor(bouncer: () => BouncerStats | undefined, now: () => number = Date.now) {
    collectDefaultMetrics({ register: this.registry, prefix: 'netbird_proxy_' });
    const requests = this.requests;
    new Counter({
      name: 'netbird_proxy_http_requests_total',
      help: 'HTTP requests by service, outcome (allowed, denied, not_found, bad_request) and deny_reason',
      labelNames: ['service', 'outcome', 'deny_reason'],
      registers: [this.registry],
      collect() {
        requests.exportTo(this);
      },
    });
    const connections = this.connections;
    new Counter({
      name: 'netbird_proxy_tcp_connections_total',
      help: 'TCP connections by service, outcome (allowed, denied) and deny_reason',
      labelNames: ['service', 'outcome', 'deny_reason'],
      registers: [this.registry],
      collect() {
        connections.exportTo(this);
      },
    });
    this.upstreamErrors = new Counter({
      name: 'netbird_proxy_upstream_errors_total',
      help: 'Upstream failures by service and kind (refused, timeout, reset, unreachable, tls, aborted, other)',
      labelNames: ['service', 'kind'],
      registers: [this.registry],
    });
    this.dropped = new Counter({
      name: 'netbird_proxy_connections_dropped_total',
      help: 'Connections closed before they could be judged, by listener (http, https, tcp) and reason (unknown_peer: the address could not be read; proxy_header: a missing or invalid PROXY header; tls_handshake: the TLS handshake failed)',
      labelNames: ['listener', 'reason'],
      registers: [this.registry],
    });
    this.accessLogWriteErrors = new Counter({
      name: 'netbird_proxy_access_log_write_errors_total',
      help: 'Failed writes (batches of access lines) to the --access-log file; the lines are dropped, the proxy keeps serving',
      registers: [this.registry],
    });
    this.requestErrors = new Counter({
      name: 'netbird_proxy_request_errors_total',
      help: 'Exceptions in a per-request or per-connection handler, by where (http, https, upgrade, connect, forward, tcp, admin): the request or connection was ended, the process went on',
      labelNames: ['where'],
      registers: [this.registry],
    });
    this.terminated = new Counter({
      name: 'netbird_proxy_connections_terminated_total',
      help: 'Open TCP and WebSocket connections closed because a rule change (decisions, reload) now denies them, by service and deny_reason',
      labelNames: ['service', 'deny_reason'],
      registers: [this.registry],
    });
    new Gauge({
      name: 'netbird_proxy_crowdsec_decisions',
      help: 'CrowdSec decisions held in the cache, by type, origin and IP family',
      labelNames: ['type', 'origin', 'family'],
      registers: [this.registry],
      collect() {
        this.reset();
        const b = bouncer();
        if (b === undefined) return;
        for (const row of b.breakdown()) this.set({ type: row.type, origin: row.origin, family: `ipv${row.family}` }, row.count);
      },
    });
    new Counter({
      name: 'netbird_proxy_crowdsec_pulls_total',
      help: 'Pulls of /v1/decisions/stream by result (success, failure) since the bouncer started',
      labelNames: ['result'],
      registers: [this.registry],
      collect() {
        this.reset();
        const b = bouncer();
        this.inc({ result: 'success' }, b?.pullsOk ?? 0);
        this.inc({ result: 'failure' }, b?.pullsFailed ?? 0);
      },
    });
    new Gauge({
      name: 'netbird_proxy_crowdsec_seconds_since_last_pull',
      help: 'Seconds since the last successful decision pull (absent before the first one)',
      registers: [this.registry],
      collect() {
        const at = bouncer()?.lastSuccessAt;
        if (at !== undefined) this.set((now() - at) / 1000);
        else this.remove({}); // reset() would leave an unlabelled gauge at 0, which reads as "just pulled"
      },
    });
    new Gauge({
      name: 'netbird_proxy_crowdsec_synced',
      help: '1 once the bouncer has applied its initial decision sync; 0 before, and while no service uses CrowdSec',
      registers: [this.registry],
      collect() {
        this.reset();
        const b = bouncer();
        if (b !== undefined) this.set(b.synced ? 1 : 0);
      },
    });
    new Gauge({
      name: 'netbird_proxy_crowdsec_poll_interval_seconds',
      help: 'Configured interval between decision pulls; 0 while no service uses CrowdSec',
      registers: [this.registry],
      collect() {
        this.reset();
        const b = bouncer();
        if (b !== undefined) this.set(b.pollIntervalMs / 1000);
      },
    });
    new Gauge({
      name: 'netbird_proxy_crowdsec_initial_sync_seconds',
      help: 'Duration of the initial decision sync (startup=true pull applied; absent until then)',
      registers: [this.registry],
      collect() {
        const ms = bouncer()?.initialSyncMs;
        if (ms !== undefined) this.set(ms / 1000);
        else this.remove({});
      },
    });
  }

  httpRequest(service: string, outcome: Outcome, denyReason: string): void {
    this.requests.of(service).count(outcome, denyReason);
  }

  tcpConnection(service: string, outcome: Outcome, denyReason: string): void {
    this.connections.of(service).count(outcome, denyReason);
  }

  connectionDropped(listener: 'http' | 'https' | 'tcp', reason: DropReason): void {
    this.dropped.inc({ listener, reason });
  }

  connectionTerminated(service: string, denyReason: string): void {
    this.terminated.inc({ service, deny_reason: denyReason });
  }

  /** An exception escaped a request or connection handler and was caught by its boundary. */
  requestError(where: HandlerPlace): void {
    this.requestErrors.inc({ where });
  }

  accessLogWriteError(): void {
    this.accessLogWriteErrors.inc();
  }

  upstreamError(service: string, kind: UpstreamErrorKind): void {
    this.upstreamErrors.inc({ service, kind });
  }
}

type OutcomeCounter = Counter<'service' | 'outcome' | 'deny_reason'>;

/** Outcome counts by service; a series exists once it was counted. */
class OutcomeTally {
  private readonly services = new Map<string, ServiceTally>();

  of(service: string): ServiceTally {
    let tally = this.services.get(service);
    if (tally === undefined) {
      tally = new ServiceTally();
      this.services.set(service, tally);
    }
    return tally;
  }

  /** At scrape time: the counter's series are rebuilt from the counts. */
  exportTo(counter: OutcomeCounter): void {
    counter.reset();
    for (const [service, tally] of this.services) {
      for (const [outcome, n] of tally.undenied) counter.inc({ service, outcome, deny_reason: '' }, n);
      for (const [reason, n] of tally.denied) counter.inc({ service, outcome: 'denied', deny_reason: reason }, n);
    }
  }
}

class ServiceTally {
  readonly undenied = new Map<Outcome, number>();
  readonly denied = new Map<string, number>();

  count(outcome: Outcome, denyReason: string): void {
    if (outcome === 'denied') this.denied.set(denyReason, (this.denied.get(denyReason) ?? 0) + 1);
    else this.undenied.set(outcome, (this.undenied.get(outcome) ?? 0) + 1);
  }
}
