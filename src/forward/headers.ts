// The forwarding headers an upstream receives (table in docs/client-ip.md).
//
// From an untrusted peer every client-IP header is dropped and rewritten from what the proxy
// knows, so an application that trusts any of them trusts the proxy, not the client. From a
// trusted peer (inside --trusted-proxies) they are kept and extended.
import type { IncomingHttpHeaders } from 'node:http';
import type { ForwardedFor } from '../client-ip/forwarded-for';
import type { Peer } from '../client-ip/peer';

/** Headers some upstream application or framework reads as "the client's address" or scheme. */
const CLIENT_CLAIMS = [
  'forwarded',
  'x-real-ip',
  'true-client-ip',
  'x-client-ip',
  'x-cluster-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-original-forwarded-for',
  'x-forwarded',
  'forwarded-for',
  'x-forwarded-port',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-scheme',
  'x-forwarded-ssl',
  'front-end-https',
] as const;

/** The identity headers auth sends upstream (src/auth/): never taken from a client, on any service. */
const IDENTITY_CLAIMS = ['x-auth-user', 'x-auth-email', 'x-auth-groups'] as const;

export interface ForwardingContext {
  peer: Peer;
  forwardedFor: ForwardedFor;
  /** "http" or "https": the scheme the client used to reach the proxy. */
  scheme: string;
  /** The proxy's own port the client connected to. */
  port: number;
}

export function setForwardingHeaders(headers: IncomingHttpHeaders, ctx: ForwardingContext): void {
  if (!ctx.peer.trusted) {
    for (const name of CLIENT_CLAIMS) if (headers[name] !== undefined) delete headers[name];
  }
  for (const name of IDENTITY_CLAIMS) if (headers[name] !== undefined) delete headers[name];
  headers['x-forwarded-for'] = ctx.forwardedFor.header;
  if (headers['x-real-ip'] === undefined) headers['x-real-ip'] = ctx.forwardedFor.clientIp;
  if (headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = ctx.scheme;
  if (headers['x-forwarded-port'] === undefined) headers['x-forwarded-port'] = String(ctx.port);
  if (headers['x-forwarded-host'] === undefined && headers.host !== undefined) headers['x-forwarded-host'] = headers.host;
  const forwarded = headers.forwarded;
  if (forwarded !== undefined) headers.forwarded = `${forwarded}, for=${forwardedNode(ctx.peer.address)}`;
}

/** RFC 7239 node: IPv6 is quoted and bracketed. */
function forwardedNode(address: string): string {
  return address.includes(':') ? `"[${address}]"` : address;
}
