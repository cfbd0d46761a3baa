// Who is the client?
//
//  - The socket peer, with IPv4-mapped IPv6 (::ffff:1.2.3.4) normalised to IPv4.
//  - HTTP, peer inside --trusted-proxies: the right-most X-Forwarded-For entry that
//    is not trusted (see walkForwardedFor for the invalid-entry and all-trusted cases).
//  - --proxy-protocol, peer inside --trusted-proxies: the source address of the PROXY
//    header (see readProxyHeader); the header is never read from an untrusted peer.
// Nothing an untrusted peer sends changes the client IP.

import { normalizeIp } from '../net/ip';
import { walkForwardedFor } from './forwarded-for';

/** The --trusted-proxies set, as seen by this module. `ip` is always normalised. */
export interface TrustedSet {
  contains(ip: string): boolean;
}

/** The normalised socket peer address; '' when unknown (socket already closed) or not an IP. */
export function clientIpFromPeer(peer: string | undefined): string {
  if (peer === undefined || peer === '') return '';
  return normalizeIp(peer) ?? '';
}

/**
 * The client of an HTTP request. `peer` is the socket's remoteAddress (or the PROXY
 * header source when one was accepted); `xff` the X-Forwarded-For header(s).
 * X-Forwarded-For is only consulted when the peer is trusted.
 */
export function resolveHttpClientIp(peer: string, xff: string | string[] | undefined, trusted: TrustedSet): string {
  const peerIp = clientIpFromPeer(peer);
  if (peerIp === '' || !trusted.contains(peerIp)) return peerIp;
  return walkForwardedFor(peerIp, xff, trusted);
}
