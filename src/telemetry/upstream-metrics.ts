// Per-target metrics of routed services, read from the targets' state at scrape time (nothing is
// counted twice on the request path): health, requests and failures by service, route and target.
// With --workers the primary sums the workers' counters; the health gauge is the minimum (a target
// down in any worker shows 0).
import { Counter, Gauge, type Registry } from 'prom-client';

export interface UpstreamRow {
  service: string;
  route: string;
  target: string;
  up: boolean;
  requests: number;
  failures: number;
}

export function registerUpstreamMetrics(registry: Registry, rows: () => UpstreamRow[]): void {
  new Gauge({
    name: 'netbird_proxy_upstream_health',
    help: 'Targets of routed services: 1 while the target takes traffic, 0 while marked down (passive or active health)',
    labelNames: ['service', 'route', 'target'],
    registers: [registry],
    aggregator: 'min',
    collect() {
      this.reset();
      for (const r of rows()) this.set({ service: r.service, route: r.route, target: r.target }, r.up ? 1 : 0);
    },
  });
  new Counter({
    name: 'netbird_proxy_upstream_requests_total',
    help: 'Requests (http) and connections (tcp) sent to each target of routed services, retries included',
    labelNames: ['service', 'route', 'target'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of rows()) this.inc({ service: r.service, route: r.route, target: r.target }, r.requests);
    },
  });
  new Counter({
    name: 'netbird_proxy_upstream_failures_total',
    help: 'Failed requests or connections (refused, timeout, reset, ...) of each target of routed services',
    labelNames: ['service', 'route', 'target'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of rows()) this.inc({ service: r.service, route: r.route, target: r.target }, r.failures);
    },
  });
}
