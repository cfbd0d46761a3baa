// In-memory CrowdSec decision cache: apply stream responses, answer "which decision applies to
// this client IP". Pure and synchronous; the caller passes the clock.
//
// Layout (built for ~1M decisions in well under 300 MB):
//   - one PrefixMap<slot> from value (exact address or range) to the first slot of its entries;
//   - an entry is a (value, type) pair stored column-wise in typed arrays indexed by slot
//     (expiry, interned type/origin/scenario ids, next slot for the same value), so the common
//     one-type-per-value case costs one Map entry plus ~40 bytes of columns and no JS object;
//   - a second type on the same value is chained through `nxt`; freed slots are recycled;
//   - strings (types, origins, scenarios) are interned with reference counts.
// Lookups parse the address without allocating, do one Map.get per present prefix length (longest
// first, stopping at the first value with an unexpired entry) and allocate only the result object.

import {
  formatPrefixKey,
  ipv4ToUint32,
  isV4Mapped,
  mappedV4,
  parseIpv6Into,
  type PrefixKey,
} from '../net/ip';
import { PrefixMap } from '../net/prefix-map';
import { normalizeDecision, parseDecisionTarget, type NormalizedDecision } from './decisions';
import { typeRank } from './precedence';
import type {
  ActiveDecision,
  ApplyResult,
  DecisionBreakdownRow,
  DecisionLookup,
  DecisionStoreStats,
  StreamResponse,
} from './types';

const NIL = -1;
const FREE = 0;
const MIN_CAPACITY = 1024;

/** Reference-counted string interning: id ↔ string, ids recycled when unused. */
class Interner {
  private readonly ids = new Map<string, number>();
  readonly strs: string[] = [];
  private readonly refs: number[] = [];
  private readonly free: number[] = [];

  idOf(s: string): number | undefined {
    return this.ids.get(s);
  }

  /** Id of `s`, taking one reference; `isNew` reports a freshly assigned id through `onNew`. */
  acquire(s: string, onNew?: (id: number, s: string) => void): number {
    let id = this.ids.get(s);
    if (id === undefined) {
      id = this.free.length > 0 ? (this.free.pop() as number) : this.strs.length;
      this.strs[id] = s;
      this.refs[id] = 0;
      this.ids.set(s, id);
      if (onNew !== undefined) onNew(id, s);
    }
    this.refs[id]++;
    return id;
  }

  release(id: number): void {
    if (--this.refs[id] === 0) {
      this.ids.delete(this.strs[id]);
      this.strs[id] = '';
      this.free.push(id);
    }
  }

  get size(): number {
    return this.ids.size;
  }
}

const scratch6 = new Uint16Array(8);

export class DecisionStore implements DecisionLookup {
  private readonly map = new PrefixMap<number>();

  // Slot columns.
  private cap = 0;
  private hi = 0;
  private freeHead = NIL;
  private count = 0;
  private exp = new Float64Array(0);
  private typ = new Uint32Array(0);
  private org = new Uint32Array(0);
  private scn = new Uint32Array(0);
  private nxt = new Int32Array(0);
  /** 0 = free slot, else 4 or 6. */
  private fam = new Uint8Array(0);
  private pl = new Uint8Array(0);
  private k4 = new Int32Array(0);
  private k6: string[] = [];

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
  private readonly accept = (head: number): boolean => {
    const best = this.bestUnexpired(head, this.now);
    this.found = best;
    return best !== NIL;
  };

  /** Number of (value, type) entries held, expired-but-not-swept included. */
  get size(): number {
    return this.count;
  }

  /** Number of distinct values (addresses and ranges). */
  get valueCount(): number {
    return this.map.size;
  }

  /** Decisions skipped as unusable since creation (or the last clear()). */
  get skippedTotal(): number {
    return this._skippedTotal;
  }

  /** Applies one /v1/decisions/stream body: deletions first, then new decisions. */
  apply(resp: StreamResponse, nowMs: number): ApplyResult {
    let added = 0;
    let deleted = 0;
    let skipped = 0;
    let expired = 0;
    const del = resp?.deleted;
    if (Array.isArray(del)) {
      for (let i = 0; i < del.length; i++) {
        const d = del[i];
        if (d === null || typeof d !== 'object') {
          skipped++;
          continue;
        }
        const t = parseDecisionTarget(d);
        if (typeof t === 'string') {
          skipped++;
          continue;
        }
        if (this.remove(t.prefix, t.type)) deleted++;
      }
    }
    const add = resp?.new;
    if (Array.isArray(add)) {
      for (let i = 0; i < add.length; i++) {
        const d = add[i];
        if (d === null || typeof d !== 'object') {
          skipped++;
          continue;
        }
        const n = normalizeDecision(d, nowMs);
        if (typeof n === 'string') {
          if (n === 'expired') expired++;
          else skipped++;
          continue;
        }
        this.upsert(n);
        added++;
      }
    }
    this._skippedTotal += skipped;
    return { added, deleted, skipped, expired };
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
    let head: number | undefined;
    let plainV4 = false;
    const a = ipv4ToUint32(ip);
    if (a >= 0) {
      plainV4 = true;
      head = this.map.matchV4(a, this.accept);
    } else if (parseIpv6Into(ip, scratch6)) {
      head = isV4Mapped(scratch6) ? this.map.matchV4(mappedV4(scratch6), this.accept) : this.map.matchV6(scratch6, this.accept);
    } else {
      return undefined;
    }
    if (head === undefined) return undefined;
    const s = this.found;
    const fam = this.fam[s] as 4 | 6;
    const plen = this.pl[s];
    const value =
      plainV4 && plen === 32 ? ip : formatPrefixKey(fam, plen, fam === 4 ? this.k4[s] : this.k6[s], true);
    return {
      type: this.types.strs[this.typ[s]],
      origin: this.origins.strs[this.org[s]],
      scenario: this.scenarios.strs[this.scn[s]],
      value,
      expiresAt: this.exp[s],
    };
  }

