// Longest-prefix-match maps for IPv4 and IPv6 CIDRs.
//
// One hash table per prefix length that is present, lengths visited longest first: a lookup parses
// the address once and probes at most one table per present length — never a scan of entries.
//
// The tables are open-addressing hash tables in Int32Arrays (linear probing, load ≤ 3/4,
// backward-shift deletion) keyed by the masked address: one int32 word for IPv4, four for IPv6
// (fewer for short prefixes). A bucket is [head, payload..., key words]: `head` is an int ≥ 0
// (NONE marks an empty bucket) and the payload lets a caller keep its record inside the bucket,
// so that a hit costs one cache miss (the decision store does this). Compared with a JS Map per
// length, a probe touches one cache line instead of bucket → entry → chain, and nothing is
// allocated. Measured alternatives: Map<number> for IPv4 was ~2x slower on 1M random lookups;
// Map<string> with packed-hextet keys for IPv6 allocates a string per probed length; Map<bigint>
// is unusable: V8 hashes a BigInt by its low 64 bits only, so all /64-or-shorter keys collide.
//
// Summary filters let a lookup skip most lengths that have nothing near the address (see
// PrefixIndex), which matters once ranges of many lengths are present.
//
// PrefixIndex is the engine; PrefixMap<V> stores any value; CidrSet answers containment.

import {
  MASK4,
  formatPrefixKey,
  ipv4ToUint32,
  isV4Mapped,
  mappedV4,
  parseIpv6Into,
  parsePrefixKey,
  wordMask,
  type PrefixKey,
} from './ip';

/** Empty bucket / absent result. */
export const NONE = -1;

const MIN_CAP = 8;

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

function randomSeed(): number {
  return (Math.random() * 0x100000000) | 0;
}

/**
 * Open-addressing hash table from a key of `words` int32 words (1..4) to a bucket
 * [head, payload (extra ints)..., key words]. Offsets returned by find/insert index `buf` (and,
 * halved, `f64`: buckets with a payload have an even stride, so a payload pair starting at an
 * even offset within the bucket can hold a float64) and stay valid until the next insert or
 * remove. Load factor ≤ 3/4 (measured: as fast as 1/2 on 1M entries, since the smaller table
 * misses the cache less), shrinks below 1/8.
 */
export class BucketTable {
  readonly words: number;
  readonly extra: number;
  readonly stride: number;
  /** Offset of the first key word within a bucket. */
  readonly keyOff: number;
  private readonly seed = randomSeed();
  buf: Int32Array;
  f64: Float64Array;
  private mask: number;
  size = 0;
  /** family | prefix << 8, set by PrefixIndex. */
  tag = 0;

  constructor(words: number, extra: number) {
    this.words = words;
    this.extra = extra;
    this.keyOff = 1 + extra;
    const stride = this.keyOff + words;
    this.stride = extra > 0 && stride % 2 === 1 ? stride + 1 : stride;
    this.mask = MIN_CAP - 1;
    this.buf = new Int32Array(0);
    this.f64 = new Float64Array(0);
    this.alloc(MIN_CAP);
  }

  private alloc(cap: number): void {
    const ab = new ArrayBuffer(cap * this.stride * 4);
    this.buf = new Int32Array(ab);
    if (this.extra > 0) this.f64 = new Float64Array(ab);
    for (let b = 0; b < this.buf.length; b += this.stride) this.buf[b] = NONE;
    this.mask = cap - 1;
  }

  private hash(w0: number, w1: number, w2: number, w3: number): number {
    let h = fmix(w0 ^ this.seed);
    if (this.words > 1) {
      h = fmix(h ^ w1);
      if (this.words > 2) {
        h = fmix(h ^ w2);
        if (this.words > 3) h = fmix(h ^ w3);
      }
    }
    return h;
  }

  private hashAt(buf: Int32Array, b: number): number {
    const k = b + this.keyOff;
    const words = this.words;
    return this.hash(buf[k], words > 1 ? buf[k + 1] : 0, words > 2 ? buf[k + 2] : 0, words > 3 ? buf[k + 3] : 0);
  }

