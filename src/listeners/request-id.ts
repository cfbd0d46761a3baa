// The request id of every HTTP access entry, sent upstream as X-Request-Id and shown on the deny
// page. A client's own X-Request-Id is kept only from a peer inside --trusted-proxies (a proxy in
// front that already assigned one) and only when it is short and plain; otherwise one is made
// here: a random per-process prefix and a counter, unique across restarts without costing a
// random draw per request.
import { randomBytes } from 'node:crypto';
import type { Peer } from '../client-ip/peer';

const SANE = /^[A-Za-z0-9._-]{1,128}$/;
const PREFIX = `${randomBytes(6).toString('hex')}-`;
let counter = 0;

export function newRequestId(): string {
  counter = counter === Number.MAX_SAFE_INTEGER ? 0 : counter + 1;
  return PREFIX + counter.toString(36);
}

/** The client's id when its peer is trusted and the id is sane, else a fresh one. */
export function requestIdFor(peer: Peer, header: string | string[] | undefined): string {
  if (peer.trusted && typeof header === 'string' && SANE.test(header)) return header;
  return newRequestId();
}
