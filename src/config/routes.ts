// services.yaml: `targets:`, `balance:`, `health:` (a service's pool) and `routes:` (http). The
// loader hands in its own parsers for a target, `access:` and `deny:`, which report on the fields
// "target", "access..." and "deny..."; they are given a context that renames those fields to where
// they are here (e.g. "routes[1].targets[0]"), so that every message still names the exact field.
import type { AuthConfig } from '../auth/types';
import type {
  AccessConfig,
  ActiveHealthConfig,
  CrowdSecMode,
  ServiceConfig,
  BalancePolicy,
  DenyResponseConfig,
  HostPort,
  PoolConfig,
  RouteConfig,
  TargetConfig,
} from './types';
import { describe, isMapping, type FieldCtx, type Mapping } from './values';
import { tryParseGoDuration } from '../util/duration';

export const BALANCE_POLICIES: readonly BalancePolicy[] = ['round_robin', 'least_conn', 'ip_hash', 'cookie'];
export const TCP_BALANCE_POLICIES: readonly BalancePolicy[] = ['round_robin', 'least_conn', 'ip_hash'];
export const POOL_KEYS = ['targets', 'balance', 'health'] as const;
export const TARGET_KEYS = ['url', 'weight', 'backup'] as const;
export const HEALTH_KEYS = ['path', 'interval', 'timeout', 'healthy', 'unhealthy', 'max_fails', 'fail_timeout'] as const;
export const ROUTE_KEYS = ['path', 'target', ...POOL_KEYS, 'strip_prefix', 'rewrite', 'headers', 'access', 'deny', 'auth'] as const;
export const HEADERS_KEYS = ['set', 'remove'] as const;

/** nginx's defaults: one failure takes a target out for 10 s. */
export const DEFAULT_MAX_FAILS = 1;
export const DEFAULT_FAIL_TIMEOUT_MS = 10_000;
const DEFAULT_ACTIVE: Omit<ActiveHealthConfig, 'path'> = { intervalMs: 10_000, timeoutMs: 2_000, healthy: 2, unhealthy: 3 };

/** The loader's own field parsers. */
export interface FieldParsers<C extends FieldCtx> {
  /** An upstream address; reports on the field "target". */
  target(ctx: C, v: unknown): URL | HostPort;
  /** `access:`; reports on "access...". */
  access(ctx: C, v: unknown): AccessConfig;
  /** A mapping holding `deny:`; reports on "deny...". */
  deny(ctx: C, raw: Mapping): DenyResponseConfig;
  /** A mapping holding `auth:`; reports on "auth...". */
  auth(ctx: C, raw: Mapping): AuthConfig | undefined;
}

/** The same context with every field it reports renamed by `rename`. */
export function renamed<C extends FieldCtx>(ctx: C, rename: (field: string | undefined) => string | undefined): C {
  const sub = Object.create(ctx) as C;
  sub.fail = (field, reason) => ctx.fail(rename(field), reason);
  return sub;
}

function under<C extends FieldCtx>(ctx: C, prefix: string): C {
  return renamed(ctx, (f) => (f === undefined ? prefix : `${prefix}.${f}`));
}

/** A pool for `raw` (a service or a route) when it has `targets:`; fails on fields that need one when it has not. */
export function parsePool<C extends FieldCtx, A extends URL | HostPort>(
  ctx: C,
  raw: Mapping,
  parsers: FieldParsers<C>,
  protocol: 'http' | 'tcp',
): PoolConfig<A> | undefined {
  const rawTargets = raw['targets'];
  if (rawTargets === undefined || rawTargets === null) {
    for (const key of ['balance', 'health'] as const) {
      if (raw[key] !== undefined) ctx.fail(key, 'needs "targets" (a list of upstreams) next to it');
    }
    return undefined;
  }
  if (raw['target'] !== undefined) ctx.fail('targets', 'cannot be used together with "target": use one target or a list of targets');
  if (!Array.isArray(rawTargets) || rawTargets.length === 0) {
    ctx.fail(
      'targets',
      `must be a non-empty list of upstreams, e.g. [http://10.0.0.6:8080, { url: http://10.0.0.7:8080, weight: 2 }]; got ${describe(rawTargets)}`,
    );
  }
  const targets: TargetConfig<A>[] = [];
  const seen = new Map<string, number>();
  rawTargets.forEach((item: unknown, i) => {
    const field = `targets[${i}]`;
    let target: TargetConfig<A>;
    if (isMapping(item)) {
      ctx.checkKeys(item, TARGET_KEYS, field);
      if (item['url'] === undefined || item['url'] === null) ctx.fail(`${field}.url`, 'is required (the upstream address)');
      const address = parsers.target(
        renamed(ctx, () => `${field}.url`),
        item['url'],
      ) as A;
      target = { address, weight: positiveInt(ctx, item['weight'], `${field}.weight`, 1, 1000), backup: bool(ctx, item['backup'], `${field}.backup`) };
    } else {
      target = {
        address: parsers.target(
          renamed(ctx, () => field),
          item,
        ) as A,
        weight: 1,
        backup: false,
      };
    }
    const key = addressKey(target.address);
    const dup = seen.get(key);
    if (dup !== undefined) ctx.fail(field, `${JSON.stringify(key)} is listed twice (also targets[${dup}])`);
    seen.set(key, i);
    targets.push(target);
  });
  if (targets.every((t) => t.backup)) ctx.fail('targets', 'needs at least one target that is not a backup');
  const balance = parseBalance(ctx, raw['balance'], protocol);
  return { targets, balance, ...parseHealth(ctx, raw['health'], protocol) };
}