  /** Offset of the bucket holding the key, or NONE. Unused words must be passed as 0. */
  find(w0: number, w1: number, w2: number, w3: number): number {
    const buf = this.buf;
    const stride = this.stride;
    const words = this.words;
    const mask = this.mask;
    let i = this.hash(w0, w1, w2, w3) & mask;
    for (;;) {
      const b = i * stride;
      if (buf[b] === NONE) return NONE;
      const k = b + this.keyOff;
      if (buf[k] === w0 && (words < 2 || buf[k + 1] === w1) && (words < 3 || buf[k + 2] === w2) && (words < 4 || buf[k + 3] === w3)) {
        return b;
      }
      i = (i + 1) & mask;
    }
  }

  /** Adds a bucket for a key that is absent; returns its offset (payload zeroed). `head` must be ≥ 0. */
  insert(w0: number, w1: number, w2: number, w3: number, head: number): number {
    if ((this.size + 1) * 4 > (this.mask + 1) * 3) this.resize((this.mask + 1) * 2);
    const buf = this.buf;
    const stride = this.stride;
    let i = this.hash(w0, w1, w2, w3) & this.mask;
    while (buf[i * stride] !== NONE) i = (i + 1) & this.mask;
    const b = i * stride;
    buf.fill(0, b, b + stride);
    buf[b] = head;
    const k = b + this.keyOff;
    buf[k] = w0;
    if (this.words > 1) buf[k + 1] = w1;
    if (this.words > 2) buf[k + 2] = w2;
    if (this.words > 3) buf[k + 3] = w3;
    this.size++;
    return b;
  }

  /** Removes the bucket at `b` (backward-shift deletion; may shrink the table). */
  removeAt(b: number): void {
    const buf = this.buf;
    const stride = this.stride;
    const mask = this.mask;
    let hole = b / stride;
    let j = hole;
    for (;;) {
      j = (j + 1) & mask;
      const bj = j * stride;
      if (buf[bj] === NONE) break;
      const home = this.hashAt(buf, bj) & mask;
      // Stays unless its home lies cyclically outside (hole, j].
      const stays = hole <= j ? home > hole && home <= j : home > hole || home <= j;
      if (stays) continue;
      buf.copyWithin(hole * stride, bj, bj + stride);
      hole = j;
    }
    buf[hole * stride] = NONE;
    this.size--;
    const cap = mask + 1;
    if (cap > MIN_CAP && this.size * 8 < cap) this.resize(cap / 2);
  }

  private resize(cap: number): void {
    const old = this.buf;
    const stride = this.stride;
    this.alloc(cap);
    const buf = this.buf;
    const mask = this.mask;
    for (let b = 0; b < old.length; b += stride) {
      if (old[b] === NONE) continue;
      let i = this.hashAt(old, b) & mask;
      while (buf[i * stride] !== NONE) i = (i + 1) & mask;
      buf.set(old.subarray(b, b + stride), i * stride);
    }
  }

  /** Key word `i` (0..3) of the bucket at `b`; 0 beyond `words`. */
  keyWord(b: number, i: number): number {
    return i < this.words ? this.buf[b + this.keyOff + i] : 0;
  }

  /** Bytes held. */
  get bytes(): number {
    return this.buf.byteLength;
  }
}

function insertLen(lens: number[], len: number): void {
  let i = 0;
  while (i < lens.length && lens[i] > len) i++;
  lens.splice(i, 0, len);
}

function removeLen(lens: number[], len: number): void {
  const i = lens.indexOf(len);
  if (i >= 0) lens.splice(i, 1);
}

/** Entries of one family before a summary filter is kept for it. */
const SUMMARY_MIN = 512;
/** log2 of the IPv6 summary size (entries are uint32 words). */
const SUM6_BITS = 17;
/** Entries of one family before the 2 MB occupancy bitmap is kept for it. */
const OCC_MIN = 16384;
const OCC_WORDS = 1 << 19; // 2^24 bits

