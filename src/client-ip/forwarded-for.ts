// X-Forwarded-For: one parse of the incoming header gives both the client and the value to send
// upstream.
//
// Header shape: a comma-separated list of addresses, left-most = original client, each proxy
// appending the address it received the request from. Several X-Forwarded-For headers are one
// list in order (Node joins repeated headers with ", " in `req.headers`; arrays are accepted too).
//
// Only a trusted peer's list is read: the right-most entry that is not trusted is the client.
// Nothing an untrusted peer sends changes the client IP.

import type { IpSet } from '../net/ip-set';
import { parsePort } from '../net/port';
import { toClientAddress, type ClientAddress, type Peer } from './peer';

export interface ForwardedFor {
  clientIp: ClientAddress;
  /** The X-Forwarded-For value for the upstream: the trusted list with the peer appended, or the peer alone. */
  header: string;
}

export function resolveForwardedFor(peer: Peer, xff: string | string[] | undefined, trusted: IpSet): ForwardedFor {
  if (!peer.trusted || xff === undefined) return { clientIp: peer.address, header: peer.address };
  const entries = forwardedForEntries(xff);
  entries.push(peer.address);
  return { clientIp: walk(entries, trusted), header: entries.join(', ') };
}

/** The raw entries of one or more X-Forwarded-For headers, left to right, trimmed, empties dropped. */
export function forwardedForEntries(xff: string | string[]): string[] {
  const headers = typeof xff === 'string' ? [xff] : xff;
  const out: string[] = [];
  for (const h of headers) {
    for (const part of h.split(',')) {
      const e = part.trim();
      if (e !== '') out.push(e);
    }
  }
  return out;
}

/**
 * Right to left from the trusted peer (the last entry): the right-most entry that is not trusted.
 *  - an entry that is not an address stops the walk, and the last trusted address examined is the
 *    client (nginx `real_ip_recursive on`): nothing left of garbage can be believed;
 *  - every entry trusted: the left-most entry is the client (the request began inside the trusted
 *    network).
 */
function walk(entries: string[], trusted: IpSet): ClientAddress {
  let current = entries[entries.length - 1] as ClientAddress;
  for (let i = entries.length - 2; i >= 0; i--) {
    const ip = parseForwardedForEntry(entries[i] as string);
    if (ip === undefined) return current;
    current = ip;
    if (!trusted.contains(ip)) return ip;
  }
  return current;
}

/**
 * One X-Forwarded-For entry to a normalised IP, or undefined when it is not an address.
 * Accepts `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443`,
 * `::ffff:1.2.3.4` (-> 1.2.3.4). Refuses zone ids, hostnames, `unknown`, obfuscated ids.
 */
export function parseForwardedForEntry(entry: string): ClientAddress | undefined {
  let addr = entry.trim();
  if (addr.startsWith('[')) {
    const close = addr.indexOf(']');
    if (close < 0) return undefined;
    const rest = addr.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && parsePort(rest, 1) >= 0)) return undefined;
    addr = addr.slice(1, close);
    // Brackets are only for IPv6.
    if (!addr.includes(':')) return undefined;
  } else {
    const first = addr.indexOf(':');
    if (first >= 0 && first === addr.lastIndexOf(':')) {
      // Exactly one colon: IPv4 (or a name) with a port.
      if (parsePort(addr, first + 1) < 0) return undefined;
      addr = addr.slice(0, first);
    }
  }
  if (addr.includes('%')) return undefined;
  return toClientAddress(addr);
}
