// In-memory CrowdSec decision cache: apply stream responses, answer "which decision applies to
// this client IP". Pure and synchronous; the caller passes the clock.
// (~440 lines: every method reads or writes the same entry layout, bucket payload plus overflow
// chain, described below; the interner, overflow records, Hit and counts live in their own files.)
//
// Layout (built for ~1M decisions in well under 300 MB, lookups without allocation but the result):
//   - values (exact addresses and ranges) live in a PrefixIndex: one open-addressing hash table per
//     (family, prefix length), in Int32Arrays;
//   - an entry is a (value, type) pair. The first entry of a value is stored inside its hash
//     bucket (type, expiry as float64, origin, scenario: 24 bytes next to the key), so the common
//     one-type-per-value case costs one 32-byte (IPv4) or 40-byte (IPv6 /128) bucket at load ≤ 3/4,
//     no JS object, and a hit reads a single cache line;
//   - further types on the same value go to 32-byte overflow records (overflow.ts) chained from the
//     bucket's head word (0 = none, else slot + 1); freed records are recycled;
//   - strings (types, origins, scenarios) are interned with reference counts (interner.ts).
// A lookup parses the address without allocating, probes the tables of the present prefix
// lengths longest first (summary filters skip most), stops at the first value with an unexpired
// entry, and allocates only the result object (a Hit, hit.ts; its `value` text is formatted on demand).

import { formatPrefixKey, ipv4ToUint32, isV4Mapped, mappedV4, parseIpv6Into, type PrefixKey } from '../../net/ip';
import { NONE, type BucketTable } from '../../net/bucket-table';
import { PrefixIndex } from '../../net/prefix-index';
import { Hit } from './hit';
import { Interner } from './interner';
import { CountryDecisions } from './countries';
import { isCountryScope, normalizeCountryDecision, normalizeDecision, parseCountryTarget, parseDecisionTarget, type NormalizedDecision } from './normalize';
import { NIL, OverflowRecords } from './overflow';
import { activeDecisionRows, breakdownEntries, countEntries, type ActiveDecisionRow, type EntryFn } from './stats';
import { typeRank } from './precedence';
import type { ActiveDecision, ApplyResult, DecisionBreakdownRow, DecisionLookup, DecisionStoreStats, LapiDecision, StreamResponse } from './types';

/** `found` value for "the entry inside the bucket". */
const INLINE = -2;

// Bucket payload (PrefixIndex extra = 5): [head, type, exp lo, exp hi, origin, scenario, key...].
const EXTRA = 5;
const B_TYPE = 1;
const B_EXP = 2; // float64 at int offset 2 (buckets have an even stride and even offsets)
const B_ORIGIN = 4;
const B_SCENARIO = 5;

const scratch6 = new Uint16Array(8);

/** What to do with decision types other than ban, captcha and throttle (spec: remediation_fallback). */
export type RemediationFallback = 'ban' | 'ignore';

export class DecisionStore implements DecisionLookup {
  /** "ban": kept under their own type (every type denies); "ignore": not stored, counted as skipped. */
  readonly fallback: RemediationFallback;
  /** Whether Country-scope decisions are kept (--crowdsec-scopes has "country"); else skipped like other scopes. */
  readonly countryScope: boolean;
  /** Country-scope entries, apart from the address index. */
  private readonly countries = new CountryDecisions();

  constructor(opts: { fallback?: RemediationFallback; countryScope?: boolean } = {}) {
    this.fallback = opts.fallback ?? 'ban';
    this.countryScope = opts.countryScope ?? false;
  }

  private readonly index = new PrefixIndex(EXTRA);

  private readonly overflow = new OverflowRecords();

  private count = 0;
  private types = new Interner();
  private origins = new Interner();
  private scenarios = new Interner();
  /** typeRank() per type id; custom types tie at 3 and are then ordered by name. */
  private ranks: number[] = [];
  private readonly onNewType = (id: number, s: string): void => {
    this.ranks[id] = typeRank(s);
  };

  private _skippedTotal = 0;

  // Lookup state shared with the pre-bound match filter (lookups are synchronous).
  private now = 0;
  private found = NIL;
  private readonly accept = (t: BucketTable, off: number): boolean => {
    const buf = t.buf;
    const head = buf[off];
    const now = this.now;
    if (head === 0) {
      // the common single-type case
      if (t.f64[(off + B_EXP) >> 1] > now) {
        this.found = INLINE;
        return true;
      }
      return false;
    }
    let best = NIL;
    let bestType = 0;
    if (t.f64[(off + B_EXP) >> 1] > now) {
      best = INLINE;
      bestType = buf[off + B_TYPE];
    }
    const ov = this.overflow;
    for (let r = head - 1; r !== NIL; r = ov.next(r)) {
      if (ov.expiresAt(r) > now) {
        const ty = ov.type(r);
        if (best === NIL || this.outranks(ty, bestType)) {
          best = r;
          bestType = ty;
        }
      }
    }
    this.found = best;
    return best !== NIL;
  };