/** IPv4 summary bit of a prefix length (lengths below 16 have none: always probed). */
const BIT4 = (() => {
  const b = new Int32Array(33);
  for (let len = 16; len <= 32; len++) b[len] = 1 << (len - 16);
  return b;
})();

function sum6Index(w0: number, w1: number): number {
  return fmix(w0 ^ fmix((w1 >>> 16) + 0x9e3779b9)) >>> (32 - SUM6_BITS);
}

/** Bit number (0..2^24-1) of an IPv6 /64 in the occupancy bitmap. */
function occ6Bit(w0: number, w1: number): number {
  return fmix(fmix(w0 ^ 0x5bd1e995) ^ w1) >>> 8;
}

function testBit(bits: Int32Array | undefined, n: number): boolean {
  return bits === undefined || (bits[n >>> 5] & (1 << (n & 31))) !== 0;
}

/** Match predicate: gets the candidate bucket; false continues with shorter prefixes. */
export type BucketFilter = (table: BucketTable, offset: number) => boolean;

const scratch = new Uint16Array(8);

/**
 * Longest-prefix-match index over BucketTables, one per (family, prefix length).
 * Keys: IPv4 network address as int32/uint32 (masked to the prefix); IPv6 as four int32 words
 * (ipv6Words(), masked). Lookups return bucket offsets (NONE when absent); the table of the last
 * match is in `matched`.
 *
 * Summary filters, kept once a family has 512 entries, let a lookup skip the lengths that have
 * no entry near the address: for IPv4 one word per /16 with a bit per length 16..32 present below
 * it; for IPv6 one word per hash of the /48 with a bit per length ≥ 48 (bits assigned on first use,
 * up to 32 lengths). From 16384 entries an occupancy bitmap (2^24 bits) also says which /24 (IPv4)
 * or which hash of the /64 (IPv6) holds entries of length ≥ 24 (≥ 64), sparing most lookups the
 * probe of the big exact-address table. Deletions leave bits set (a stale bit costs one probe);
 * the filters are rebuilt once deletions outnumber the entries.
 */
export class PrefixIndex {
  /** Payload ints per bucket. */
  readonly extra: number;
  private readonly v4: (BucketTable | undefined)[] = new Array<BucketTable | undefined>(33).fill(undefined);
  private readonly v6: (BucketTable | undefined)[] = new Array<BucketTable | undefined>(129).fill(undefined);
  /** Present lengths, longest first. */
  private v4Lens: number[] = [];
  private v6Lens: number[] = [];
  private n4 = 0;
  private n6 = 0;
  private sum4: Uint32Array | undefined;
  private sum6: Uint32Array | undefined;
  private occ4: Int32Array | undefined;
  private occ6: Int32Array | undefined;
  private stale4 = 0;
  private stale6 = 0;
  private bit6 = new Int32Array(129);
  private nextBit6 = 0;
  /** Table of the bucket the last match*() returned. */
  matched: BucketTable | undefined;

  constructor(extra = 0) {
    this.extra = extra;
  }

  get size(): number {
    return this.n4 + this.n6;
  }

  clear(): void {
    this.v4.fill(undefined);
    this.v6.fill(undefined);
    this.v4Lens = [];
    this.v6Lens = [];
    this.n4 = 0;
    this.n6 = 0;
    this.sum4 = undefined;
    this.sum6 = undefined;
    this.occ4 = undefined;
    this.occ6 = undefined;
    this.stale4 = 0;
    this.stale6 = 0;
    this.bit6 = new Int32Array(129);
    this.nextBit6 = 0;
    this.matched = undefined;
  }

  /** Bytes held by tables and filters. */
  get bytes(): number {
    let n = (this.sum4?.byteLength ?? 0) + (this.sum6?.byteLength ?? 0) + (this.occ4?.byteLength ?? 0) + (this.occ6?.byteLength ?? 0);
    for (const t of this.v4) if (t !== undefined) n += t.bytes;
    for (const t of this.v6) if (t !== undefined) n += t.bytes;
    return n;
  }

