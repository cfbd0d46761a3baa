// The CrowdSec stream bouncer: one puller per process keeps the decision store in sync with the LAPI.
// (~370 lines: one state machine — connecting, synced, degraded — whose pull, success and failure
// paths share its counters and backoffs; the transport is in lapi-client.ts and pull-attempt.ts.)
import type { Logger } from 'pino';
import type { CrowdSecSettings } from './settings';
import { Backoff } from './backoff';
import { LapiClient, type DecisionSink, type LapiTimeouts } from './lapi-client';
import { ChangeCollector, type DecisionChange } from './decision-change';
import { LapiError, type LapiErrorKind } from './lapi-errors';
import { DecisionStore } from '../core/store';
import type { ActiveDecisionRow } from '../core/stats';
import type {
  ActiveDecision,
  ApplyResult,
  BouncerState,
  BouncerStats,
  CountryDecisionLookup,
  DecisionBreakdownRow,
  DecisionLookup,
  DecisionStoreStats,
  LapiDecision,
} from '../core/types';

/** Where pulls are written: the DecisionStore, or with --workers > 1 the primary's relay to the workers (src/cluster/relay.ts). */
export interface BouncerStore extends DecisionLookup, CountryDecisionLookup {
  readonly size: number;
  applyDeleted(batch: readonly LapiDecision[], nowMs: number): ApplyResult;
  applyNew(batch: readonly LapiDecision[], nowMs: number): ApplyResult;
  sweep(nowMs: number): number;
  stats(nowMs?: number): DecisionStoreStats;
  breakdown(nowMs?: number): DecisionBreakdownRow[];
  clear(): void;
  /** Active decisions by origin for usage metrics; the primary's relay holds none. */
  activeByOrigin(nowMs: number): ActiveDecisionRow[];
}

/** Told where each pull starts and how it ends (the relay mirrors the bouncer's store handling in the workers). */
export interface PullObserver {
  /** `full`: a startup=true pull, written into the store freshStore() gave (or the initial one). */
  begin(full: boolean): void;
  end(ok: boolean): void;
  /** A promise while the batches cannot be passed on as fast as they come: the body is read no further until it settles. */
  backpressure?(): Promise<void> | undefined;
}

export interface RetryOptions {
  /** Ceiling of the first retry of the initial pull. Default min(1 s, poll interval). */
  connectingInitialMs?: number;
  /** Cap of retries before the first sync. Default 5 s: fail-closed services are down until then. */
  connectingMaxMs?: number;
  /** Ceiling of the first retry after a failed pull once synced. Default: the poll interval. */
  degradedInitialMs?: number;
  /** Cap of retries once synced. Default max(60 s, poll interval). */
  degradedMaxMs?: number;
  /** Uniform [0, 1) for the jitter; injectable for tests. */
  random?: () => number;
}

export interface StreamBouncerOptions {
  settings: CrowdSecSettings;
  log: Logger;
  store?: BouncerStore;
  /** The empty store a full resync is built into; default a DecisionStore with the same fallback. */
  freshStore?: () => BouncerStore;
  pulls?: PullObserver;
  now?: () => number;
  /** Request timeouts; defaults derive from the poll interval (see defaultTimeouts). */
  timeouts?: Partial<LapiTimeouts>;
  retry?: RetryOptions;
  /** Called after each successful pull that added decisions: what may now deny an open connection. */
  onChange?: (change: DecisionChange) => void;
}

export interface BouncerStatus {
  state: BouncerState;
  decisions: {
    total: number;
    by_type: Record<string, number>;
    by_origin: Record<string, number>;
    by_family: Record<string, number>;
    /** Country-scope entries (in total, by_type and by_origin; not in by_family). */
    countries: number;
  };
  last_successful_pull: string | null;
  seconds_since_last_pull: number | null;
  last_error: string | null;
  initial_sync_ms: number | null;
  pulls_ok: number;
  pulls_failed: number;
  skipped_decisions: number;
}

/** While failing, a failure is logged when it is the first, when its kind changes, and every Nth after. */
export const LOG_EVERY_NTH_FAILURE = 10;

