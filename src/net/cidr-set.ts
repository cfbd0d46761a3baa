// A set of CIDRs answering "is this address inside any of them": CIDR rules and trusted proxies.
import { formatPrefixKey, parsePrefixKey } from './ip';
import type { IpSet } from './ip-set';
import { NONE } from './bucket-table';
import { PrefixIndex } from './prefix-index';

/** A set of CIDRs answering "is this address inside any of them". */
export class CidrSet implements IpSet {
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
