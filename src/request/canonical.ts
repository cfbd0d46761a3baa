// The canonical request (docs/request-hygiene.md): one decision per request, taken before
// routing, restrictions or forwarding, with the same rules for HTTP, HTTPS and upgrades. It takes
// plain values (method, Host, target, version, the few headers it judges) so that any front end
// (HTTP/1 today, HTTP/2's :method/:authority/:path) can feed it. Pure.
import { expectStatus, transferEncodingStatus } from './framing';
import { canonicalHost } from './host';
import { canonicalTarget } from './target';

export interface RequestHead {
  method: string;
  /** The Host header (HTTP/2: :authority); undefined when absent. */
  host: string | undefined;
  /** How many Host header lines the request had (more than one is a 400). */
  hostCount: number;
  /** The request target as received. */
  target: string;
  /** "1.0", "1.1", "2.0". */
  httpVersion: string;
  transferEncoding: string | undefined;
  expect: string | undefined;
}

export type RefusalReason = 'method' | 'target' | 'host' | 'transfer_encoding' | 'expect';

export type Canonical =
  | {
      ok: true;
      /** name[:port] for the upstream's Host; undefined: an HTTP/1.0 request without Host. */
      host: string | undefined;
      /** What routing matches: the name without port. */
      routeName: string | undefined;
      /** origin-form or "*". */
      target: string;
    }
  | { ok: false; status: 400 | 405 | 417 | 501; reason: RefusalReason };

export function canonicalRequest(head: RequestHead): Canonical {
  const target = canonicalTarget(head.method, head.target);
  if (!target.ok) return { ok: false, status: target.status, reason: target.status === 405 ? 'method' : 'target' };
  // RFC 9112 §3.2: exactly one Host in HTTP/1.1; §3.2.2: an absolute-form target's authority wins over it.
  if (head.hostCount > 1) return { ok: false, status: 400, reason: 'host' };
  const rawHost = target.authority ?? head.host;
  let host: string | undefined;
  let routeName: string | undefined;
  if (rawHost !== undefined) {
    const canonical = canonicalHost(rawHost);
    if (canonical === undefined) return { ok: false, status: 400, reason: 'host' };
    host = canonical.host;
    routeName = canonical.name;
  } else if (head.httpVersion !== '1.0') {
    return { ok: false, status: 400, reason: 'host' };
  }
  const te = transferEncodingStatus(head.transferEncoding, head.httpVersion);
  if (te !== undefined) return { ok: false, status: te, reason: 'transfer_encoding' };
  const expect = expectStatus(head.expect);
  if (expect !== undefined) return { ok: false, status: expect, reason: 'expect' };
  return { ok: true, host, routeName, target: target.target };
}