export class StreamBouncer implements DecisionLookup, CountryDecisionLookup, BouncerStats {
  private _store: BouncerStore;
  private readonly freshStore: () => BouncerStore;
  private readonly pulls: PullObserver | undefined;
  readonly url: string;
  private readonly settings: CrowdSecSettings;
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly client: LapiClient;
  private readonly connectingBackoff: Backoff;
  private readonly degradedBackoff: Backoff;
  private readonly onChange: ((change: DecisionChange) => void) | undefined;

  private _state: BouncerState = 'stopped';
  private _synced = false;
  /** The next pull must be startup=true although synced: a failed pull may have moved the LAPI's delta cursor. */
  private resyncNext = false;
  /** Bumped by stop(): a pull that finishes after it belongs to an old run and is discarded. */
  private generation = 0;
  private timer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private inflight: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;
  private startedAt = 0;

  private _pullsOk = 0;
  private _pullsFailed = 0;
  private _skipped = 0;
  private _lastSuccessAt: number | undefined;
  private _initialSyncMs: number | undefined;
  private _lastError: string | null = null;
  private lastErrorKind: LapiErrorKind | undefined;
  private consecutiveFailures = 0;
  private failingSince: number | undefined;

  constructor(opts: StreamBouncerOptions) {
    this.settings = opts.settings;
    this.log = opts.log;
    const storeOptions = { fallback: opts.settings.remediationFallback, countryScope: opts.settings.filters?.scopes.includes('country') };
    this._store = opts.store ?? new DecisionStore(storeOptions);
    this.freshStore = opts.freshStore ?? (() => new DecisionStore(storeOptions));
    this.pulls = opts.pulls;
    this.now = opts.now ?? Date.now;
    this.onChange = opts.onChange;
    this.client = new LapiClient({ settings: opts.settings, timeouts: opts.timeouts });
    this.url = this.client.url;
    const poll = opts.settings.pollIntervalMs;
    const r = opts.retry ?? {};
    const connectingInitialMs = r.connectingInitialMs ?? Math.min(1000, poll);
    this.connectingBackoff = new Backoff({
      initialMs: connectingInitialMs,
      maxMs: r.connectingMaxMs ?? Math.max(5000, connectingInitialMs),
      random: r.random,
    });
    const degradedInitialMs = r.degradedInitialMs ?? poll;
    this.degradedBackoff = new Backoff({
      initialMs: degradedInitialMs,
      maxMs: r.degradedMaxMs ?? Math.max(60_000, degradedInitialMs),
      random: r.random,
    });
  }

  /** The decision cache lookups answer from; replaced whole by a full resync. */
  get store(): BouncerStore {
    return this._store;
  }

  /** The next pull is a full one (startup=true): e.g. the relay's replay log has grown past the set it holds. */
  requestResync(): void {
    if (this._synced) this.resyncNext = true;
  }

  /** True once the initial (startup=true) pull has been applied; stays true through later outages. */
  get pollIntervalMs(): number {
    return this.settings.pollIntervalMs;
  }

  get synced(): boolean {
    return this._synced;
  }

  get state(): BouncerState {
    return this._state;
  }

  get pullsOk(): number {
    return this._pullsOk;
  }

  get pullsFailed(): number {
    return this._pullsFailed;
  }

  /** Epoch ms of the last successful pull. */
  get lastSuccessAt(): number | undefined {
    return this._lastSuccessAt;
  }

  /** From start() to the initial decisions being applied, retries included. */
  get initialSyncMs(): number | undefined {
    return this._initialSyncMs;
  }

  /** Decisions the store refused (unknown scope, bad value...), summed over all pulls. */
  get skippedDecisions(): number {
    return this._skipped;
  }

  get lastError(): string | null {
    return this._lastError;
  }

  breakdown(): DecisionBreakdownRow[] {
    return this.store.breakdown();
  }

  /** Answers from the in-memory store; never does I/O. */
  lookup(ip: string, nowMs: number): ActiveDecision | undefined {
    return this.store.lookup(ip, nowMs);
  }

  get countryDecisionCount(): number {
    return this.store.countryDecisionCount;
  }

  lookupCountry(country: string, nowMs: number): ActiveDecision | undefined {
    return this.store.lookupCountry(country, nowMs);
  }

