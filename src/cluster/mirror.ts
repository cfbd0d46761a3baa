// A worker's copy of the decision set (--workers > 1): built from the batches the primary's one
// bouncer relays, with the bouncer's store handling: a full pull is built aside and swapped in whole
// when it ends well; a delta is applied in place. Not synced until a full pull has ended well, so
// enforce services deny with crowdsec_unavailable until then (fail-closed per worker).
import { DecisionStore, type RemediationFallback } from '../crowdsec/core/store';
import type { DecisionChange } from '../crowdsec/stream/decision-change';
import { ChangeCollector } from '../crowdsec/stream/decision-change';
import type { BouncerStatus } from '../crowdsec/stream/bouncer';
import type { ActiveDecision } from '../crowdsec/core/types';
import type { CrowdSecRunner } from '../daemon/daemon';
import { decodeBatch, type EncodedBatch } from './messages';

export class DecisionMirror {
  private live: DecisionStore;
  private target: DecisionStore | undefined;
  private full = false;
  private added = 0;
  private change = new ChangeCollector(true);
  private _synced = false;
  private _skipped = 0;

  constructor(
    private readonly fallback: RemediationFallback,
    private readonly countryScope = false,
  ) {
    this.live = new DecisionStore({ fallback, countryScope });
  }

  get synced(): boolean {
    return this._synced;
  }

  get size(): number {
    return this.live.size;
  }

  get skipped(): number {
    return this._skipped;
  }

  get store(): DecisionStore {
    return this.live;
  }

  lookup(ip: string, nowMs: number): ActiveDecision | undefined {
    return this.live.lookup(ip, nowMs);
  }

  get countryDecisionCount(): number {
    return this.live.countryDecisionCount;
  }

  lookupCountry(country: string, nowMs: number): ActiveDecision | undefined {
    return this.live.lookupCountry(country, nowMs);
  }

  begin(full: boolean): void {
    this.full = full;
    this.target = full ? new DecisionStore({ fallback: this.fallback, countryScope: this.countryScope }) : this.live;
    this.added = 0;
    this.change = new ChangeCollector(full);
  }

  apply(b: EncodedBatch): void {
    const target = this.target;
    if (target === undefined) return;
    const decisions = decodeBatch(b);
    if (b.kind === 'del') {
      this._skipped += target.applyDeleted(decisions, b.at).skipped;
      return;
    }
    const r = target.applyNew(decisions, b.at);
    this._skipped += r.skipped;
    this.added += r.added;
    this.change.collect(decisions);
  }

  /** What may now deny an open connection; undefined when nothing was added. */
  end(ok: boolean, nowMs: number): DecisionChange | undefined {
    const target = this.target;
    this.target = undefined;
    if (target === undefined) return undefined;
    if (this.full) {
      if (!ok) return undefined;
      this.live = target;
      this._synced = true;
    }
    this.live.sweep(nowMs);
    return this.added > 0 ? this.change.result() : undefined;
  }

  clear(): void {
    this.live.clear();
    this._synced = false;
  }

  status(): BouncerStatus {
    const stats = this.live.stats(Date.now());
    return {
      state: this._synced ? 'synced' : 'connecting',
      decisions: { total: stats.total, by_type: stats.byType, by_origin: stats.byOrigin, by_family: stats.byFamily, countries: stats.countries },
      last_successful_pull: null,
      seconds_since_last_pull: null,
      last_error: null,
      initial_sync_ms: null,
      pulls_ok: 0,
      pulls_failed: 0,
      skipped_decisions: this._skipped,
    };
  }
}

/** The worker's CrowdSecRunner: exposes the mirror while a service uses CrowdSec, drops it when none does. */
export class MirrorRunner implements CrowdSecRunner {
  private exposed = false;

  constructor(
    readonly mirror: DecisionMirror,
    private readonly configured: boolean,
  ) {}

  get current(): CrowdSecRunner['current'] {
    return this.exposed ? this.mirror : undefined;
  }

  update(users: number): Promise<void> {
    const next = users > 0 && this.configured;
    if (!next && this.exposed) this.mirror.clear();
    this.exposed = next;
    return Promise.resolve();
  }
}