function parseBalance<C extends FieldCtx>(ctx: C, v: unknown, protocol: 'http' | 'tcp'): BalancePolicy {
  if (v === undefined || v === null) return 'round_robin';
  const s = ctx.string(v, 'balance');
  const allowed = protocol === 'http' ? BALANCE_POLICIES : TCP_BALANCE_POLICIES;
  const policy = allowed.find((p) => p === s);
  if (policy === undefined)
    ctx.fail('balance', `${JSON.stringify(s)} is not one of ${allowed.join(', ')}${s === 'cookie' ? ' (a tcp connection has no cookies)' : ''}`);
  return policy;
}

function parseHealth<C extends FieldCtx>(ctx: C, v: unknown, protocol: 'http' | 'tcp'): Pick<PoolConfig<unknown>, 'maxFails' | 'failTimeoutMs' | 'active'> {
  const out: Pick<PoolConfig<unknown>, 'maxFails' | 'failTimeoutMs' | 'active'> = { maxFails: DEFAULT_MAX_FAILS, failTimeoutMs: DEFAULT_FAIL_TIMEOUT_MS };
  if (v === undefined || v === null) return out;
  if (!isMapping(v)) ctx.fail('health', `must be a mapping (${HEALTH_KEYS.join(', ')}); got ${describe(v)}`);
  ctx.checkKeys(v, HEALTH_KEYS, 'health');
  out.maxFails = v['max_fails'] === undefined || v['max_fails'] === null ? DEFAULT_MAX_FAILS : nonNegativeInt(ctx, v['max_fails'], 'health.max_fails');
  out.failTimeoutMs = duration(ctx, v['fail_timeout'], 'health.fail_timeout', DEFAULT_FAIL_TIMEOUT_MS);
  const activeKeys = ['path', 'interval', 'timeout', 'healthy', 'unhealthy'];
  if (!activeKeys.some((k) => v[k] !== undefined && v[k] !== null)) return out;
  let path = '/';
  if (v['path'] !== undefined && v['path'] !== null) {
    if (protocol === 'tcp') ctx.fail('health.path', 'is not allowed for protocol tcp: a tcp target is probed by connecting to it');
    path = ctx.string(v['path'], 'health.path');
    if (!/^\/[\x21-\x7e]*$/.test(path)) ctx.fail('health.path', `${JSON.stringify(path)} must start with "/" and contain no spaces or control characters`);
  }
  const intervalMs = duration(ctx, v['interval'], 'health.interval', DEFAULT_ACTIVE.intervalMs);
  const timeoutMs = duration(ctx, v['timeout'], 'health.timeout', DEFAULT_ACTIVE.timeoutMs);
  if (timeoutMs > intervalMs) ctx.fail('health.timeout', `must not be longer than health.interval (${intervalMs} ms)`);
  const healthy = positiveInt(ctx, v['healthy'], 'health.healthy', DEFAULT_ACTIVE.healthy, 100);
  const unhealthy = positiveInt(ctx, v['unhealthy'], 'health.unhealthy', DEFAULT_ACTIVE.unhealthy, 100);
  out.active = { path, intervalMs, timeoutMs, healthy, unhealthy };
  return out;
}