  start(): void {
    if (this._state !== 'stopped' || this.stopping) return;
    this.generation++;
    this.startedAt = this.now();
    this._state = this._synced ? 'synced' : 'connecting';
    // A restarted bouncer pulls the full list again: its delta cursor on the LAPI may be stale.
    if (this._synced) this.resyncNext = true;
    this.connectingBackoff.reset();
    this.degradedBackoff.reset();
    this.consecutiveFailures = 0;
    this.failingSince = undefined;
    this.log.info({ url: this.url, poll_interval_ms: this.settings.pollIntervalMs }, `connecting to CrowdSec LAPI at ${this.url}`);
    this.schedule(0);
    this.log.info('CrowdSec bouncer started');
  }

  stop(): Promise<void> {
    if (this.stopping) return this.stopping;
    if (this._state === 'stopped') return Promise.resolve();
    this.stopping = (async () => {
      this.generation++;
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.abort?.abort();
      try {
        await this.inflight;
      } finally {
        this.client.close();
        this._state = 'stopped';
        this.stopping = undefined;
        this.log.info('CrowdSec bouncer stopped');
      }
    })();
    return this.stopping;
  }

  status(): BouncerStatus {
    const now = this.now();
    const stats = this.store.stats(now);
    return {
      state: this._state,
      decisions: {
        total: stats.total,
        by_type: { ...stats.byType },
        by_origin: { ...stats.byOrigin },
        by_family: { ...stats.byFamily },
        countries: stats.countries,
      },
      last_successful_pull: this._lastSuccessAt === undefined ? null : new Date(this._lastSuccessAt).toISOString(),
      seconds_since_last_pull: this._lastSuccessAt === undefined ? null : Math.max(0, Math.round(now - this._lastSuccessAt) / 1000),
      last_error: this._lastError,
      initial_sync_ms: this._initialSyncMs ?? null,
      pulls_ok: this._pullsOk,
      pulls_failed: this._pullsFailed,
      skipped_decisions: this._skipped,
    };
  }

