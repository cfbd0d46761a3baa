// Longest-prefix-match map for IPv4 and IPv6 CIDRs. One Map per prefix length that is present,
// lengths visited longest first; a lookup parses the address once and does at most one Map.get per
// present length (never a scan of the entries).
//   IPv4: keys are the masked address as int32 (a Smi: no allocation, cheap hashing).
//   IPv6: keys are ipv6Key() strings, ceil(len/16) UTF-16 units (BigInt keys were rejected: V8 hashes
//         a BigInt by its low 64 bits only, so every /64-or-shorter key would collide).

import {
  MASK4,
  ipv4ToUint32,
  ipv6Key,
  isV4Mapped,
  mappedV4,
  parseIpv6Into,
  parsePrefixKey,
  formatPrefixKey,
  type PrefixKey,
} from './ip';

/** Predicate for match*(): return false to skip a candidate and continue with shorter prefixes. */
export type MatchFilter<V> = (value: V) => boolean;

const scratch = new Uint16Array(8);

function insertLen(lens: number[], len: number): void {
  let i = 0;
  while (i < lens.length && lens[i] > len) i++;
  lens.splice(i, 0, len);
}

function removeLen(lens: number[], len: number): void {
  const i = lens.indexOf(len);
  if (i >= 0) lens.splice(i, 1);
}

export class PrefixMap<V> {
  private readonly v4 = new Array<Map<number, V> | undefined>(33).fill(undefined);
  private readonly v6 = new Array<Map<string, V> | undefined>(129).fill(undefined);
  /** Present lengths, longest first. */
  private v4Lens: number[] = [];
  private v6Lens: number[] = [];
  private _size = 0;

  get size(): number {
    return this._size;
  }

  /** Sets a CIDR (or bare address); host bits are masked. Throws on an invalid CIDR. */
  set(cidr: string, value: V): this {
    const k = parsePrefixKey(cidr);
    if (k === undefined) throw new Error(`invalid CIDR or IP address: ${JSON.stringify(cidr)}`);
    this.setKey(k, value);
    return this;
  }

  get(cidr: string): V | undefined {
    const k = parsePrefixKey(cidr);
    return k === undefined ? undefined : this.getKey(k);
  }

  has(cidr: string): boolean {
    return this.get(cidr) !== undefined;
  }

  delete(cidr: string): boolean {
    const k = parsePrefixKey(cidr);
    return k === undefined ? false : this.deleteKey(k);
  }

  clear(): void {
    this.v4.fill(undefined);
    this.v6.fill(undefined);
    this.v4Lens = [];
    this.v6Lens = [];
    this._size = 0;
  }

  // ---- keyed access (callers that already parsed a PrefixKey) ----

  setKey(k: PrefixKey, value: V): void {
    if (k.family === 4) this.setV4(k.key, k.prefix, value);
    else this.setV6(k.key, k.prefix, value);
  }

  getKey(k: PrefixKey): V | undefined {
    return k.family === 4 ? this.getV4(k.key, k.prefix) : this.getV6(k.key, k.prefix);
  }

  deleteKey(k: PrefixKey): boolean {
    return k.family === 4 ? this.deleteV4(k.key, k.prefix) : this.deleteV6(k.key, k.prefix);
  }

  /** `key` must already be masked to `prefix` (int32 or uint32). */
  setV4(key: number, prefix: number, value: V): void {
    let m = this.v4[prefix];
    if (m === undefined) {
      m = new Map();
      this.v4[prefix] = m;
      insertLen(this.v4Lens, prefix);
    }
    const before = m.size;
    m.set(key | 0, value);
    this._size += m.size - before;
  }

  getV4(key: number, prefix: number): V | undefined {
    return this.v4[prefix]?.get(key | 0);
  }

  deleteV4(key: number, prefix: number): boolean {
    const m = this.v4[prefix];
    if (m === undefined || !m.delete(key | 0)) return false;
    this._size--;
    if (m.size === 0) {
      this.v4[prefix] = undefined;
      removeLen(this.v4Lens, prefix);
    }
    return true;
  }

