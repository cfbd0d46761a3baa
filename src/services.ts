// A service as the data path uses it: its config plus what is compiled from it once per load.
import type { HostPort, HttpServiceConfig, ServiceConfig, TcpServiceConfig } from './config/types';
import type { UpstreamTarget } from './forward/http';
import { compileAuth, type ServiceAuth } from './auth/service';
import type { CompiledAccess } from './restrictions/chain';
import { compileAccess } from './restrictions/compile';
import type { Pool } from './routing/pool';
import { buildHttpRouting, buildTcpPool, DEFAULT_ROUTE, poolsOf, type HttpRouting, type PreviousStates } from './service-routes';

export interface HttpServiceRuntime {
  readonly name: string;
  readonly config: HttpServiceConfig;
  readonly access: CompiledAccess;
  readonly target: UpstreamTarget;
  /** Routes and/or several targets; undefined for a service with one target and no routes. */
  readonly routing?: HttpRouting;
  readonly auth?: ServiceAuth;
}

export interface TcpServiceRuntime {
  readonly name: string;
  readonly config: TcpServiceConfig;
  readonly access: CompiledAccess;
  /** Several targets; undefined for one. */
  readonly pool?: Pool<HostPort, HostPort>;
}

export type ServiceRuntime = HttpServiceRuntime | TcpServiceRuntime;

export function buildServiceRuntime(config: ServiceConfig): ServiceRuntime {
  return rebuildServiceRuntime(config, undefined);
}

/** `previous`: the runtime this one replaces (reload), whose targets' health state carries over. */
export function rebuildServiceRuntime(config: ServiceConfig, previous: ServiceRuntime | undefined): ServiceRuntime {
  const access = compileAccess(config.access);
  const states = previous === undefined ? undefined : previousStates(previous);
  if (config.protocol === 'http') {
    // One shape with or without routes and auth: the request path reads both on every request.
    const auth = config.auth === undefined ? undefined : compileAuth(config.auth);
    const routing = buildHttpRouting(config, access, states, auth);
    const target = { service: config.name, url: config.target };
    return { name: config.name, config, access, target, routing, auth };
  }
  const pool = buildTcpPool(config, states);
  return pool === undefined ? { name: config.name, config, access } : { name: config.name, config, access, pool };
}

/** Each pool of a service with the name of its route ("default" for the service's own). */
export function servicePools(s: ServiceRuntime): Array<{ route: string; pool: Pool<URL | HostPort, unknown> }> {
  if (s.config.protocol === 'tcp') {
    const pool = (s as TcpServiceRuntime).pool;
    return pool === undefined ? [] : [{ route: DEFAULT_ROUTE, pool }];
  }
  const routing = (s as HttpServiceRuntime).routing;
  return routing === undefined ? [] : poolsOf(routing);
}

function previousStates(previous: ServiceRuntime): PreviousStates | undefined {
  const pools = servicePools(previous);
  if (pools.length === 0) return undefined;
  return (route, target) => pools.find((p) => p.route === route)?.pool.members.find((m) => m.key === target)?.state;
}
