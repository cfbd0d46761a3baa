// The routing of a service as the data path uses it: its route table (each route with its compiled
// access and its pool) or its tcp pool, built once per load from the config. A rebuilt service
// takes over the health state of the targets it keeps (reload), found by route and target.
import { compileAuth, type ServiceAuth } from './auth/service';
import type { AccessConfig, AppSecConfig, DenyResponseConfig, HostPort, HttpServiceConfig, PoolConfig, RouteConfig, TcpServiceConfig } from './config/types';
import type { UpstreamTarget } from './forward/http';
import type { CompiledAccess } from './restrictions/chain';
import { compileAccess } from './restrictions/compile';
import type { TargetState } from './routing/health';
import { Pool } from './routing/pool';
import { RouteTable } from './routing/route-table';
import { stickyId } from './routing/sticky';

/** The name of the default route (the service's own target or targets) in logs, metrics and status. */
export const DEFAULT_ROUTE = 'default';

export interface RouteRuntime {
  /** The configured prefix; "" for the default route. */
  readonly path: string;
  /** The prefix, or "default". */
  readonly name: string;
  readonly pool: Pool<URL, UpstreamTarget>;
  /** What replaces `path` before the request goes upstream; undefined: the path is kept. */
  readonly rewrite: string | undefined;
  readonly headers: RouteConfig['headers'];
  readonly access: CompiledAccess;
  /** AppSec for this route: the route's access.appsec, or the service's. */
  readonly appsec: AppSecConfig;
  readonly deny: DenyResponseConfig;
  /** The path of the sticky cookie. */
  readonly cookiePath: string;
  /** Who may use the route: its own auth, the service's (the same object), or none. */
  readonly auth: ServiceAuth | undefined;
}

export type HttpRouting = RouteTable<RouteRuntime>;

/** States of the previous runtime's targets, by route name and target. */
export type PreviousStates = (route: string, target: string) => TargetState | undefined;

export function buildHttpRouting(
  config: HttpServiceConfig,
  access: CompiledAccess,
  previous: PreviousStates | undefined,
  auth: ServiceAuth | undefined,
): HttpRouting | undefined {
  if (config.pool === undefined && config.routes === undefined) return undefined;
  const single: PoolConfig<URL> = {
    targets: [{ address: config.target, weight: 1, backup: false }],
    balance: 'round_robin',
    maxFails: 1,
    failTimeoutMs: 10_000,
  };
  const defaultPool = httpPool(config.name, DEFAULT_ROUTE, config.pool ?? single, previous);
  const fallback: RouteRuntime = {
    path: '',
    name: DEFAULT_ROUTE,
    pool: defaultPool,
    rewrite: undefined,
    headers: { set: [], remove: [] },
    access,
    appsec: config.access.appsec,
    deny: config.deny,
    cookiePath: '/',
    auth,
  };
  const compiled = new Map<AccessConfig, CompiledAccess>([[config.access, access]]);
  const routes = (config.routes ?? []).map((r): RouteRuntime => {
    let routeAccess = compiled.get(r.access);
    if (routeAccess === undefined) compiled.set(r.access, (routeAccess = compileAccess(r.access)));
    return {
      path: r.path,
      name: r.path,
      pool: r.pool === undefined ? defaultPool : httpPool(config.name, r.path, r.pool, previous),
      rewrite: r.rewrite,
      headers: r.headers,
      access: routeAccess,
      appsec: r.access.appsec,
      deny: r.deny,
      cookiePath: r.pool === undefined ? '/' : cookiePath(r.path),
      auth: r.auth === config.auth ? auth : r.auth && compileAuth(r.auth, r.path),
    };
  });
  return new RouteTable(routes, fallback);
}

export function buildTcpPool(config: TcpServiceConfig, previous: PreviousStates | undefined): Pool<HostPort, HostPort> | undefined {
  if (config.pool === undefined) return undefined;
  return new Pool(
    config.pool,
    (key) => stickyId(config.name, key),
    (a) => a,
    previous === undefined ? undefined : (key) => previous(DEFAULT_ROUTE, key),
  );
}

function httpPool(service: string, route: string, config: PoolConfig<URL>, previous: PreviousStates | undefined): Pool<URL, UpstreamTarget> {
  return new Pool(
    config,
    (key) => stickyId(`${service}\n${route}`, key),
    (url) => ({ service, url }),
    previous === undefined ? undefined : (key) => previous(route, key),
  );
}

/** The cookie of a route is sent for the route's paths only ("/api/" for /api/ and /api/x; "/api" for /api and /apix). */
function cookiePath(path: string): string {
  const slash = path.lastIndexOf('/');
  return slash <= 0 ? '/' : path.slice(0, slash + 1);
}

/** Each pool of a routing once (routes without targets share the default route's). */
export function poolsOf(routing: HttpRouting): Array<{ route: string; pool: Pool<URL, UpstreamTarget> }> {
  const out = [{ route: DEFAULT_ROUTE, pool: routing.fallback.pool }];
  for (const r of routing.routes) if (r.pool !== routing.fallback.pool) out.push({ route: r.name, pool: r.pool });
  return out;
}