  table4(prefix: number): BucketTable | undefined {
    return this.v4[prefix];
  }

  table6(prefix: number): BucketTable | undefined {
    return this.v6[prefix];
  }

  /** Table of a key (undefined when that length has no entry). */
  tableOf(k: PrefixKey): BucketTable | undefined {
    return k.family === 4 ? this.v4[k.prefix] : this.v6[k.prefix];
  }

  // ---- IPv4: `key` masked to `prefix` ----

  findV4(key: number, prefix: number): number {
    const t = this.v4[prefix];
    return t === undefined ? NONE : t.find(key | 0, 0, 0, 0);
  }

  /** Adds an absent key; returns the bucket offset in table4(prefix). */
  insertV4(key: number, prefix: number, head: number): number {
    let t = this.v4[prefix];
    if (t === undefined) {
      t = new BucketTable(1, this.extra);
      t.tag = 4 | (prefix << 8);
      this.v4[prefix] = t;
      insertLen(this.v4Lens, prefix);
    }
    const off = t.insert(key | 0, 0, 0, 0, head);
    this.n4++;
    if (this.sum4 === undefined ? this.n4 >= SUMMARY_MIN : this.occ4 === undefined && this.n4 >= OCC_MIN) {
      this.rebuildSum4(); // touches only the filters: `off` stays valid
      return off;
    }
    if (this.sum4 !== undefined) {
      this.sum4[(key >>> 16) & 0xffff] |= BIT4[prefix];
      if (this.occ4 !== undefined && prefix >= 24) this.occ4[(key >>> 13) & (OCC_WORDS - 1)] |= 1 << ((key >>> 8) & 31);
    }
    return off;
  }

  removeV4(key: number, prefix: number): boolean {
    const t = this.v4[prefix];
    if (t === undefined) return false;
    const off = t.find(key | 0, 0, 0, 0);
    if (off === NONE) return false;
    t.removeAt(off);
    this.n4--;
    if (t.size === 0) {
      this.v4[prefix] = undefined;
      removeLen(this.v4Lens, prefix);
    }
    if (this.sum4 !== undefined && ++this.stale4 > Math.max(SUMMARY_MIN, this.n4)) this.rebuildSum4();
    return true;
  }

  private rebuildSum4(): void {
    this.stale4 = 0;
    if (this.n4 < SUMMARY_MIN / 2) {
      this.sum4 = undefined;
      this.occ4 = undefined;
      return;
    }
    const sum = this.sum4 ?? new Uint32Array(65536);
    sum.fill(0);
    const occ = this.n4 < OCC_MIN / 2 ? undefined : (this.occ4 ?? new Int32Array(OCC_WORDS));
    occ?.fill(0);
    for (const len of this.v4Lens) {
      const bit = BIT4[len];
      if (bit === 0) continue;
      const t = this.v4[len] as BucketTable;
      const buf = t.buf;
      for (let b = 0; b < buf.length; b += t.stride) {
        if (buf[b] === NONE) continue;
        const w0 = buf[b + t.keyOff];
        sum[w0 >>> 16] |= bit;
        if (occ !== undefined && len >= 24) occ[w0 >>> 13] |= 1 << ((w0 >>> 8) & 31);
      }
    }
    this.sum4 = sum;
    this.occ4 = occ;
  }

  // ---- IPv6: words masked to `prefix` ----

  findV6(w: ArrayLike<number>, prefix: number): number {
    const t = this.v6[prefix];
    return t === undefined ? NONE : t.find(w[0], t.words > 1 ? w[1] : 0, t.words > 2 ? w[2] : 0, t.words > 3 ? w[3] : 0);
  }

