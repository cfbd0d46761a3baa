// A validated config written back in services.yaml form, with every value in its canonical
// spelling and every default filled in. Loading the result gives the same config again.
//
// The keys come from the JSON Schema (schema.ts), the values from the typed service: a schema key
// `forward_verdict` is the service's `forwardVerdict`, converted generically (URL → text, host:port
// objects → "host:port", nested objects key by key, absent → null where the schema allows it). Only
// fields whose typed form is not their YAML form have an adapter below. A field added to the schema
// and the types therefore appears here without an edit; a test compares the keys with the schema's.
import { formatHostPort } from './addr';
import type { AuthConfig } from '../auth/types';
import { authDocument } from './auth';
import { challengeDocument } from './challenge';
import { addressKey } from './routes';
import { servicesSchema, type JsonSchema, type JsonValue } from './schema';
import type { AccessConfig, DenyResponseConfig, HostPort, PoolConfig, RouteConfig, ServiceConfig, ServicesConfig, ServiceTls } from './types';

export type ServiceDocument = { [key: string]: JsonValue };

export interface ServicesDocument {
  services: ServiceDocument[];
}

/** YAML forms that the generic conversion cannot guess. */
const ADAPTERS: { [key: string]: (s: ServiceConfig) => JsonValue | undefined } = {
  // One target (`target`) or a pool (`targets`, `balance`, `health`): never both.
  target: (s) => (s.pool !== undefined ? undefined : s.protocol === 'http' ? s.target.origin : formatHostPort(s.target)),
  targets: (s) => (s.pool === undefined ? undefined : poolTargets(s.pool)),
  balance: (s) => s.pool?.balance,
  health: (s) => (s.pool === undefined ? undefined : poolHealth(s.pool)),
  routes: (s) => (s.protocol === 'http' && s.routes !== undefined ? s.routes.map((r) => routeDocument(r, s.auth)) : undefined),
  auth: (s) => (s.protocol === 'http' && s.auth !== undefined ? (authDocument(s.auth) as unknown as JsonValue) : undefined),
  access: (s) => accessDocument(s.access),
  tls: (s) => (s.protocol === 'http' ? tlsDocument(s.tls) : null),
  deny: (s) => (s.protocol === 'http' ? denyDocument(s.deny) : null),
};

/** AppSec in its short form (`enforce`) unless it has skip_paths. */
function accessDocument(a: AccessConfig): JsonValue {
  const appsec = a.appsec.skipPaths.length === 0 ? a.appsec.mode : { mode: a.appsec.mode, skip_paths: [...a.appsec.skipPaths] };
  return {
    cidr: { allow: [...a.cidr.allow], deny: [...a.cidr.deny] },
    countries: { allow: [...a.countries.allow], deny: [...a.countries.deny] },
    crowdsec: a.crowdsec,
    appsec,
    challenge: challengeDocument(a.challenge),
  };
}

function poolTargets(pool: PoolConfig<URL | HostPort>): JsonValue {
  return pool.targets.map((t) => ({ url: addressKey(t.address), weight: t.weight, backup: t.backup }));
}

function poolHealth(pool: PoolConfig<URL | HostPort>): JsonValue {
  const health: { [key: string]: JsonValue } = { max_fails: pool.maxFails, fail_timeout: `${pool.failTimeoutMs}ms` };
  const a = pool.active;
  if (a !== undefined) Object.assign(health, { interval: `${a.intervalMs}ms`, timeout: `${a.timeoutMs}ms`, healthy: a.healthy, unhealthy: a.unhealthy });
  if (a !== undefined && pool.targets[0]?.address instanceof URL) health['path'] = a.path;
  return health;
}

/** `serviceAuth`: a route that has the service's auth leaves `auth` out (it inherits it); one with none says off. */
function routeDocument(r: RouteConfig, serviceAuth: AuthConfig | undefined): JsonValue {
  const doc: { [key: string]: JsonValue } = {
    path: r.path,
    headers: { set: Object.fromEntries(r.headers.set), remove: [...r.headers.remove] },
    access: accessDocument(r.access),
    deny: denyDocument(r.deny),
  };
  if (r.pool !== undefined) Object.assign(doc, { targets: poolTargets(r.pool), balance: r.pool.balance, health: poolHealth(r.pool) });
  if (r.rewrite === (r.path.endsWith('/') ? '/' : '')) doc.strip_prefix = true;
  else if (r.rewrite !== undefined) doc.rewrite = r.rewrite;
  if (r.auth !== serviceAuth) doc.auth = r.auth === undefined ? 'off' : (authDocument(r.auth) as unknown as JsonValue);
  return doc;
}

