// The TLS fields of an http service: tls, redirect_https, upstream_tls. Errors name the field,
// through the loader's context (file, service).
import { isIP } from 'node:net';
import { isAbsolute, resolve } from 'node:path';
import { checkDomain } from './addr';
import { TLS_FILE_KEYS, UPSTREAM_TLS_KEYS } from './keys';
import type { ServiceTls, UpstreamTlsConfig } from './types';
import { describe, isMapping, type FieldCtx, type Mapping } from './values';

const TLS_EXAMPLE = 'off, acme, or { cert: /path/fullchain.pem, key: /path/key.pem }';

export interface HttpTlsFields {
  tls: ServiceTls;
  redirectHttps: boolean;
  upstreamTls?: UpstreamTlsConfig;
}

function path(ctx: FieldCtx, v: unknown, field: string, baseDir: string): string {
  if (v === undefined || v === null) ctx.fail(field, 'is required (a file path)');
  const s = ctx.string(v, field);
  if (s.trim() === '') ctx.fail(field, 'must not be empty');
  return isAbsolute(s) ? s : resolve(baseDir, s);
}

function parseTls(ctx: FieldCtx, v: unknown, domains: readonly string[], baseDir: string): ServiceTls {
  // A bare `off` is the string "off" in YAML 1.2; `false` (YAML 1.1 habits) means off too.
  if (v === undefined || v === null || v === false || v === 'off') return { mode: 'off' };
  if (v === true) ctx.fail('tls', `true is ambiguous; use one of ${TLS_EXAMPLE}`);
  if (v === 'acme') {
    domains.forEach((d, i) => {
      if (d.startsWith('*.')) {
        ctx.fail(
          'tls',
          `"acme" cannot cover the wildcard domain ${JSON.stringify(d)} (domains[${i}]): ACME wildcards need the ` +
            'DNS-01 challenge, which is not supported; use tls: { cert, key } with a wildcard certificate',
        );
      }
      if (isIP(d) !== 0) {
        ctx.fail('tls', `"acme" cannot cover the IP address ${JSON.stringify(d)} (domains[${i}]); use tls: { cert, key }`);
      }
    });
    return { mode: 'acme' };
  }
  if (typeof v === 'string') ctx.fail('tls', `${JSON.stringify(v)} is not one of ${TLS_EXAMPLE}`);
  if (!isMapping(v)) ctx.fail('tls', `must be ${TLS_EXAMPLE}; got ${describe(v)}`);
  ctx.checkKeys(v, TLS_FILE_KEYS, 'tls');
  const cert = path(ctx, v['cert'], 'tls.cert', baseDir);
  const key = path(ctx, v['key'], 'tls.key', baseDir);
  return { mode: 'file', cert, key };
}

function parseRedirect(ctx: FieldCtx, v: unknown, tls: ServiceTls): boolean {
  if (v === undefined || v === null) return tls.mode !== 'off';
  if (typeof v !== 'boolean') ctx.fail('redirect_https', `must be true or false, got ${describe(v)}`);
  if (v && tls.mode === 'off') ctx.fail('redirect_https', 'true needs tls (acme or { cert, key }): this service is not served over HTTPS');
  return v;
}

function parseUpstreamTls(ctx: FieldCtx, v: unknown, target: URL, baseDir: string): UpstreamTlsConfig | undefined {
  if (v === undefined || v === null) return undefined;
  if (!isMapping(v)) ctx.fail('upstream_tls', `must be a mapping (ca, insecure_skip_verify, server_name); got ${describe(v)}`);
  if (target.protocol !== 'https:') {
    ctx.fail('upstream_tls', `applies to https:// targets only; the target is ${JSON.stringify(target.origin)}`);
  }
  ctx.checkKeys(v, UPSTREAM_TLS_KEYS, 'upstream_tls');
  const out: UpstreamTlsConfig = { insecureSkipVerify: false };
  if (v['ca'] !== undefined && v['ca'] !== null) out.ca = path(ctx, v['ca'], 'upstream_tls.ca', baseDir);
  const skip = v['insecure_skip_verify'];
  if (skip !== undefined && skip !== null) {
    if (typeof skip !== 'boolean') ctx.fail('upstream_tls.insecure_skip_verify', `must be true or false, got ${describe(skip)}`);
    if (skip && out.ca !== undefined) {
      ctx.fail('upstream_tls.insecure_skip_verify', 'true contradicts upstream_tls.ca: verify against the CA or skip verification, not both');
    }
    out.insecureSkipVerify = skip;
  }
  const name = v['server_name'];
  if (name !== undefined && name !== null) {
    const field = 'upstream_tls.server_name';
    const s = ctx.string(name, field);
    const r = checkDomain(s);
    if (!r.ok) ctx.fail(field, r.reason);
    if (r.value.startsWith('*.')) ctx.fail(field, `${JSON.stringify(s)}: a wildcard is not a server name`);
    out.serverName = r.value;
  }
  return out;
}

/** Parses the TLS fields of an http service whose domains and target are already validated. */
export function parseHttpTls(ctx: FieldCtx, raw: Mapping, domains: readonly string[], target: URL, baseDir: string): HttpTlsFields {
  const tls = parseTls(ctx, raw['tls'], domains, baseDir);
  const redirectHttps = parseRedirect(ctx, raw['redirect_https'], tls);
  const upstreamTls = parseUpstreamTls(ctx, raw['upstream_tls'], target, baseDir);
  return upstreamTls === undefined ? { tls, redirectHttps } : { tls, redirectHttps, upstreamTls };
}

function sameTls(a: ServiceTls, b: ServiceTls): boolean {
  if (a.mode === 'file' && b.mode === 'file') return a.cert === b.cert && a.key === b.key;
  return a.mode === b.mode;
}

/** Semantic equality of the TLS fields, for reload. */
export function httpTlsEquals(a: HttpTlsFields, b: HttpTlsFields): boolean {
  const ua = a.upstreamTls;
  const ub = b.upstreamTls;
  const upstreamSame =
    ua === undefined || ub === undefined ? ua === ub : ua.ca === ub.ca && ua.insecureSkipVerify === ub.insecureSkipVerify && ua.serverName === ub.serverName;
  return sameTls(a.tls, b.tls) && a.redirectHttps === b.redirectHttps && upstreamSame;
}
