// A validated config written back in services.yaml form, with every value in its canonical
// spelling and every default filled in. Loading the result gives the same config again.
import { formatHostPort } from './addr';
import { addressKey } from './routes';
import type { AccessConfig, HostPort, PoolConfig, RouteConfig, ServiceConfig, ServicesConfig } from './types';

export interface AccessDocument {
  cidr: { allow: string[]; deny: string[] };
  countries: { allow: string[]; deny: string[] };
  crowdsec: AccessConfig['crowdsec'];
}

/** `target`, or `targets` with balance and health. */
export type PoolDocument =
  { target: string } | { targets: Array<{ url: string; weight: number; backup: boolean }>; balance: string; health: Record<string, string | number> };

export interface RouteDocument {
  path: string;
  targets?: Array<{ url: string; weight: number; backup: boolean }>;
  balance?: string;
  health?: Record<string, string | number>;
  rewrite?: string;
  strip_prefix?: boolean;
  headers: { set: Record<string, string>; remove: string[] };
  access: AccessDocument;
}

export type ServiceDocument =
  | ({ name: string; protocol: 'http'; domains: string[]; access: AccessDocument; routes?: RouteDocument[] } & PoolDocument)
  | ({ name: string; protocol: 'tcp'; listen: string; access: AccessDocument } & PoolDocument);

export interface ServicesDocument {
  services: ServiceDocument[];
}

function accessDocument(a: AccessConfig): AccessDocument {
  return {
    cidr: { allow: [...a.cidr.allow], deny: [...a.cidr.deny] },
    countries: { allow: [...a.countries.allow], deny: [...a.countries.deny] },
    crowdsec: a.crowdsec,
  };
}

function poolDocument(pool: PoolConfig<URL | HostPort>): Exclude<PoolDocument, { target: string }> {
  const health: Record<string, string | number> = { max_fails: pool.maxFails, fail_timeout: `${pool.failTimeoutMs}ms` };
  const a = pool.active;
  if (a !== undefined) Object.assign(health, { interval: `${a.intervalMs}ms`, timeout: `${a.timeoutMs}ms`, healthy: a.healthy, unhealthy: a.unhealthy });
  if (a !== undefined && pool.targets[0]?.address instanceof URL) health['path'] = a.path;
  return { targets: pool.targets.map((t) => ({ url: addressKey(t.address), weight: t.weight, backup: t.backup })), balance: pool.balance, health };
}

function routeDocument(r: RouteConfig): RouteDocument {
  const doc: RouteDocument = {
    path: r.path,
    headers: { set: Object.fromEntries(r.headers.set), remove: [...r.headers.remove] },
    access: accessDocument(r.access),
  };
  if (r.pool !== undefined) Object.assign(doc, poolDocument(r.pool));
  if (r.rewrite === (r.path.endsWith('/') ? '/' : '')) doc.strip_prefix = true;
  else if (r.rewrite !== undefined) doc.rewrite = r.rewrite;
  return doc;
}

function serviceDocument(s: ServiceConfig): ServiceDocument {
  if (s.protocol === 'http') {
    const pool = s.pool === undefined ? { target: s.target.origin } : poolDocument(s.pool);
    const doc: ServiceDocument = { name: s.name, protocol: 'http', domains: [...s.domains], ...pool, access: accessDocument(s.access) };
    if (s.routes !== undefined) doc.routes = s.routes.map(routeDocument);
    return doc;
  }
  const pool = s.pool === undefined ? { target: formatHostPort(s.target) } : poolDocument(s.pool);
  return { name: s.name, protocol: 'tcp', listen: formatHostPort(s.listen), ...pool, access: accessDocument(s.access) };
}

export function toServicesDocument(config: ServicesConfig): ServicesDocument {
  return { services: config.services.map(serviceDocument) };
}
