// A longest-prefix-match map from CIDRs to any values, built on PrefixIndex. The daemon only
// needs CidrSet and the decision store; this generic map lets the tests drive the index (every
// length, deletions, filters) and compare it with a simple reference.
import { NONE, type BucketTable } from '../../../src/net/bucket-table';
import { formatPrefixKey, ipv4ToUint32, isV4Mapped, mappedV4, parseIpv6Into, parsePrefixKey, type PrefixKey } from '../../../src/net/ip';
import { PrefixIndex, type BucketFilter } from '../../../src/net/prefix-index';

const scratch = new Uint16Array(8);

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
