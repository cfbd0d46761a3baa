// In-memory CrowdSec decision cache: apply stream responses, answer "which decision applies to
// this client IP". Pure and synchronous; the caller passes the clock.
//
// Layout (built for ~1M decisions in well under 300 MB):
//   - one PrefixIndex (typed-array hash table per prefix length) from value (exact address or
//     range) to the first slot of its entries;
//   - an entry is a (value, type) pair: a 48-byte record in one ArrayBuffer (expiry, next slot for
//     the same value, interned type/origin/scenario ids, family, prefix length, key words), so the
//     common one-type-per-value case costs ~48 bytes + ~16 bytes of index and no JS object, and a
//     hit reads one record (one or two cache lines);
//   - a second type on the same value is chained through `next`; freed slots are recycled;
//   - strings (types, origins, scenarios) are interned with reference counts.
// Lookups parse the address without allocating, probe one table per present prefix length
// (longest first, stopping at the first value with an unexpired entry) and allocate only the
// result object.

import { formatPrefixKey, ipv4ToUint32, isV4Mapped, mappedV4, parseIpv6Into, type PrefixKey } from '../net/ip';
import { NONE, PrefixIndex } from '../net/prefix-map';
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
const MIN_CAPACITY = 1024;

// Slot record: 48 bytes = 12 int32 = 6 float64.
const REC_I32 = 12;
const REC_F64 = 6;
const EXP = 0; // float64 index within the record (int32 0-1)
const NEXT = 2;
const TYPE = 3;
const ORIGIN = 4;
const SCENARIO = 5;
const META = 6; // family (0 = free slot, 4, 6) | prefix length << 8
const KEY = 7; // 4 words: IPv4 uses the first

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
const words6 = new Int32Array(4);

export class DecisionStore implements DecisionLookup {
  private readonly index = new PrefixIndex();