  /** Number of (value, type) entries held, country ones included, expired-but-not-swept included. */
  get size(): number {
    return this.count + this.countries.size;
  }

  /** Country-scope (country, type) entries held; 0 lets a lookup skip the client's country. */
  get countryDecisionCount(): number {
    return this.countries.size;
  }

  /** Number of distinct values (addresses and ranges). */
  get valueCount(): number {
    return this.index.size;
  }

  /** Decisions skipped as unusable since creation (or the last clear()). */
  get skippedTotal(): number {
    return this._skippedTotal;
  }

  /** Bytes held by the index and overflow records (interned strings excluded). */
  get bytes(): number {
    return this.index.bytes + this.overflow.bytes;
  }

  /** Applies one /v1/decisions/stream body: deletions first, then new decisions. */
  apply(resp: StreamResponse, nowMs: number): ApplyResult {
    const del = resp?.deleted;
    const add = resp?.new;
    const a = this.applyDeleted(Array.isArray(del) ? del : [], nowMs);
    const b = this.applyNew(Array.isArray(add) ? add : [], nowMs);
    return { added: b.added, deleted: a.deleted, skipped: a.skipped + b.skipped, expired: b.expired };
  }

  /**
   * Applies a batch of a stream response's "deleted" list (for a response applied as it is parsed:
   * all its deleted batches must come before its new ones). Unusable elements are skipped and counted.
   */
  applyDeleted(batch: readonly LapiDecision[], _nowMs: number): ApplyResult {
    let deleted = 0;
    let skipped = 0;
    for (let i = 0; i < batch.length; i++) {
      const d = batch[i] as LapiDecision | null;
      if (d === null || typeof d !== 'object') {
        skipped++;
        continue;
      }
      if (isCountryScope(d.scope)) {
        const c = this.countryScope ? parseCountryTarget(d) : 'scope';
        if (typeof c === 'string') skipped++;
        else if (this.countries.remove(c.country, c.type)) deleted++;
        continue;
      }
      const t = parseDecisionTarget(d);
      if (typeof t === 'string') {
        skipped++;
        continue;
      }
      if (this.remove(t.prefix, t.type)) deleted++;
    }
    this._skippedTotal += skipped;
    return { added: 0, deleted, skipped, expired: 0 };
  }

  /** Applies a batch of a stream response's "new" list (see applyDeleted()). */
  applyNew(batch: readonly LapiDecision[], nowMs: number): ApplyResult {
    let added = 0;
    let skipped = 0;
    let expired = 0;
    for (let i = 0; i < batch.length; i++) {
      const d = batch[i] as LapiDecision | null;
      if (d === null || typeof d !== 'object') {
        skipped++;
        continue;
      }
      if (isCountryScope(d.scope)) {
        const c = this.countryScope ? normalizeCountryDecision(d, nowMs) : 'scope';
        if (c === 'expired') expired++;
        else if (typeof c === 'string' || (this.fallback === 'ignore' && typeRank(c.type) === 3)) skipped++;
        else {
          this.countries.upsert(c.country, c);
          added++;
        }
        continue;
      }
      const n = normalizeDecision(d, nowMs);
      if (typeof n === 'string') {
        if (n === 'expired') expired++;
        else skipped++;
        continue;
      }
      if (this.fallback === 'ignore' && typeRank(n.type) === 3) {
        skipped++;
        continue;
      }
      this.upsert(n);
      added++;
    }
    this._skippedTotal += skipped;
    return { added, deleted: 0, skipped, expired };
  }