  /** Removes every entry expired at `nowMs`; returns how many. */
  sweep(nowMs: number): number {
    let removed = 0;
    const exp = this.exp;
    const fam = this.fam;
    for (let s = 0; s < this.hi; s++) {
      if (fam[s] !== FREE && exp[s] <= nowMs) {
        this.removeSlot(s);
        removed++;
      }
    }
    return removed;
  }

  /** Drops everything (the skipped counter too) and releases the memory. */
  clear(): void {
    this.map.clear();
    this.cap = 0;
    this.hi = 0;
    this.freeHead = NIL;
    this.count = 0;
    this.exp = new Float64Array(0);
    this.typ = new Uint32Array(0);
    this.org = new Uint32Array(0);
    this.scn = new Uint32Array(0);
    this.nxt = new Int32Array(0);
    this.fam = new Uint8Array(0);
    this.pl = new Uint8Array(0);
    this.k4 = new Int32Array(0);
    this.k6 = [];
    this.types = new Interner();
    this.origins = new Interner();
    this.scenarios = new Interner();
    this.ranks = [];
    this._skippedTotal = 0;
  }

  /**
   * Counts by type, origin and family (keys "ipv4"/"ipv6"), computed on demand. With `nowMs`,
   * entries expired at that time are left out.
   */
  stats(nowMs?: number): DecisionStoreStats {
    const byType: Record<string, number> = {};
    const byOrigin: Record<string, number> = {};
    let v4 = 0;
    let v6 = 0;
    let ranges = 0;
    let total = 0;
    const tc = new Float64Array(this.types.strs.length);
    const oc = new Float64Array(this.origins.strs.length);
    for (let s = 0; s < this.hi; s++) {
      const f = this.fam[s];
      if (f === FREE || (nowMs !== undefined && this.exp[s] <= nowMs)) continue;
      total++;
      tc[this.typ[s]]++;
      oc[this.org[s]]++;
      if (f === 4) v4++;
      else v6++;
      if (this.pl[s] !== (f === 4 ? 32 : 128)) ranges++;
    }
    for (let i = 0; i < tc.length; i++) if (tc[i] > 0) byType[this.types.strs[i]] = tc[i];
    for (let i = 0; i < oc.length; i++) if (oc[i] > 0) byOrigin[this.origins.strs[i]] = oc[i];
    return { total, byType, byOrigin, byFamily: { ipv4: v4, ipv6: v6 }, ranges };
  }