function tlsDocument(tls: ServiceTls): JsonValue {
  return tls.mode === 'file' ? { cert: tls.cert, key: tls.key } : tls.mode;
}

function denyDocument(d: DenyResponseConfig): JsonValue {
  if (d.kind === 'redirect') return { redirect: d.location, status: d.status };
  // A template given by --deny-template has no path here: null is "the default".
  return { status: d.status, template: d.templatePath ?? null, contact_url: d.contactUrl ?? null };
}

function camel(key: string): string {
  return key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

function isHostPort(v: object): v is HostPort {
  const keys = Object.keys(v);
  return keys.length === 2 && typeof (v as HostPort).host === 'string' && typeof (v as HostPort).port === 'number';
}

/** A typed value in its YAML form; undefined stays undefined (the caller decides null or absent). */
function plain(v: unknown): JsonValue | undefined {
  if (v === undefined) return undefined;
  if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return v.map((x) => plain(x) ?? null);
  if (v instanceof URL) return v.href;
  if (v instanceof Set) return [...v].map((x) => plain(x) ?? null);
  if (typeof v === 'object') {
    if (isHostPort(v)) return formatHostPort(v);
    const out: { [key: string]: JsonValue } = {};
    for (const [k, x] of Object.entries(v)) {
      const value = plain(x);
      if (value !== undefined) out[snake(k)] = value;
    }
    return out;
  }
  return String(v);
}

type SchemaObject = { [key: string]: JsonValue };
const asObject = (s: JsonValue | JsonSchema | undefined): SchemaObject | undefined =>
  typeof s === 'object' && s !== null && !Array.isArray(s) ? (s as SchemaObject) : undefined;

/** Whether the schema of a property takes null (then an absent optional field is printed as null). */
function allowsNull(prop: JsonValue | undefined): boolean {
  const p = asObject(prop);
  if (p === undefined) return false;
  const type = p.type;
  if (type === 'null' || (Array.isArray(type) && type.includes('null'))) return true;
  if (Array.isArray(p.enum) && p.enum.includes(null)) return true;
  return Array.isArray(p.oneOf) && p.oneOf.some((alt) => allowsNull(alt));
}

interface ServiceShape {
  properties: SchemaObject;
  /** Per protocol, the keys the schema forbids (`then: { properties: { key: false } }`). */
  forbidden: Map<string, Set<string>>;
}

let shape: ServiceShape | undefined;

function serviceShape(): ServiceShape {
  if (shape !== undefined) return shape;
  const service = asObject(asObject(asObject(servicesSchema())?.definitions)?.service);
  const forbidden = new Map<string, Set<string>>();
  const allOf = service?.allOf;
  for (const rule of Array.isArray(allOf) ? allOf : []) {
    const protocol = asObject(asObject(asObject(asObject(rule)?.if)?.properties)?.protocol)?.const;
    const props = asObject(asObject(asObject(rule)?.then)?.properties) ?? {};
    if (typeof protocol !== 'string') continue;
    forbidden.set(protocol, new Set(Object.keys(props).filter((k) => props[k] === false)));
  }
  shape = { properties: asObject(service?.properties) ?? {}, forbidden };
  return shape;
}

/** The keys a service of `protocol` has in services.yaml, in the schema's order. */
export function serviceKeys(protocol: string): string[] {
  const { properties, forbidden } = serviceShape();
  const not = forbidden.get(protocol) ?? new Set<string>();
  return Object.keys(properties).filter((k) => !not.has(k));
}

function serviceDocument(s: ServiceConfig): ServiceDocument {
  const { properties } = serviceShape();
  const out: ServiceDocument = {};
  const fields = s as unknown as { [key: string]: unknown };
  for (const key of serviceKeys(s.protocol)) {
    const adapter = ADAPTERS[key];
    // An adapter's undefined leaves the key out (the alternative form is printed instead).
    const value = adapter !== undefined ? adapter(s) : plain(fields[camel(key)]);
    if (value !== undefined) out[key] = value;
    else if (adapter === undefined && allowsNull(properties[key])) out[key] = null;
  }
  return out;
}

export function toServicesDocument(config: ServicesConfig): ServicesDocument {
  return { services: config.services.map(serviceDocument) };
}