  insertV6(w: ArrayLike<number>, prefix: number, head: number): number {
    let t = this.v6[prefix];
    if (t === undefined) {
      t = new BucketTable(Math.max(1, (prefix + 31) >>> 5), this.extra);
      t.tag = 6 | (prefix << 8);
      this.v6[prefix] = t;
      insertLen(this.v6Lens, prefix);
    }
    const off = t.insert(w[0], t.words > 1 ? w[1] : 0, t.words > 2 ? w[2] : 0, t.words > 3 ? w[3] : 0, head);
    this.n6++;
    if (prefix >= 48 && this.bit6[prefix] === 0 && this.nextBit6 < 32) this.bit6[prefix] = 1 << this.nextBit6++;
    if (this.sum6 === undefined ? this.n6 >= SUMMARY_MIN : this.occ6 === undefined && this.n6 >= OCC_MIN) {
      this.rebuildSum6();
      return off;
    }
    if (this.sum6 !== undefined) {
      this.sum6[sum6Index(w[0], w[1])] |= this.bit6[prefix];
      if (this.occ6 !== undefined && prefix >= 64) {
        const b = occ6Bit(w[0], w[1]);
        this.occ6[b >>> 5] |= 1 << (b & 31);
      }
    }
    return off;
  }

  removeV6(w: ArrayLike<number>, prefix: number): boolean {
    const t = this.v6[prefix];
    if (t === undefined) return false;
    const off = this.findV6(w, prefix);
    if (off === NONE) return false;
    t.removeAt(off);
    this.n6--;
    if (t.size === 0) {
      this.v6[prefix] = undefined;
      removeLen(this.v6Lens, prefix);
    }
    if (this.sum6 !== undefined && ++this.stale6 > Math.max(SUMMARY_MIN, this.n6)) this.rebuildSum6();
    return true;
  }

  private rebuildSum6(): void {
    this.stale6 = 0;
    if (this.n6 < SUMMARY_MIN / 2) {
      this.sum6 = undefined;
      this.occ6 = undefined;
      return;
    }
    const sum = this.sum6 ?? new Uint32Array(1 << SUM6_BITS);
    sum.fill(0);
    const occ = this.n6 < OCC_MIN / 2 ? undefined : (this.occ6 ?? new Int32Array(OCC_WORDS));
    occ?.fill(0);
    for (const len of this.v6Lens) {
      const bit = this.bit6[len];
      const t = this.v6[len] as BucketTable;
      const buf = t.buf;
      for (let b = 0; b < buf.length; b += t.stride) {
        if (buf[b] === NONE) continue;
        const w0 = buf[b + t.keyOff];
        const w1 = t.words > 1 ? buf[b + t.keyOff + 1] : 0;
        if (bit !== 0) sum[sum6Index(w0, w1)] |= bit;
        if (occ !== undefined && len >= 64) {
          const n = occ6Bit(w0, w1);
          occ[n >>> 5] |= 1 << (n & 31);
        }
      }
    }
    this.sum6 = sum;
    this.occ6 = occ;
  }

  // ---- by PrefixKey ----

  find(k: PrefixKey): number {
    return k.family === 4 ? this.findV4(k.key, k.prefix) : this.findV6(k.key, k.prefix);
  }

  insert(k: PrefixKey, head: number): number {
    return k.family === 4 ? this.insertV4(k.key, k.prefix, head) : this.insertV6(k.key, k.prefix, head);
  }

  remove(k: PrefixKey): boolean {
    return k.family === 4 ? this.removeV4(k.key, k.prefix) : this.removeV6(k.key, k.prefix);
  }

  // ---- longest-prefix match ----

