// The routes and targets of a service for /status, `netbird-proxy status`, the admin UI and /metrics.
import type { RouteStatus, ServiceStatus } from './status';
import { authSummary } from '../auth/summary';
import type { ServiceAuth } from '../auth/service';
import type { HostPort } from '../config/types';
import type { Pool } from '../routing/pool';
import { DEFAULT_ROUTE } from '../service-routes';
import type { HttpServiceRuntime, ServiceRuntime, TcpServiceRuntime } from '../services';
import type { UpstreamRow } from '../telemetry/upstream-metrics';

/** Each route of a routed service with its targets; undefined for a service with one target and no routes. */
export function routesStatus(s: ServiceRuntime, nowMs = Date.now()): RouteStatus[] | undefined {
  const out: RouteStatus[] = [];
  if (s.config.protocol === 'tcp') {
    const pool = (s as TcpServiceRuntime).pool;
    if (pool === undefined) return undefined;
    out.push(routeStatus(DEFAULT_ROUTE, pool, nowMs));
    return out;
  }
  const routing = (s as HttpServiceRuntime).routing;
  if (routing === undefined) return undefined;
  out.push({ ...routeStatus(DEFAULT_ROUTE, routing.fallback.pool, nowMs), auth: routeAuth(routing.fallback.auth) });
  // Longest first in the table; shown in path order.
  for (const r of [...routing.routes].sort((a, b) => (a.path < b.path ? -1 : 1))) out.push({ ...routeStatus(r.name, r.pool, nowMs), auth: routeAuth(r.auth) });
  return out;
}

function routeAuth(auth: ServiceAuth | undefined): RouteStatus['auth'] {
  return authSummary(auth?.config);
}

function routeStatus(route: string, pool: Pool<URL | HostPort, unknown>, nowMs: number): RouteStatus {
  return {
    route,
    balance: pool.balance,
    targets: pool.members.map((m) => {
      const down = m.state.downReason(nowMs);
      return {
        target: m.key,
        weight: m.weight,
        backup: m.backup,
        health: down === undefined ? 'up' : 'down',
        ...(down === undefined ? {} : { down_reason: down }),
        ...(m.state.lastProbeError === undefined ? {} : { probe_error: m.state.lastProbeError }),
        active: m.state.active,
        requests: m.state.requests,
        failures: m.state.failures,
      };
    }),
  };
}

export function upstreamRows(services: Iterable<ServiceRuntime>): UpstreamRow[] {
  const rows: UpstreamRow[] = [];
  const now = Date.now();
  for (const s of services) {
    for (const r of routesStatus(s, now) ?? []) {
      for (const t of r.targets)
        rows.push({ service: s.name, route: r.route, target: t.target, up: t.health === 'up', requests: t.requests, failures: t.failures });
    }
  }
  return rows;
}

/**
 * --workers: the primary's services with the workers' views of their targets: a target is down
 * when some worker has it down (with that worker's reason), and the counters are summed.
 */
export function mergeWorkerRoutes(services: ServiceStatus[], workers: ReadonlyArray<{ routes?: Record<string, RouteStatus[]> }>): ServiceStatus[] {
  return services.map((svc) => {
    if (svc.routes === undefined) return svc;
    const routes = svc.routes.map((route) => ({
      ...route,
      targets: route.targets.map((target) => {
        const merged = { ...target, active: 0, requests: 0, failures: 0 };
        for (const w of workers) {
          const seen = w.routes?.[svc.name]?.find((r) => r.route === route.route)?.targets.find((x) => x.target === target.target);
          if (seen === undefined) continue;
          merged.active += seen.active;
          merged.requests += seen.requests;
          merged.failures += seen.failures;
          if (seen.health === 'down' && merged.health === 'up')
            Object.assign(merged, { health: 'down', down_reason: seen.down_reason, probe_error: seen.probe_error });
        }
        return merged;
      }),
    }));
    return { ...svc, routes };
  });
}