  private schedule(delayMs: number): void {
    const gen = this.generation;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (gen !== this.generation) return;
      this.inflight = this.pull(gen).finally(() => {
        this.inflight = undefined;
      });
    }, delayMs);
    this.timer.unref();
  }

  private async pull(gen: number): Promise<void> {
    const startup = !this._synced || this.resyncNext;
    const abort = new AbortController();
    this.abort = abort;
    let delay: number;
    try {
      // Decisions are applied batch by batch while the body streams in (deletions before new ones), so
      // neither the whole body nor all its decisions as objects are ever held at once. `synced` only turns
      // true in onSuccess(), once the whole response is in: lookups meanwhile see a partial store, but the
      // bouncer still reports not synced. A pull that fails halfway leaves its applied batches in place.
      // A full resync once synced is built into a fresh store while the old one keeps answering, then
      // swapped in whole: decisions the snapshot no longer holds are gone, and a ban present in both
      // is never missing. A resync that fails is discarded.
      const store = startup && this._synced ? this.freshStore() : this._store;
      this.pulls?.begin(startup);
      const applied: ApplyResult = { added: 0, deleted: 0, skipped: 0, expired: 0 };
      const add = (r: ApplyResult): void => {
        applied.added += r.added;
        applied.deleted += r.deleted;
        applied.skipped += r.skipped;
        applied.expired = (applied.expired ?? 0) + (r.expired ?? 0);
      };
      const change = new ChangeCollector(startup);
      const sink: DecisionSink = {
        onDeleted: (batch) => {
          if (gen === this.generation) add(store.applyDeleted(batch, this.now()));
        },
        onNew: (batch) => {
          if (gen !== this.generation) return;
          add(store.applyNew(batch, this.now()));
          change.collect(batch);
        },
        backpressure: () => this.pulls?.backpressure?.(),
      };
      const result = await this.client.pull(startup, abort.signal, sink);
      if (gen !== this.generation) return this.pulls?.end(false);
      this._store = store;
      this.pulls?.end(true);
      this.onSuccess(startup, result.durationMs, result.bytes, applied, result.received.new, result.received.deleted);
      if (applied.added > 0 && this.onChange !== undefined) this.onChange(change.result());
      delay = this.settings.pollIntervalMs;
    } catch (err) {
      this.pulls?.end(false);
      if (gen !== this.generation) return;
      delay = this.onFailure(err, startup);
    } finally {
      if (this.abort === abort) this.abort = undefined;
    }
    this.store.sweep(this.now());
    this.schedule(delay);
  }

  private onSuccess(startup: boolean, durationMs: number, bytes: number, applied: ApplyResult, received: number, receivedDeleted: number): void {
    const now = this.now();
    const wasFailing = this.consecutiveFailures;
    const outageMs = this.failingSince === undefined ? 0 : now - this.failingSince;
    this._pullsOk++;
    this._lastSuccessAt = now;
    this._skipped += applied.skipped;
    this._lastError = null;
    this.lastErrorKind = undefined;
    this.consecutiveFailures = 0;
    this.failingSince = undefined;
    this.connectingBackoff.reset();
    this.degradedBackoff.reset();
    const wasResync = startup && this._synced;
    this.resyncNext = false;
    this._state = 'synced';

    if (wasFailing > 0) {
      this.log.info({ failed_pulls: wasFailing, outage_ms: outageMs }, 'CrowdSec LAPI reachable again');
    }
    const fields = {
      received_new: received,
      received_deleted: receivedDeleted,
      added: applied.added,
      deleted: applied.deleted,
      skipped: applied.skipped,
      expired: applied.expired ?? 0,
      bytes,
      pull_ms: durationMs,
    };
    if (!this._synced) {
      this._synced = true;
      this._initialSyncMs = now - this.startedAt;
      this.log.info({ decisions: this.store.size, duration_ms: this._initialSyncMs, ...fields }, 'CrowdSec bouncer synced initial decisions');
    } else if (wasResync) {
      this.log.info({ decisions: this.store.size, ...fields }, 'CrowdSec bouncer resynced all decisions');
    } else {
      this.log.debug({ decisions: this.store.size, ...fields }, 'CrowdSec decision stream pulled');
    }
    if (applied.skipped > 0) {
      this.log.warn({ skipped: applied.skipped }, 'CrowdSec bouncer skipped decisions it cannot apply (scope or value not understood)');
    }
  }

  /** Returns the delay before the next attempt. */
  private onFailure(err: unknown, startup: boolean): number {
    const e =
      err instanceof LapiError
        ? err
        : new LapiError('malformed', `CrowdSec decisions could not be applied: ${(err as Error).message}`, { maybeProcessed: true });
    const now = this.now();
    this._pullsFailed++;
    this.consecutiveFailures++;
    if (this.failingSince === undefined) this.failingSince = now;
    const kindChanged = e.kind !== this.lastErrorKind;
    this._lastError = e.message;
    this.lastErrorKind = e.kind;
    // The LAPI may have answered and moved our cursor although we never got the answer intact.
    if (this._synced && (e.maybeProcessed || startup)) this.resyncNext = true;

    const wasState = this._state;
    if (this._synced) this._state = 'degraded';
    const delay = this._synced ? this.degradedBackoff.next() : this.connectingBackoff.next();

    const first = this.consecutiveFailures === 1;
    const fields = {
      kind: e.kind,
      ...(e.status !== undefined && { status: e.status }),
      ...(e.code !== undefined && { code: e.code }),
      consecutive_failures: this.consecutiveFailures,
      retry_in_ms: delay,
      state: this._state,
    };
    if (first || kindChanged || wasState !== this._state || this.consecutiveFailures % LOG_EVERY_NTH_FAILURE === 0) {
      const what = this._synced
        ? `CrowdSec LAPI pull failed, serving ${this.store.size} cached decisions`
        : 'CrowdSec LAPI initial pull failed, no decisions yet, retrying';
      const level = e.kind === 'auth' || e.kind === 'config' ? 'error' : 'warn';
      this.log[level](fields, `${what}: ${e.message}`);
    } else {
      this.log.debug(fields, `CrowdSec LAPI pull failed: ${e.message}`);
    }
    return delay;
  }
}