  /** Bucket of the longest prefix containing the IPv4 address (uint32 or int32), or NONE. */
  matchV4(addr: number, filter?: BucketFilter): number {
    const lens = this.v4Lens;
    const tables = this.v4;
    const sum = this.sum4;
    let m = sum === undefined ? -1 : sum[addr >>> 16];
    if (!testBit(this.occ4, addr >>> 8)) m &= 0xff; // nothing of length ≥ 24 in this /24
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i];
      const bit = BIT4[len];
      if (bit !== 0 && (m & bit) === 0) continue;
      const t = tables[len] as BucketTable;
      const off = t.find(addr & MASK4[len], 0, 0, 0);
      if (off !== NONE && (filter === undefined || filter(t, off))) {
        this.matched = t;
        return off;
      }
    }
    return NONE;
  }

  /** Bucket of the longest prefix containing the IPv6 address (8 hextets), or NONE. */
  matchV6(h: ArrayLike<number>, filter?: BucketFilter): number {
    const lens = this.v6Lens;
    if (lens.length === 0) return NONE;
    const tables = this.v6;
    const a0 = (h[0] << 16) | h[1];
    const a1 = (h[2] << 16) | h[3];
    const a2 = (h[4] << 16) | h[5];
    const a3 = (h[6] << 16) | h[7];
    const sum = this.sum6;
    const m = sum === undefined ? -1 : sum[sum6Index(a0, a1)];
    const occ = this.occ6;
    const deep = occ === undefined || testBit(occ, occ6Bit(a0, a1)); // anything of length ≥ 64 in this /64?
    const bits = this.bit6;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i];
      if (len >= 64 && !deep) continue;
      const bit = bits[len];
      if (bit !== 0 && (m & bit) === 0) continue;
      const t = tables[len] as BucketTable;
      const off = t.find(a0 & wordMask(len), a1 & wordMask(len - 32), a2 & wordMask(len - 64), a3 & wordMask(len - 96));
      if (off !== NONE && (filter === undefined || filter(t, off))) {
        this.matched = t;
        return off;
      }
    }
    return NONE;
  }

  /** Longest match for address text (IPv4, IPv6, IPv4-mapped IPv6); its head value, or NONE. */
  matchHead(ip: string): number {
    let off: number;
    const a = ipv4ToUint32(ip);
    if (a >= 0) off = this.matchV4(a);
    else if (!parseIpv6Into(ip, scratch)) return NONE;
    else off = isV4Mapped(scratch) ? this.matchV4(mappedV4(scratch)) : this.matchV6(scratch);
    return off === NONE ? NONE : (this.matched as BucketTable).buf[off];
  }

  /** Prefix lengths present, longest first. */
  lengths(family: 4 | 6): readonly number[] {
    return family === 4 ? this.v4Lens : this.v6Lens;
  }

  /** Every table, IPv4 first, longest first. Do not insert or remove meanwhile. */
  forEachTable(fn: (t: BucketTable, family: 4 | 6, prefix: number) => void): void {
    for (const len of [...this.v4Lens]) fn(this.v4[len] as BucketTable, 4, len);
    for (const len of [...this.v6Lens]) fn(this.v6[len] as BucketTable, 6, len);
  }

  /** Visits every entry: head value, family, prefix, key (int32 for IPv4, 4 words for IPv6). */
  forEach(fn: (head: number, family: 4 | 6, prefix: number, key: number | Int32Array) => void): void {
    this.forEachTable((t, family, prefix) => {
      const buf = t.buf;
      for (let b = 0; b < buf.length; b += t.stride) {
        if (buf[b] === NONE) continue;
        const key = family === 4 ? buf[b + t.keyOff] : Int32Array.of(t.keyWord(b, 0), t.keyWord(b, 1), t.keyWord(b, 2), t.keyWord(b, 3));
        fn(buf[b], family, prefix, key);
      }
    });
  }
}

/** Predicate for PrefixMap.longestMatch: false skips a candidate for shorter prefixes. */
export type MatchFilter<V> = (value: V) => boolean;

/** Longest-prefix-match map from CIDRs to any values. */
export class PrefixMap<V> {
  private readonly index = new PrefixIndex();
  private readonly values: (V | undefined)[] = [];
  private readonly freeIds: number[] = [];

  get size(): number {
    return this.index.size;
  }

