// The active health checks of the loaded services: started for each new runtime whose pools have
// `health:` probes, stopped when that runtime is replaced or removed (the replacing runtime has
// the same target states, so no health is lost on reload). With --workers, each worker probes
// for itself (its routing state is its own).
import type { Agent } from 'node:http';
import type { Logger } from 'pino';
import { startProbes } from '../routing/prober';
import { servicePools, type ServiceRuntime } from '../services';
import type { HostPort, PoolConfig } from '../config/types';
import { USER_AGENT } from '../version';

export class HealthProbes {
  private readonly running = new Map<ServiceRuntime, Array<() => void>>();

  constructor(private readonly log: Logger) {}

  reconcile(services: Iterable<ServiceRuntime>): void {
    const keep = new Set(services);
    for (const [runtime, stops] of this.running) {
      if (keep.has(runtime)) continue;
      for (const stop of stops) stop();
      this.running.delete(runtime);
    }
    for (const runtime of keep) {
      if (this.running.has(runtime)) continue;
      const stops: Array<() => void> = [];
      for (const { route, pool } of servicePools(runtime)) {
        const active = activeOf(runtime, route);
        if (active === undefined) continue;
        const targets = pool.members.map((m) => {
          // http members carry the forwarder's target (with the upstream_tls agent); tcp ones their address.
          const agent = (m.upstream as { agent?: Agent } | undefined)?.agent;
          return agent === undefined ? { key: m.key, address: m.address, state: m.state } : { key: m.key, address: m.address, state: m.state, agent };
        });
        stops.push(
          startProbes(targets, active, USER_AGENT, (t, up, error) => {
            const fields = { service: runtime.name, route, upstream: t.key, ...(error === undefined ? {} : { err: error }) };
            if (up) this.log.info(fields, 'upstream target healthy again (active health check)');
            else this.log.warn(fields, 'upstream target marked down (active health check)');
          }),
        );
      }
      this.running.set(runtime, stops);
    }
  }

  stopAll(): void {
    this.reconcile([]);
  }
}

function activeOf(runtime: ServiceRuntime, route: string): PoolConfig<unknown>['active'] {
  const c = runtime.config;
  let pool: PoolConfig<URL | HostPort> | undefined = c.pool;
  if (c.protocol === 'http' && route !== 'default') pool = c.routes?.find((r) => r.path === route)?.pool;
  return pool?.active;
}