/** `routes:` of an http service whose access and deny are already parsed. */
export function parseRoutes<C extends FieldCtx>(
  ctx: C,
  v: unknown,
  parsers: FieldParsers<C>,
  service: { access: AccessConfig; deny: DenyResponseConfig; auth?: AuthConfig | undefined },
): RouteConfig[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) ctx.fail('routes', `must be a list of { path, targets, ... }; got ${describe(v)}`);
  const routes: RouteConfig[] = [];
  const paths = new Map<string, number>();
  v.forEach((raw: unknown, i) => {
    const at = `routes[${i}]`;
    if (!isMapping(raw)) ctx.fail(at, `must be a mapping { path, targets, ... }; got ${describe(raw)}`);
    ctx.checkKeys(raw, ROUTE_KEYS, at);
    const sub = under(ctx, at);
    if (raw['path'] === undefined || raw['path'] === null) sub.fail('path', 'is required (a path prefix, e.g. /api/)');
    const path = sub.string(raw['path'], 'path');
    if (!/^\/[\x21-\x7e]*$/.test(path) || path.includes('?') || path.includes('#')) {
      sub.fail('path', `${JSON.stringify(path)} must start with "/" and contain no spaces, "?" or "#"`);
    }
    const dup = paths.get(path);
    if (dup !== undefined) sub.fail('path', `${JSON.stringify(path)} is listed twice (also routes[${dup}])`);
    paths.set(path, i);
    let pool: PoolConfig<URL> | undefined;
    if (raw['target'] !== undefined && raw['targets'] === undefined) {
      pool = {
        targets: [{ address: parsers.target(sub, raw['target']) as URL, weight: 1, backup: false }],
        balance: 'round_robin',
        maxFails: DEFAULT_MAX_FAILS,
        failTimeoutMs: DEFAULT_FAIL_TIMEOUT_MS,
      };
      if (raw['balance'] !== undefined || raw['health'] !== undefined)
        sub.fail(raw['balance'] !== undefined ? 'balance' : 'health', 'needs "targets" (a list of upstreams) instead of "target"');
    } else {
      pool = parsePool<C, URL>(sub, raw, parsers, 'http');
    }
    const route: RouteConfig = {
      path,
      headers: parseHeaders(sub, raw['headers']),
      access: overlayAccess(sub, raw['access'], parsers, service.access),
      deny: raw['deny'] === undefined || raw['deny'] === null ? service.deny : parsers.deny(sub, { deny: raw['deny'] }),
    };
    if (pool !== undefined) route.pool = pool;
    const auth = routeAuth(sub, raw, parsers, service.auth);
    if (auth !== undefined) route.auth = auth;
    const rewrite = parseRewrite(sub, raw, path);
    if (rewrite !== undefined) route.rewrite = rewrite;
    routes.push(route);
  });
  // Longest first: the first route whose path prefixes the request path is the longest match.
  return routes.sort((a, b) => b.path.length - a.path.length);
}

/** A route's `auth:` replaces the service's (the same object when it has none); `auth: off` opens the route. */
function routeAuth<C extends FieldCtx>(ctx: C, raw: Mapping, parsers: FieldParsers<C>, base: AuthConfig | undefined): AuthConfig | undefined {
  const v = raw['auth'];
  if (v === undefined || v === null) return base;
  if (v === 'off') return undefined;
  const auth = parsers.auth(ctx, { auth: v });
  if (auth?.credential.method === 'oidc') {
    ctx.fail(
      'auth.oidc',
      "is not available on a route (the OpenID Connect callback is the service's): put it on the service, or use password, pin or header here",
    );
  }
  return auth;
}

/** A route's `access:` fields replace the service's same fields; the others are the service's. */
function overlayAccess<C extends FieldCtx>(ctx: C, v: unknown, parsers: FieldParsers<C>, base: AccessConfig): AccessConfig {
  if (v === undefined || v === null) return base;
  const parsed = parsers.access(ctx, v);
  if (!isMapping(v)) return parsed;
  const merged: Record<string, unknown> = { ...base };
  for (const key of Object.keys(v)) if (key in parsed) merged[key] = (parsed as unknown as Record<string, unknown>)[key];
  return merged as unknown as AccessConfig;
}

