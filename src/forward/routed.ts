// What the forwarder does for a request of a routed service before it goes upstream: the target
// (balancer, sticky cookie), the path rewrite and the route's request headers.
import type { IncomingMessage } from 'node:http';
import type { Member, Pool } from '../routing/pool';
import { requestPath } from '../routing/route-table';
import { stickyValues } from '../routing/sticky';
import type { UpstreamTarget } from './target';

/** A route as the forwarder sees it (src/service-routes.ts builds them). */
export interface ForwardRoute {
  /** The configured prefix; "" for the default route. */
  readonly path: string;
  /** The prefix, or "default": the access line's `route`. */
  readonly name: string;
  readonly pool: Pool<URL, UpstreamTarget>;
  readonly rewrite: string | undefined;
  readonly headers: { set: [string, string][]; remove: string[] };
  readonly cookiePath: string;
}

export type HttpMember = Member<URL, UpstreamTarget>;

const cookies: string[] = [];

/** Whether the last chooseMember() fell back from the sticky cookie (a new cookie must be set); a variable, not a returned pair, so that choosing allocates nothing. */
let missedSticky = false;

export function stickyMissed(): boolean {
  return missedSticky;
}

/** The target for a new request: the sticky cookie's when it names one that is up, else the balancer's. */
export function chooseMember(route: ForwardRoute, req: IncomingMessage, clientIp: string, nowMs: number): HttpMember | undefined {
  const pool = route.pool;
  missedSticky = false;
  if (pool.balance !== 'cookie') return pool.pick(clientIp, nowMs);
  for (const id of stickyValues(req.headers.cookie, cookies)) {
    const m = pool.byId(id, nowMs);
    if (m !== undefined) return m;
  }
  const member = pool.pick(clientIp, nowMs);
  missedSticky = member !== undefined;
  return member;
}

/** Rewrites the path (strip_prefix / rewrite) and sets/removes the route's request headers. */
export function applyRoute(route: ForwardRoute, req: IncomingMessage): void {
  if (route.rewrite !== undefined) {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const query = q < 0 ? '' : url.slice(q);
    const raw = q < 0 ? url : url.slice(0, q);
    const path = requestPath(url);
    const rest = path.slice(route.path.length);
    let next = route.rewrite + rest;
    if (next === '') next = '/';
    else if (next.charCodeAt(0) !== 47) next = `/${next}`;
    // A path that was normalised for matching is decoded: escape it again for the request line.
    if (path !== raw) next = next.replace(/[^!$&'()*+,\-./0-9:;=@A-Z_a-z~]/gu, encodeURIComponent);
    req.url = next + query;
  }
  const headers = req.headers;
  for (const name of route.headers.remove) delete headers[name];
  for (const [name, value] of route.headers.set) headers[name] = value;
}
