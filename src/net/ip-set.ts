/** "Is this address in the set": trusted proxies, CIDR rules, anything keyed by client address. */
export interface IpSet {
  /** `ip` is a normalised address (see normalizeIp); anything else is never contained. */
  contains(ip: string): boolean;
}