  /**
   * The decision applying to `ip` at `nowMs`: the most specific value (exact address, then the
   * longest range) holding at least one unexpired entry, and of its unexpired types the one with
   * the highest precedence (ban > captcha > throttle > others by name). `ip` should be normalised
   * already; "::ffff:a.b.c.d" is accepted too. Undefined for no decision or an invalid address.
   */
  lookup(ip: string, nowMs: number): ActiveDecision | undefined {
    if (this.count === 0) return undefined;
    this.now = nowMs;
    let off: number;
    let plainV4 = false;
    const a = ipv4ToUint32(ip);
    if (a >= 0) {
      plainV4 = true;
      off = this.index.matchV4(a, this.accept);
    } else if (parseIpv6Into(ip, scratch6)) {
      off = isV4Mapped(scratch6) ? this.index.matchV4(mappedV4(scratch6), this.accept) : this.index.matchV6(scratch6, this.accept);
    } else {
      return undefined;
    }
    if (off === NONE) return undefined;
    const t = this.index.matched as BucketTable;
    const buf = t.buf;
    const k = off + t.keyOff;
    const tag = t.tag;
    const words = t.words;
    const text = plainV4 && tag >>> 8 === 32 ? ip : undefined;
    const k0 = buf[k];
    const k1 = words > 1 ? buf[k + 1] : 0;
    const k2 = words > 2 ? buf[k + 2] : 0;
    const k3 = words > 3 ? buf[k + 3] : 0;
    const r = this.found;
    if (r === INLINE) {
      return new Hit(
        this.types.strs[buf[off + B_TYPE]],
        this.origins.strs[buf[off + B_ORIGIN]],
        this.scenarios.strs[buf[off + B_SCENARIO]],
        t.f64[(off + B_EXP) >> 1],
        text,
        tag,
        k0,
        k1,
        k2,
        k3,
      );
    }
    const ov = this.overflow;
    return new Hit(
      this.types.strs[ov.type(r)],
      this.origins.strs[ov.origin(r)],
      this.scenarios.strs[ov.scenario(r)],
      ov.expiresAt(r),
      text,
      tag,
      k0,
      k1,
      k2,
      k3,
    );
  }

  /**
   * The Country-scope decision applying to a client the country database places in `country`
   * (upper-case ISO code) at `nowMs`: of its unexpired types the one with the highest precedence.
   */
  lookupCountry(country: string, nowMs: number): ActiveDecision | undefined {
    return this.countries.size === 0 ? undefined : this.countries.lookup(country, nowMs);
  }

  /** Removes every entry expired at `nowMs`; returns how many. */
  sweep(nowMs: number): number {
    let removed = this.countries.sweep(nowMs);
    const countryRemoved = removed;
    const doomed: { family: 4 | 6; prefix: number; key: Int32Array }[] = [];
    this.index.forEachTable((t, family, prefix) => {
      const buf = t.buf;
      for (let off = 0; off < buf.length; off += t.stride) {
        if (buf[off] === NONE) continue;
        // overflow chain
        let prev = NIL;
        for (let r = buf[off] - 1; r !== NIL;) {
          const next = this.overflow.next(r);
          if (this.overflow.expiresAt(r) <= nowMs) {
            if (prev === NIL) buf[off] = next + 1;
            else this.overflow.setNext(prev, next);
            this.freeOverflow(r);
            removed++;
          } else {
            prev = r;
          }
          r = next;
        }
        // the entry in the bucket
        if (t.f64[(off + B_EXP) >> 1] <= nowMs) {
          removed++;
          this.releaseBucketIds(buf, off);
          if (buf[off] === 0) {
            doomed.push({ family, prefix, key: Int32Array.of(t.keyWord(off, 0), t.keyWord(off, 1), t.keyWord(off, 2), t.keyWord(off, 3)) });
          } else {
            this.promote(t, off);
          }
        }
      }
    });
    for (const d of doomed) {
      if (d.family === 4) this.index.removeV4(d.key[0], d.prefix);
      else this.index.removeV6(d.key, d.prefix);
    }
    this.count -= removed - countryRemoved;
    return removed;
  }

  /** Drops everything (the skipped counter too) and releases the memory. */
  clear(): void {
    this.index.clear();
    this.overflow.clear();
    this.countries.clear();
    this.count = 0;
    this.types = new Interner();
    this.origins = new Interner();
    this.scenarios = new Interner();
    this.ranks = [];
    this._skippedTotal = 0;
  }

