// The canonical request applied to an HTTP/1 request in place, at admission (docs/request-hygiene.md):
// after it, routing, restrictions, redirects and the forwarder see only the canonical Host and
// origin-form target, and no hop-by-hop header of the client's.
import type { IncomingMessage } from 'node:http';
import { resolveForwardedFor } from '../client-ip/forwarded-for';
import { isHttp2Request } from '../forward/h2-response';
import type { Peer } from '../client-ip/peer';
import type { IpSet } from '../net/ip-set';
import { canonicalRequest } from '../request/canonical';
import { stripRequestHopByHop } from '../request/hop-by-hop';
import type { Admission } from './admission';
import { requestIdFor } from './request-id';

/** Rewrites `req` to its canonical form; returns the status to refuse it with, or undefined. */
export function canonicalizeInPlace(req: IncomingMessage, websocket: boolean): number | undefined {
  // An HTTP/1 connection whose request line claims another major version (HTTP/2.0 is only ever
  // spoken after ALPN h2, where Node's HTTP/2 server makes the request).
  if (req.httpVersionMajor !== 1 && !isHttp2Request(req)) return 505;
  const headers = req.headers;
  const result = canonicalRequest({
    method: req.method ?? '',
    host: headers.host,
    hostCount: countHost(req.rawHeaders),
    target: req.url ?? '',
    httpVersion: req.httpVersion,
    transferEncoding: headers['transfer-encoding'],
    expect: headers.expect,
  });
  if (!result.ok) return result.status;
  req.url = result.target;
  if (result.host !== undefined) headers.host = result.host;
  stripRequestHopByHop(headers, websocket);
  return undefined;
}

/** Node keeps the first of several Host lines; RFC 9112 §3.2 makes more than one a 400. */
function countHost(raw: string[]): number {
  let n = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    if (name.length === 4 && name.toLowerCase() === 'host') n++;
  }
  return n;
}

/** The admission of a request refused before routing: who sent it, for its access entry. */
export function refusedAdmission(trusted: IpSet, req: IncomingMessage, peer: Peer): Admission {
  const forwardedFor = resolveForwardedFor(peer, req.headers['x-forwarded-for'], trusted);
  return { requestId: requestIdFor(peer, req.headers['x-request-id']), service: undefined, clientIp: forwardedFor.clientIp, verdict: undefined };
}
