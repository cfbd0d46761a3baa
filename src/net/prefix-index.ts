// Longest-prefix-match index for IPv4 and IPv6 CIDRs.
// (~390 lines: the tables, the summary filters and the lookups are one engine that keeps them in
// step on every insert and remove; BucketTable, the storage, is in bucket-table.ts.)
//
// One hash table (BucketTable) per prefix length that is present, lengths visited longest first: a
// lookup parses the address once and probes at most one table per present length — never a scan
// of entries. A bucket is [head, payload..., key words]: `head` is an int ≥ 0 (NONE marks an empty
// bucket) and the payload lets a caller keep its record inside the bucket, so that a hit costs one
// cache miss (the decision store does this).
//
// Summary filters let a lookup skip most lengths that have nothing near the address (see
// PrefixIndex), which matters once ranges of many lengths are present.

import { MASK4, ipv4ToUint32, isV4Mapped, mappedV4, parseIpv6Into, wordMask, type PrefixKey } from './ip';
import { BucketTable, NONE, fmix } from './bucket-table';

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