function parseRewrite<C extends FieldCtx>(ctx: C, raw: Mapping, path: string): string | undefined {
  const strip = bool(ctx, raw['strip_prefix'], 'strip_prefix');
  const rw = raw['rewrite'];
  if (rw === undefined || rw === null) return strip ? (path.endsWith('/') ? '/' : '') : undefined;
  if (strip) ctx.fail('rewrite', 'cannot be used together with strip_prefix: true (strip_prefix is rewrite: /)');
  const s = ctx.string(rw, 'rewrite');
  if (!/^\/[\x21-\x7e]*$/.test(s) || s.includes('?') || s.includes('#'))
    ctx.fail('rewrite', `${JSON.stringify(s)} must start with "/" and contain no spaces, "?" or "#"`);
  return s;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const MANAGED = [
  'host',
  'connection',
  'content-length',
  'transfer-encoding',
  'upgrade',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-request-id',
];

function parseHeaders<C extends FieldCtx>(ctx: C, v: unknown): RouteConfig['headers'] {
  const out: RouteConfig['headers'] = { set: [], remove: [] };
  if (v === undefined || v === null) return out;
  if (!isMapping(v)) ctx.fail('headers', `must be a mapping { set: { Name: value }, remove: [Name] }; got ${describe(v)}`);
  ctx.checkKeys(v, HEADERS_KEYS, 'headers');
  const name = (raw: string, field: string): string => {
    if (!TOKEN.test(raw)) ctx.fail(field, `${JSON.stringify(raw)} is not a valid header name`);
    const lower = raw.toLowerCase();
    if (MANAGED.includes(lower)) ctx.fail(field, `${JSON.stringify(raw)} is set by the proxy itself and cannot be changed here`);
    return lower;
  };
  const set = v['set'];
  if (set !== undefined && set !== null) {
    if (!isMapping(set)) ctx.fail('headers.set', `must be a mapping of header name to value; got ${describe(set)}`);
    for (const [k, val] of Object.entries(set)) {
      const field = `headers.set.${k}`;
      if (typeof val !== 'string' && typeof val !== 'number' && typeof val !== 'boolean') ctx.fail(field, `must be a string, got ${describe(val)}`);
      const text = String(val);
      if (/[\r\n\0]/.test(text)) ctx.fail(field, 'must not contain line breaks or NUL');
      out.set.push([name(k, field), text]);
    }
  }
  const remove = v['remove'];
  if (remove !== undefined && remove !== null) {
    if (!Array.isArray(remove)) ctx.fail('headers.remove', `must be a list of header names; got ${describe(remove)}`);
    remove.forEach((r: unknown, i) => {
      const field = `headers.remove[${i}]`;
      const n = name(ctx.string(r, field), field);
      if (out.set.some(([s]) => s === n)) ctx.fail(field, `${JSON.stringify(r)} is also in headers.set`);
      out.remove.push(n);
    });
  }
  return out;
}

function bool<C extends FieldCtx>(ctx: C, v: unknown, field: string): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v !== 'boolean') ctx.fail(field, `must be true or false, got ${describe(v)}`);
  return v;
}

function positiveInt<C extends FieldCtx>(ctx: C, v: unknown, field: string, dflt: number, max: number): number {
  if (v === undefined || v === null) return dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > max) ctx.fail(field, `must be a whole number from 1 to ${max}, got ${describe(v)}`);
  return v;
}

function nonNegativeInt<C extends FieldCtx>(ctx: C, v: unknown, field: string): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 1000)
    ctx.fail(field, `must be a whole number from 0 (never mark down) to 1000, got ${describe(v)}`);
  return v;
}

function duration<C extends FieldCtx>(ctx: C, v: unknown, field: string, dflt: number): number {
  if (v === undefined || v === null) return dflt;
  const s = ctx.string(v, field);
  const ms = tryParseGoDuration(s);
  if (Number.isNaN(ms) || ms < 1) ctx.fail(field, `${JSON.stringify(s)} is not a positive duration such as 500ms, 10s or 1m`);
  return ms;
}

/** How a target is named in status, metrics and messages: the URL's origin or host:port. */
export function addressKey(a: URL | HostPort): string {
  if (a instanceof URL) return a.origin;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Equality of the routing config, for reload (a changed pool or route builds a new runtime; health state is carried over). */
export function routingEquals(
  a: { pool?: PoolConfig<URL | HostPort>; routes?: RouteConfig[] },
  b: { pool?: PoolConfig<URL | HostPort>; routes?: RouteConfig[] },
): boolean {
  return canonical(a.pool) === canonical(b.pool) && canonical(a.routes) === canonical(b.routes);
}

function canonical(v: unknown): string {
  return JSON.stringify(v ?? null, (_k, val: unknown) => {
    if (val instanceof URL) return val.href;
    if (val !== null && typeof val === 'object' && 'source' in val && 'render' in val) return (val as { source: unknown }).source;
    return val;
  });
}

/** The strongest CrowdSec mode of a service and its routes (enforce > observe > off): whether it needs the bouncer. */
export function crowdsecModeOf(c: ServiceConfig): CrowdSecMode {
  let mode = c.access.crowdsec;
  if (c.protocol === 'http' && c.routes !== undefined) {
    for (const r of c.routes) if (r.access.crowdsec === 'enforce' || (r.access.crowdsec === 'observe' && mode === 'off')) mode = r.access.crowdsec;
  }
  return mode;
}