  /** `key` must be ipv6Key(address, prefix). */
  setV6(key: string, prefix: number, value: V): void {
    let m = this.v6[prefix];
    if (m === undefined) {
      m = new Map();
      this.v6[prefix] = m;
      insertLen(this.v6Lens, prefix);
    }
    const before = m.size;
    m.set(key, value);
    this._size += m.size - before;
  }

  getV6(key: string, prefix: number): V | undefined {
    return this.v6[prefix]?.get(key);
  }

  deleteV6(key: string, prefix: number): boolean {
    const m = this.v6[prefix];
    if (m === undefined || !m.delete(key)) return false;
    this._size--;
    if (m.size === 0) {
      this.v6[prefix] = undefined;
      removeLen(this.v6Lens, prefix);
    }
    return true;
  }

  // ---- longest-prefix match ----

  /** Value of the longest prefix containing `ip` (IPv4, IPv6, or IPv4-mapped IPv6 text). */
  longestMatch(ip: string, filter?: MatchFilter<V>): V | undefined {
    const a = ipv4ToUint32(ip);
    if (a >= 0) return this.matchV4(a, filter);
    if (!parseIpv6Into(ip, scratch)) return undefined;
    if (isV4Mapped(scratch)) return this.matchV4(mappedV4(scratch), filter);
    return this.matchV6(scratch, filter);
  }

  /** Longest match for an IPv4 address given as uint32/int32. */
  matchV4(addr: number, filter?: MatchFilter<V>): V | undefined {
    const lens = this.v4Lens;
    const maps = this.v4;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i];
      const v = (maps[len] as Map<number, V>).get(addr & MASK4[len]);
      if (v !== undefined && (filter === undefined || filter(v))) return v;
    }
    return undefined;
  }

  /** Longest match for an IPv6 address given as 8 hextets. */
  matchV6(h: ArrayLike<number>, filter?: MatchFilter<V>): V | undefined {
    const lens = this.v6Lens;
    const maps = this.v6;
    for (let i = 0; i < lens.length; i++) {
      const len = lens[i];
      const v = (maps[len] as Map<string, V>).get(ipv6Key(h, len));
      if (v !== undefined && (filter === undefined || filter(v))) return v;
    }
    return undefined;
  }

  /** Prefix lengths present, longest first. */
  lengths(family: 4 | 6): readonly number[] {
    return family === 4 ? this.v4Lens : this.v6Lens;
  }

  /** Visits every entry (IPv4 first, longest prefixes first). Do not modify the map meanwhile. */
  forEach(fn: (value: V, family: 4 | 6, prefix: number, key: number | string) => void): void {
    for (const len of this.v4Lens) (this.v4[len] as Map<number, V>).forEach((v, k) => fn(v, 4, len, k));
    for (const len of this.v6Lens) (this.v6[len] as Map<string, V>).forEach((v, k) => fn(v, 6, len, k));
  }

  /** [canonical CIDR, value] pairs. */
  *entries(): IterableIterator<[string, V]> {
    for (const len of [...this.v4Lens]) {
      const m = this.v4[len];
      if (m !== undefined) for (const [k, v] of m) yield [formatPrefixKey(4, len, k), v];
    }
    for (const len of [...this.v6Lens]) {
      const m = this.v6[len];
      if (m !== undefined) for (const [k, v] of m) yield [formatPrefixKey(6, len, k), v];
    }
  }
}

/** A set of CIDRs answering "is this address inside any of them". */
export class CidrSet {
  private readonly map = new PrefixMap<true>();

  /** Throws on the first invalid CIDR, naming it. Host bits are masked. */
  constructor(cidrs: Iterable<string> = []) {
    for (const c of cidrs) this.add(c);
  }

  add(cidr: string): this {
    this.map.set(cidr, true);
    return this;
  }

  delete(cidr: string): boolean {
    return this.map.delete(cidr);
  }

  /** Exact CIDR membership (after masking), not containment. */
  has(cidr: string): boolean {
    return this.map.get(cidr) === true;
  }

  /** True when `ip` lies inside any CIDR of the set. Invalid input is never contained. */
  contains(ip: string): boolean {
    return this.map.size !== 0 && this.map.longestMatch(ip) === true;
  }

  get size(): number {
    return this.map.size;
  }

  /** Canonical CIDRs of the set. */
  values(): string[] {
    return [...this.map.entries()].map(([c]) => c);
  }
}
