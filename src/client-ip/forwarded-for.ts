// X-Forwarded-For: parsing, the right-to-left trusted walk, and the outgoing value.
//
// Header shape: a comma-separated list of addresses, left-most = original client,
// each proxy appending the address it received the request from. Several
// X-Forwarded-For headers are one list in order (Node joins repeated headers with
// ", " in `req.headers`; `req.headersDistinct`/arrays are accepted too).

import { normalizeIp } from '../net/ip';
import type { TrustedSet } from './resolve';

/** The raw entries of one or more X-Forwarded-For headers, left to right, trimmed, empties dropped. */
export function forwardedForEntries(xff: string | string[] | undefined): string[] {
  if (xff === undefined) return [];
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

function isPort(s: string): boolean {
  return /^[0-9]{1,5}$/.test(s) && Number(s) <= 65535;
}

/**
 * One X-Forwarded-For entry to a normalised IP, or undefined when it is not an address.
 * Accepts `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1`, `[2001:db8::1]`, `[2001:db8::1]:443`,
 * `::ffff:1.2.3.4` (-> 1.2.3.4). Refuses zone ids, hostnames, `unknown`, obfuscated ids.
 */
export function parseForwardedForEntry(entry: string): string | undefined {
  let addr = entry.trim();
  if (addr.startsWith('[')) {
    const close = addr.indexOf(']');
    if (close < 0) return undefined;
    const rest = addr.slice(close + 1);
    if (rest !== '' && !(rest.startsWith(':') && isPort(rest.slice(1)))) return undefined;
    addr = addr.slice(1, close);
    // Brackets are only for IPv6.
    if (!addr.includes(':')) return undefined;
  } else {
    const first = addr.indexOf(':');
    if (first >= 0 && first === addr.lastIndexOf(':')) {
      // Exactly one colon: IPv4 (or a name) with a port.
      const port = addr.slice(first + 1);
      if (!isPort(port)) return undefined;
      addr = addr.slice(0, first);
      if (addr.includes(':')) return undefined;
    }
  }
  if (addr === '' || addr.includes('%')) return undefined;
  return normalizeIp(addr);
}

/**
 * Walk X-Forwarded-For right to left starting from a trusted peer.
 *
 * Returns the right-most entry that is not trusted. Two edge cases:
 *  - an entry that is not an address stops the walk, and the last trusted
 *    address examined is the client (nginx `real_ip_recursive on` behaviour):
 *    nothing left of garbage can be believed;
 *  - every entry trusted: the left-most entry is the client (the request began
 *    inside the trusted network). With no entries at all, the peer itself.
 *
 * `peerIp` must be normalised and trusted; the caller checks.
 */
export function walkForwardedFor(peerIp: string, xff: string | string[] | undefined, trusted: TrustedSet): string {
  const entries = forwardedForEntries(xff);
  let current = peerIp;
  for (let i = entries.length - 1; i >= 0; i--) {
    const ip = parseForwardedForEntry(entries[i] as string);
    if (ip === undefined) return current;
    current = ip;
    if (!trusted.contains(ip)) return ip;
  }
  return current;
}

/**
 * The X-Forwarded-For value to send upstream.
 *  - peer trusted: the incoming list (entries trimmed, joined with ", ") with the peer appended;
 *  - peer not trusted: the peer alone — whatever an untrusted client claims is dropped.
 * The peer is normalised (::ffff:1.2.3.4 -> 1.2.3.4). When the peer is unknown nothing is
 * appended ('' for an untrusted or unknown peer with no incoming list); callers may omit the
 * header when the result is ''.
 */
export function buildForwardedFor(incoming: string | string[] | undefined, peer: string, peerTrusted: boolean): string {
  const peerIp = peer === '' ? undefined : normalizeIp(peer);
  const list = peerTrusted ? forwardedForEntries(incoming) : [];
  if (peerIp !== undefined) list.push(peerIp);
  return list.join(', ');
}