  /**
   * Every entry unexpired at nowMs, as a stream decision whose duration counts from nowMs: what a copy
   * of this store is built from (a new worker's, --workers > 1). Do not apply anything meanwhile.
   */
  *exportDecisions(nowMs: number): Generator<LapiDecision> {
    const tables: Array<[BucketTable, 4 | 6, number]> = [];
    this.index.forEachTable((t, family, prefix) => tables.push([t, family, prefix]));
    const ov = this.overflow;
    const types = this.types.strs;
    const origins = this.origins.strs;
    const scenarios = this.scenarios.strs;
    const left = (expiresAt: number): string => `${expiresAt - nowMs}ms`;
    for (const [t, family, prefix] of tables) {
      const buf = t.buf;
      const scope = prefix === (family === 4 ? 32 : 128) ? 'Ip' : 'Range';
      for (let off = 0; off < buf.length; off += t.stride) {
        if (buf[off] === NONE) continue;
        const key = family === 4 ? buf[off + t.keyOff] : [t.keyWord(off, 0), t.keyWord(off, 1), t.keyWord(off, 2), t.keyWord(off, 3)];
        const value = formatPrefixKey(family, prefix, key, true);
        const exp = t.f64[(off + B_EXP) >> 1];
        if (exp > nowMs) {
          yield {
            scope,
            value,
            type: types[buf[off + B_TYPE]],
            origin: origins[buf[off + B_ORIGIN]],
            scenario: scenarios[buf[off + B_SCENARIO]],
            duration: left(exp),
          };
        }
        for (let r = buf[off] - 1; r !== NIL; r = ov.next(r)) {
          if (ov.expiresAt(r) <= nowMs) continue;
          yield { scope, value, type: types[ov.type(r)], origin: origins[ov.origin(r)], scenario: scenarios[ov.scenario(r)], duration: left(ov.expiresAt(r)) };
        }
      }
    }
    const countries: LapiDecision[] = [];
    this.countries.forEach(nowMs, (code, e) =>
      countries.push({ scope: 'Country', value: code, type: e.type, origin: e.origin, scenario: e.scenario, duration: left(e.expiresAt) }),
    );
    yield* countries;
  }

  /** Calls fn(typeId, originId, family, isRange) for every entry unexpired at nowMs (all when undefined). */
  private forEachEntry(nowMs: number | undefined, fn: EntryFn): void {
    const limit = nowMs ?? -Infinity;
    const ov = this.overflow;
    this.index.forEachTable((t, family, prefix) => {
      const buf = t.buf;
      const range = prefix !== (family === 4 ? 32 : 128);
      for (let off = 0; off < buf.length; off += t.stride) {
        if (buf[off] === NONE) continue;
        if (t.f64[(off + B_EXP) >> 1] > limit) fn(buf[off + B_TYPE], buf[off + B_ORIGIN], family, range, buf[off + B_SCENARIO]);
        for (let r = buf[off] - 1; r !== NIL; r = ov.next(r)) {
          if (ov.expiresAt(r) > limit) fn(ov.type(r), ov.origin(r), family, range, ov.scenario(r));
        }
      }
    });
  }

  /**
   * Counts by type, origin and family (keys "ipv4"/"ipv6"), computed on demand. With `nowMs`,
   * entries expired at that time are left out.
   */
  stats(nowMs?: number): DecisionStoreStats {
    const stats = countEntries((fn) => this.forEachEntry(nowMs, fn), this.types.strs, this.origins.strs);
    let countries = 0;
    this.countries.forEach(nowMs, (_code, e) => {
      countries++;
      stats.byType[e.type] = (stats.byType[e.type] ?? 0) + 1;
      stats.byOrigin[e.origin] = (stats.byOrigin[e.origin] ?? 0) + 1;
    });
    return { ...stats, total: stats.total + countries, countries };
  }

  /** One row per (type, origin, family) with its count, e.g. for a Prometheus gauge. */
  breakdown(nowMs?: number): DecisionBreakdownRow[] {
    return breakdownEntries((fn) => this.forEachEntry(nowMs, fn), this.types.strs, this.origins.strs);
  }

  /** Unexpired entries by (origin label, address family), for the usage metrics' active_decisions. */
  activeByOrigin(nowMs: number): ActiveDecisionRow[] {
    return activeDecisionRows((fn) => this.forEachEntry(nowMs, fn), this.origins.strs, this.scenarios.strs);
  }

  /** Whether an entry for (value, type) is held (expired or not); value as "1.2.3.4" or a CIDR. */
  has(value: string, type: string): boolean {
    const t = parseDecisionTarget({ scope: value.indexOf('/') >= 0 ? 'range' : 'ip', value, type });
    if (typeof t === 'string') return false;
    const table = this.index.tableOf(t.prefix);
    const off = this.index.find(t.prefix);
    const id = this.types.idOf(t.type);
    if (table === undefined || off === NONE || id === undefined) return false;
    return table.buf[off + B_TYPE] === id || this.findOverflow(table.buf[off], id) !== NIL;
  }

  // ---- internals ----