  // Slot records.
  private cap = 0;
  private hi = 0;
  private freeHead = NIL;
  private count = 0;
  private buf = new ArrayBuffer(0);
  private f64 = new Float64Array(this.buf);
  private i32 = new Int32Array(this.buf);

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
    return this.index.size;
  }

  /** Decisions skipped as unusable since creation (or the last clear()). */
  get skippedTotal(): number {
    return this._skippedTotal;
  }

  /** Bytes held by slot records and index tables (strings excluded). */
  get bytes(): number {
    return this.buf.byteLength + this.index.bytes;
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
    let head: number;
    let plainV4 = false;
    const a = ipv4ToUint32(ip);
    if (a >= 0) {
      plainV4 = true;
      head = this.index.matchV4(a, this.accept);
    } else if (parseIpv6Into(ip, scratch6)) {
      head = isV4Mapped(scratch6) ? this.index.matchV4(mappedV4(scratch6), this.accept) : this.index.matchV6(scratch6, this.accept);
    } else {
      return undefined;
    }
    if (head === NONE) return undefined;
    const s = this.found;
    const i32 = this.i32;
    const r = s * REC_I32;
    const meta = i32[r + META];
    const plen = meta >>> 8;
    return {
      type: this.types.strs[i32[r + TYPE]],
      origin: this.origins.strs[i32[r + ORIGIN]],
      scenario: this.scenarios.strs[i32[r + SCENARIO]],
      value: plainV4 && plen === 32 ? ip : this.valueText(s),
      expiresAt: this.f64[s * REC_F64 + EXP],
    };
  }

  /** Removes every entry expired at `nowMs`; returns how many. */
  sweep(nowMs: number): number {
    let removed = 0;
    for (let s = 0; s < this.hi; s++) {
      if ((this.i32[s * REC_I32 + META] & 0xff) !== 0 && this.f64[s * REC_F64 + EXP] <= nowMs) {
        this.removeSlot(s);
        removed++;
      }
    }
    return removed;
  }

  /** Drops everything (the skipped counter too) and releases the memory. */
  clear(): void {
    this.index.clear();
    this.cap = 0;
    this.hi = 0;
    this.freeHead = NIL;
    this.count = 0;
    this.setBuffer(new ArrayBuffer(0));
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
    const i32 = this.i32;
    for (let s = 0; s < this.hi; s++) {
      const r = s * REC_I32;
      const meta = i32[r + META];
      const f = meta & 0xff;
      if (f === 0 || (nowMs !== undefined && this.f64[s * REC_F64 + EXP] <= nowMs)) continue;
      total++;
      tc[i32[r + TYPE]]++;
      oc[i32[r + ORIGIN]]++;
      if (f === 4) v4++;
      else v6++;
      if (meta >>> 8 !== (f === 4 ? 32 : 128)) ranges++;
    }
    for (let i = 0; i < tc.length; i++) if (tc[i] > 0) byType[this.types.strs[i]] = tc[i];
    for (let i = 0; i < oc.length; i++) if (oc[i] > 0) byOrigin[this.origins.strs[i]] = oc[i];
    return { total, byType, byOrigin, byFamily: { ipv4: v4, ipv6: v6 }, ranges };
  }

  /** One row per (type, origin, family) with its count, e.g. for a Prometheus gauge. */
  breakdown(nowMs?: number): DecisionBreakdownRow[] {
    const counts = new Map<number, number>();
    const nOrig = this.origins.strs.length;
    const i32 = this.i32;
    for (let s = 0; s < this.hi; s++) {
      const r = s * REC_I32;
      const f = i32[r + META] & 0xff;
      if (f === 0 || (nowMs !== undefined && this.f64[s * REC_F64 + EXP] <= nowMs)) continue;
      const k = (i32[r + TYPE] * nOrig + i32[r + ORIGIN]) * 2 + (f === 4 ? 0 : 1);
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
    return this.findType(this.index.getKey(t.prefix), t.type) !== NIL;
  }

  // ---- internals ----

  private valueText(s: number): string {
    const i32 = this.i32;
    const r = s * REC_I32;
    const meta = i32[r + META];
    const fam = (meta & 0xff) as 4 | 6;
    return formatPrefixKey(fam, meta >>> 8, fam === 4 ? i32[r + KEY] : i32.subarray(r + KEY, r + KEY + 4), true);
  }

  private bestUnexpired(head: number, now: number): number {
    const f64 = this.f64;
    const i32 = this.i32;
    const next = i32[head * REC_I32 + NEXT];
    if (next === NIL) return f64[head * REC_F64 + EXP] > now ? head : NIL; // the common single-type case
    let best = NIL;
    for (let s = head; s !== NIL; s = i32[s * REC_I32 + NEXT]) {
      if (f64[s * REC_F64 + EXP] > now && (best === NIL || this.outranks(i32[s * REC_I32 + TYPE], i32[best * REC_I32 + TYPE]))) {
        best = s;
      }
    }
    return best;
  }

  private outranks(a: number, b: number): boolean {
    const ra = this.ranks[a];
    const rb = this.ranks[b];
    if (ra !== rb) return ra < rb;
    return ra === 3 && this.types.strs[a] < this.types.strs[b];
  }

  private findType(head: number, type: string): number {
    if (head === NONE) return NIL;
    const id = this.types.idOf(type);
    if (id === undefined) return NIL;
    for (let s = head; s !== NIL; s = this.i32[s * REC_I32 + NEXT]) if (this.i32[s * REC_I32 + TYPE] === id) return s;
    return NIL;
  }

  private upsert(n: NormalizedDecision): void {
    const p = n.prefix;
    const head = this.index.getKey(p);
    const existing = this.findType(head, n.type);
    if (existing !== NIL) {
      const e = existing * REC_F64 + EXP;
      if (n.expiresAt > this.f64[e]) this.f64[e] = n.expiresAt;
      const r = existing * REC_I32;
      const o = this.origins.acquire(n.origin);
      this.origins.release(this.i32[r + ORIGIN]);
      this.i32[r + ORIGIN] = o;
      const sc = this.scenarios.acquire(n.scenario);
      this.scenarios.release(this.i32[r + SCENARIO]);
      this.i32[r + SCENARIO] = sc;
      return;
    }
    const s = this.alloc();
    const i32 = this.i32;
    const r = s * REC_I32;
    this.f64[s * REC_F64 + EXP] = n.expiresAt;
    i32[r + TYPE] = this.types.acquire(n.type, this.onNewType);
    i32[r + ORIGIN] = this.origins.acquire(n.origin);
    i32[r + SCENARIO] = this.scenarios.acquire(n.scenario);
    i32[r + META] = p.family | (p.prefix << 8);
    if (p.family === 4) {
      i32[r + KEY] = p.key;
      i32[r + KEY + 1] = 0;
      i32[r + KEY + 2] = 0;
      i32[r + KEY + 3] = 0;
    } else {
      i32.set(p.key, r + KEY);
    }
    if (head === NONE) {
      i32[r + NEXT] = NIL;
      this.index.setKey(p, s);
    } else {
      i32[r + NEXT] = i32[head * REC_I32 + NEXT];
      i32[head * REC_I32 + NEXT] = s;
    }
    this.count++;
  }

  private remove(p: PrefixKey, type: string): boolean {
    const s = this.findType(this.index.getKey(p), type);
    if (s === NIL) return false;
    this.removeSlot(s);
    return true;
  }

  private removeSlot(s: number): void {
    const i32 = this.i32;
    const r = s * REC_I32;
    const meta = i32[r + META];
    const fam = meta & 0xff;
    const plen = meta >>> 8;
    if (fam === 6) {
      words6[0] = i32[r + KEY];
      words6[1] = i32[r + KEY + 1];
      words6[2] = i32[r + KEY + 2];
      words6[3] = i32[r + KEY + 3];
    }
    const head = fam === 4 ? this.index.getV4(i32[r + KEY], plen) : this.index.getV6(words6, plen);
    if (head === NONE) throw new Error(`decision store corrupt: slot ${s} has no value entry`);
    const next = i32[r + NEXT];
    if (head === s) {
      if (next === NIL) {
        if (fam === 4) this.index.deleteV4(i32[r + KEY], plen);
        else this.index.deleteV6(words6, plen);
      } else if (fam === 4) {
        this.index.setV4(i32[r + KEY], plen, next);
      } else {
        this.index.setV6(words6, plen, next);
      }
    } else {
      let prev = head;
      while (i32[prev * REC_I32 + NEXT] !== s) {
        prev = i32[prev * REC_I32 + NEXT];
        if (prev === NIL) throw new Error(`decision store corrupt: slot ${s} not in its chain`);
      }
      i32[prev * REC_I32 + NEXT] = next;
    }
    this.types.release(i32[r + TYPE]);
    this.origins.release(i32[r + ORIGIN]);
    this.scenarios.release(i32[r + SCENARIO]);
    i32[r + META] = 0;
    i32[r + NEXT] = this.freeHead;
    this.freeHead = s;
    this.count--;
  }

  private alloc(): number {
    if (this.freeHead !== NIL) {
      const s = this.freeHead;
      this.freeHead = this.i32[s * REC_I32 + NEXT];
      return s;
    }
    if (this.hi === this.cap) this.grow();
    return this.hi++;
  }

  private grow(): void {
    const cap = Math.max(MIN_CAPACITY, this.cap * 2);
    const buf = new ArrayBuffer(cap * REC_I32 * 4);
    new Uint8Array(buf).set(new Uint8Array(this.buf));
    this.setBuffer(buf);
    this.cap = cap;
  }

  private setBuffer(buf: ArrayBuffer): void {
    this.buf = buf;
    this.f64 = new Float64Array(buf);
    this.i32 = new Int32Array(buf);
  }
}