  /** Sets a CIDR (or bare address: /32, /128); host bits are masked. Throws on an invalid CIDR. */
  set(cidr: string, value: V): this {
    const k = parsePrefixKey(cidr);
    if (k === undefined) throw new Error(`invalid CIDR or IP address: ${JSON.stringify(cidr)}`);
    const off = this.index.find(k);
    if (off !== NONE) {
      this.values[(this.index.tableOf(k) as BucketTable).buf[off]] = value;
    } else {
      const id = this.freeIds.length > 0 ? (this.freeIds.pop() as number) : this.values.length;
      this.values[id] = value;
      this.index.insert(k, id);
    }
    return this;
  }

  private idOf(k: PrefixKey | undefined): number {
    if (k === undefined) return NONE;
    const off = this.index.find(k);
    return off === NONE ? NONE : (this.index.tableOf(k) as BucketTable).buf[off];
  }

  get(cidr: string): V | undefined {
    const id = this.idOf(parsePrefixKey(cidr));
    return id === NONE ? undefined : this.values[id];
  }

  has(cidr: string): boolean {
    return this.idOf(parsePrefixKey(cidr)) !== NONE;
  }

  delete(cidr: string): boolean {
    const k = parsePrefixKey(cidr);
    const id = this.idOf(k);
    if (k === undefined || id === NONE) return false;
    this.index.remove(k);
    this.values[id] = undefined;
    this.freeIds.push(id);
    return true;
  }

  clear(): void {
    this.index.clear();
    this.values.length = 0;
    this.freeIds.length = 0;
  }

  /** Value of the longest prefix containing `ip` (IPv4, IPv6, or IPv4-mapped IPv6 text). */
  longestMatch(ip: string, filter?: MatchFilter<V>): V | undefined {
    if (filter === undefined) {
      const id = this.index.matchHead(ip);
      return id === NONE ? undefined : this.values[id];
    }
    const values = this.values;
    const f: BucketFilter = (t, off) => filter(values[t.buf[off]] as V);
    let off: number;
    const a = ipv4ToUint32(ip);
    if (a >= 0) off = this.index.matchV4(a, f);
    else if (!parseIpv6Into(ip, scratch)) return undefined;
    else off = isV4Mapped(scratch) ? this.index.matchV4(mappedV4(scratch), f) : this.index.matchV6(scratch, f);
    return off === NONE ? undefined : values[(this.index.matched as BucketTable).buf[off]];
  }

  /** Prefix lengths present, longest first. */
  lengths(family: 4 | 6): readonly number[] {
    return this.index.lengths(family);
  }

  /** [canonical CIDR, value] pairs, IPv4 first, longest prefixes first. */
  entries(): [string, V][] {
    const out: [string, V][] = [];
    this.index.forEach((id, family, prefix, key) => out.push([formatPrefixKey(family, prefix, key), this.values[id] as V]));
    return out;
  }
}

/** A set of CIDRs answering "is this address inside any of them". */
export class CidrSet {
  private readonly index = new PrefixIndex();

  /** Throws on the first invalid CIDR, naming it. Host bits are masked. */
  constructor(cidrs: Iterable<string> = []) {
    for (const c of cidrs) this.add(c);
  }

  add(cidr: string): this {
    const k = parsePrefixKey(cidr);
    if (k === undefined) throw new Error(`invalid CIDR or IP address: ${JSON.stringify(cidr)}`);
    if (this.index.find(k) === NONE) this.index.insert(k, 0);
    return this;
  }

  delete(cidr: string): boolean {
    const k = parsePrefixKey(cidr);
    return k !== undefined && this.index.remove(k);
  }

  /** Exact CIDR membership (after masking), not containment. */
  has(cidr: string): boolean {
    const k = parsePrefixKey(cidr);
    return k !== undefined && this.index.find(k) !== NONE;
  }

  /** True when `ip` lies inside any CIDR of the set. Invalid input is never contained. */
  contains(ip: string): boolean {
    return this.index.size !== 0 && this.index.matchHead(ip) !== NONE;
  }

  get size(): number {
    return this.index.size;
  }

  /** Canonical CIDRs of the set. */
  values(): string[] {
    const out: string[] = [];
    this.index.forEach((_v, family, prefix, key) => out.push(formatPrefixKey(family, prefix, key)));
    return out;
  }
}