  private outranks(a: number, b: number): boolean {
    const ra = this.ranks[a];
    const rb = this.ranks[b];
    if (ra !== rb) return ra < rb;
    return ra === 3 && this.types.strs[a] < this.types.strs[b];
  }

  /** Overflow slot of type `id` in the chain starting at head word `head`, or NIL. */
  private findOverflow(head: number, id: number): number {
    for (let r = head - 1; r !== NIL; r = this.overflow.next(r)) if (this.overflow.type(r) === id) return r;
    return NIL;
  }

  private upsert(n: NormalizedDecision): void {
    const p = n.prefix;
    let t = this.index.tableOf(p);
    let off = t === undefined ? NONE : this.index.find(p);
    if (off === NONE) {
      off = this.index.insert(p, 0);
      t = this.index.tableOf(p) as BucketTable;
      t.buf[off + B_TYPE] = this.types.acquire(n.type, this.onNewType);
      t.f64[(off + B_EXP) >> 1] = n.expiresAt;
      t.buf[off + B_ORIGIN] = this.origins.acquire(n.origin);
      t.buf[off + B_SCENARIO] = this.scenarios.acquire(n.scenario);
      this.count++;
      return;
    }
    const buf = (t as BucketTable).buf;
    const f64 = (t as BucketTable).f64;
    const id = this.types.idOf(n.type);
    if (id !== undefined) {
      if (buf[off + B_TYPE] === id) {
        // same (value, type) as the bucket entry: later expiry, latest origin/scenario
        const e = (off + B_EXP) >> 1;
        if (n.expiresAt > f64[e]) f64[e] = n.expiresAt;
        buf[off + B_ORIGIN] = this.origins.swap(buf[off + B_ORIGIN], n.origin);
        buf[off + B_SCENARIO] = this.scenarios.swap(buf[off + B_SCENARIO], n.scenario);
        return;
      }
      const r = this.findOverflow(buf[off], id);
      if (r !== NIL) {
        const ov = this.overflow;
        if (n.expiresAt > ov.expiresAt(r)) ov.setExpiresAt(r, n.expiresAt);
        ov.setOrigin(r, this.origins.swap(ov.origin(r), n.origin));
        ov.setScenario(r, this.scenarios.swap(ov.scenario(r), n.scenario));
        return;
      }
    }
    const r = this.overflow.alloc(
      n.expiresAt,
      this.types.acquire(n.type, this.onNewType),
      this.origins.acquire(n.origin),
      this.scenarios.acquire(n.scenario),
      buf[off] - 1,
    );
    buf[off] = r + 1;
    this.count++;
  }

  private remove(p: PrefixKey, type: string): boolean {
    const t = this.index.tableOf(p);
    if (t === undefined) return false;
    const off = this.index.find(p);
    const id = this.types.idOf(type);
    if (off === NONE || id === undefined) return false;
    const buf = t.buf;
    if (buf[off + B_TYPE] === id) {
      this.releaseBucketIds(buf, off);
      if (buf[off] === 0) this.index.remove(p);
      else this.promote(t, off);
      this.count--;
      return true;
    }
    let prev = NIL;
    for (let r = buf[off] - 1; r !== NIL; r = this.overflow.next(r)) {
      if (this.overflow.type(r) === id) {
        const next = this.overflow.next(r);
        if (prev === NIL) buf[off] = next + 1;
        else this.overflow.setNext(prev, next);
        this.freeOverflow(r);
        this.count--;
        return true;
      }
      prev = r;
    }
    return false;
  }

  private releaseBucketIds(buf: Int32Array, off: number): void {
    this.types.release(buf[off + B_TYPE]);
    this.origins.release(buf[off + B_ORIGIN]);
    this.scenarios.release(buf[off + B_SCENARIO]);
  }

  /** Moves the first overflow record into the bucket (whose own entry is gone). */
  private promote(t: BucketTable, off: number): void {
    const buf = t.buf;
    const r = buf[off] - 1;
    const ov = this.overflow;
    buf[off + B_TYPE] = ov.type(r);
    buf[off + B_ORIGIN] = ov.origin(r);
    buf[off + B_SCENARIO] = ov.scenario(r);
    t.f64[(off + B_EXP) >> 1] = ov.expiresAt(r);
    buf[off] = ov.next(r) + 1;
    // the ids moved with the entry: free the record without releasing them
    ov.free(r);
  }

  private freeOverflow(r: number): void {
    const ov = this.overflow;
    this.types.release(ov.type(r));
    this.origins.release(ov.origin(r));
    this.scenarios.release(ov.scenario(r));
    ov.free(r);
  }
}