  /** One row per (type, origin, family) with its count, e.g. for a Prometheus gauge. */
  breakdown(nowMs?: number): DecisionBreakdownRow[] {
    const counts = new Map<number, number>();
    const nOrig = this.origins.strs.length;
    for (let s = 0; s < this.hi; s++) {
      const f = this.fam[s];
      if (f === FREE || (nowMs !== undefined && this.exp[s] <= nowMs)) continue;
      const k = (this.typ[s] * nOrig + this.org[s]) * 2 + (f === 4 ? 0 : 1);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const rows: DecisionBreakdownRow[] = [];
    for (const [k, count] of counts) {
      const family: 4 | 6 = k % 2 === 0 ? 4 : 6;
      const to = Math.floor(k / 2);
      rows.push({ type: this.types.strs[Math.floor(to / nOrig)], origin: this.origins.strs[to % nOrig], family, count });
    }
    rows.sort((x, y) => (x.type < y.type ? -1 : x.type > y.type ? 1 : x.origin < y.origin ? -1 : x.origin > y.origin ? 1 : x.family - y.family));
    return rows;
  }

  /** Whether an entry for (value, type) is held (expired or not); value as "1.2.3.4" or a CIDR. */
  has(value: string, type: string): boolean {
    const t = parseDecisionTarget({ scope: value.indexOf('/') >= 0 ? 'range' : 'ip', value, type });
    if (typeof t === 'string') return false;
    return this.findType(this.map.getKey(t.prefix), t.type) !== NIL;
  }

  // ---- internals ----

  private bestUnexpired(head: number, now: number): number {
    const exp = this.exp;
    const nxt = this.nxt;
    if (nxt[head] === NIL) return exp[head] > now ? head : NIL; // the common single-type case
    let best = NIL;
    for (let s = head; s !== NIL; s = nxt[s]) {
      if (exp[s] > now && (best === NIL || this.outranks(this.typ[s], this.typ[best]))) best = s;
    }
    return best;
  }

  private outranks(a: number, b: number): boolean {
    const ra = this.ranks[a];
    const rb = this.ranks[b];
    if (ra !== rb) return ra < rb;
    return ra === 3 && this.types.strs[a] < this.types.strs[b];
  }

  private findType(head: number | undefined, type: string): number {
    if (head === undefined) return NIL;
    const id = this.types.idOf(type);
    if (id === undefined) return NIL;
    for (let s = head; s !== NIL; s = this.nxt[s]) if (this.typ[s] === id) return s;
    return NIL;
  }

  private upsert(n: NormalizedDecision): void {
    const p = n.prefix;
    const head = this.map.getKey(p);
    const existing = this.findType(head, n.type);
    if (existing !== NIL) {
      if (n.expiresAt > this.exp[existing]) this.exp[existing] = n.expiresAt;
      const o = this.origins.acquire(n.origin);
      this.origins.release(this.org[existing]);
      this.org[existing] = o;
      const sc = this.scenarios.acquire(n.scenario);
      this.scenarios.release(this.scn[existing]);
      this.scn[existing] = sc;
      return;
    }
    const s = this.alloc();
    this.exp[s] = n.expiresAt;
    this.typ[s] = this.types.acquire(n.type, this.onNewType);
    this.org[s] = this.origins.acquire(n.origin);
    this.scn[s] = this.scenarios.acquire(n.scenario);
    this.fam[s] = p.family;
    this.pl[s] = p.prefix;
    if (p.family === 4) {
      this.k4[s] = p.key;
      this.k6[s] = '';
    } else {
      this.k4[s] = 0;
      this.k6[s] = p.key;
    }
    if (head === undefined) {
      this.nxt[s] = NIL;
      this.map.setKey(p, s);
    } else {
      this.nxt[s] = this.nxt[head];
      this.nxt[head] = s;
    }
    this.count++;
  }

  private remove(p: PrefixKey, type: string): boolean {
    const s = this.findType(this.map.getKey(p), type);
    if (s === NIL) return false;
    this.removeSlot(s);
    return true;
  }

  private headOf(s: number): number | undefined {
    return this.fam[s] === 4 ? this.map.getV4(this.k4[s], this.pl[s]) : this.map.getV6(this.k6[s], this.pl[s]);
  }

  private removeSlot(s: number): void {
    const head = this.headOf(s);
    if (head === undefined) throw new Error(`decision store corrupt: slot ${s} has no value entry`);
    const next = this.nxt[s];
    if (head === s) {
      if (next === NIL) {
        if (this.fam[s] === 4) this.map.deleteV4(this.k4[s], this.pl[s]);
        else this.map.deleteV6(this.k6[s], this.pl[s]);
      } else if (this.fam[s] === 4) {
        this.map.setV4(this.k4[s], this.pl[s], next);
      } else {
        this.map.setV6(this.k6[s], this.pl[s], next);
      }
    } else {
      let prev = head;
      while (this.nxt[prev] !== s) {
        prev = this.nxt[prev];
        if (prev === NIL) throw new Error(`decision store corrupt: slot ${s} not in its chain`);
      }
      this.nxt[prev] = next;
    }
    this.types.release(this.typ[s]);
    this.origins.release(this.org[s]);
    this.scenarios.release(this.scn[s]);
    this.fam[s] = FREE;
    this.k6[s] = '';
    this.nxt[s] = this.freeHead;
    this.freeHead = s;
    this.count--;
  }

  private alloc(): number {
    if (this.freeHead !== NIL) {
      const s = this.freeHead;
      this.freeHead = this.nxt[s];
      return s;
    }
    if (this.hi === this.cap) this.grow();
    this.k6.push('');
    return this.hi++;
  }

  private grow(): void {
    const cap = Math.max(MIN_CAPACITY, this.cap * 2);
    const g = <T extends Float64Array | Uint32Array | Int32Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const a = make(cap);
      a.set(old as ArrayLike<number>);
      return a;
    };
    this.exp = g(this.exp, (n) => new Float64Array(n));
    this.typ = g(this.typ, (n) => new Uint32Array(n));
    this.org = g(this.org, (n) => new Uint32Array(n));
    this.scn = g(this.scn, (n) => new Uint32Array(n));
    this.nxt = g(this.nxt, (n) => new Int32Array(n));
    this.fam = g(this.fam, (n) => new Uint8Array(n));
    this.pl = g(this.pl, (n) => new Uint8Array(n));
    this.k4 = g(this.k4, (n) => new Int32Array(n));
    this.cap = cap;
  }
}
