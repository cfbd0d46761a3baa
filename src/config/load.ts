// services.yaml → ServicesConfig, strictly validated. Every error is a ConfigError whose message
// names the file, the service and the field (see errors.ts for the format); the first error wins.
// (~400 lines: one small parser per field of the one file format, sharing its error context; TLS
// fields are in tls.ts, addresses in addr.ts, the vocabulary in keys.ts.)

import { readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { LineCounter, parseAllDocuments, visit, type Document } from 'yaml';
import { authEquals, parseAuth } from './auth';
import { checkCidr, checkDomain, checkHostPort, formatHostPort, isUnspecifiedHost } from './addr';
import { APPSEC_OFF, appsecEquals, parseAppSec } from './appsec';
import { CHALLENGE_OFF, challengeEquals, parseChallenge } from './challenge';
import { COUNTRY_CODE_HINTS, isCountryCode } from './countries';
import { httpDenyEquals, parseHttpDeny, readDenyTemplate } from './deny';
import { ConfigError } from './errors';
import { collectServiceErrors } from './collect-errors';
import { missingConfigReason } from './missing-file';
import { ACCESS_KEYS, ALLOW_DENY_KEYS, CROWDSEC_MODES, HTTP_DENY_KEYS, HTTP_TLS_KEYS, NAME_RE, PROTOCOLS, SERVICE_KEYS, TOP_KEYS } from './keys';
import { httpTlsEquals, parseHttpTls } from './tls';
import { parsePool, parseRoutes, routingEquals, type FieldParsers } from './routes';
import { describe, isMapping, type FieldCtx, type Mapping } from './values';
import type { DenyTemplate } from '../util/deny-template';
import type { AccessConfig, CrowdSecMode, HostPort, HttpServiceConfig, ServiceConfig, ServicesConfig, TcpServiceConfig } from './types';

export { ConfigError } from './errors';
export { parseHostPort, formatHostPort } from './addr';

export interface LoadOptions {
  /** True when the CrowdSec LAPI URL and bouncer key are configured. */
  crowdsecAvailable: boolean;
  /** True when --appsec-url is configured (access.appsec enforce/observe need it). */
  appsecAvailable?: boolean;
  /** --deny-template: read at every load, the default page of services without deny.template. */
  denyTemplate?: string;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0] ?? 0;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const up = prev[j] ?? 0;
      prev[j] = Math.min(up + 1, (prev[j - 1] ?? 0) + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = up;
    }
  }
  return prev[b.length] ?? 0;
}

/** Where we are, to build errors. */
class Ctx implements FieldCtx {
  constructor(
    readonly file: string,
    readonly service?: string,
  ) {}

  withService(service: string): Ctx {
    return new Ctx(this.file, service);
  }

  fail(field: string | undefined, reason: string): never {
    const where: { file: string; service?: string; field?: string } = { file: this.file };
    if (this.service !== undefined) where.service = this.service;
    if (field !== undefined) where.field = field;
    throw new ConfigError(reason, where);
  }

  checkKeys(obj: Mapping, allowed: readonly string[], prefix: string): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      let reason = `unknown key ${JSON.stringify(key)}`;
      const close = allowed.find((a) => editDistance(a, key.toLowerCase()) <= 2);
      if (close !== undefined) reason += ` (did you mean "${close}"?)`;
      reason += `; allowed keys: ${allowed.join(', ')}`;
      this.fail(prefix === '' ? key : `${prefix}.${key}`, reason);
    }
  }

  string(v: unknown, field: string): string {
    if (typeof v !== 'string') this.fail(field, `must be a string, got ${describe(v)}`);
    return v;
  }

  /** A list; absent/null only when `optional`. */
  list(v: unknown, field: string, optional: boolean, example: string): unknown[] {
    if (v === undefined || v === null) {
      if (optional) return [];
      this.fail(field, `is required (a list, e.g. ${example})`);
    }
    if (!Array.isArray(v)) this.fail(field, `must be a list, e.g. ${example}; got ${describe(v)}`);
    return v;
  }
}

function parseAllowDeny(
  ctx: Ctx,
  v: unknown,
  field: string,
  example: string,
  item: (raw: unknown, itemField: string) => string,
): { allow: string[]; deny: string[] } {
  if (v === undefined || v === null) return { allow: [], deny: [] };
  if (!isMapping(v)) ctx.fail(field, `must be a mapping with "allow" and/or "deny" lists; got ${describe(v)}`);
  ctx.checkKeys(v, ALLOW_DENY_KEYS, field);
  const out: { allow: string[]; deny: string[] } = { allow: [], deny: [] };
  for (const which of ALLOW_DENY_KEYS) {
    const listField = `${field}.${which}`;
    const raws = ctx.list(v[which], listField, true, example);
    raws.forEach((raw, i) => {
      const itemField = `${listField}[${i}]`;
      const value = item(raw, itemField);
      const shown = raw === value ? JSON.stringify(value) : `${JSON.stringify(raw)} (${value})`;
      const dup = out[which].indexOf(value);
      if (dup >= 0) ctx.fail(itemField, `${shown} is listed twice (also at ${listField}[${dup}])`);
      if (which === 'deny') {
        const both = out.allow.indexOf(value);
        if (both >= 0) ctx.fail(itemField, `${shown} is in both allow and deny (${field}.allow[${both}])`);
      }
      out[which].push(value);
    });
  }
  return out;
}

function parseCidrItem(ctx: Ctx, raw: unknown, field: string): string {
  const s = ctx.string(raw, field);
  const r = checkCidr(s);
  if (!r.ok) ctx.fail(field, r.reason);
  return r.value;
}

function parseCountryItem(ctx: Ctx, raw: unknown, field: string): string {
  if (typeof raw === 'boolean') {
    ctx.fail(field, `must be a two-letter country code, got ${String(raw)} (YAML 1.1 reads NO/ON/YES as booleans: quote the code, e.g. "NO")`);
  }
  const s = ctx.string(raw, field);
  if (!/^[A-Za-z]{2}$/.test(s)) ctx.fail(field, `${JSON.stringify(s)} is not a two-letter ISO 3166-1 alpha-2 country code`);
  const code = s.toUpperCase();
  if (!isCountryCode(code)) {
    const hint = COUNTRY_CODE_HINTS[code];
    ctx.fail(field, `${JSON.stringify(s)} is not an assigned ISO 3166-1 alpha-2 country code${hint === undefined ? '' : ` (${hint})`}`);
  }
  return code;
}

function parseCrowdsec(ctx: Ctx, v: unknown, opts: LoadOptions): CrowdSecMode {
  const field = 'access.crowdsec';
  // `crowdsec:` with no value, and `false` (what YAML 1.1 makes of a bare `off`) both mean off.
  if (v === undefined || v === null || v === false) return 'off';
  if (v === true) ctx.fail(field, `true is ambiguous; use one of ${CROWDSEC_MODES.join(', ')}`);
  const s = ctx.string(v, field);
  const mode = CROWDSEC_MODES.find((m) => m === s);
  if (mode === undefined) {
    ctx.fail(field, `${JSON.stringify(s)} is not one of ${CROWDSEC_MODES.join(', ')}`);
  }
  if (mode !== 'off' && !opts.crowdsecAvailable) {
    ctx.fail(
      field,
      `"${mode}" needs CrowdSec, which is not configured: set --crowdsec-api-url and --crowdsec-api-key ` +
        `(or NB_PROXY_CROWDSEC_API_URL and NB_PROXY_CROWDSEC_API_KEY), or use "off"`,
    );
  }
  return mode;
}

function parseAccess(ctx: Ctx, v: unknown, opts: LoadOptions, protocol: 'http' | 'tcp', baseDir: string): AccessConfig {
  if (v === undefined || v === null) {
    return { cidr: { allow: [], deny: [] }, countries: { allow: [], deny: [] }, crowdsec: 'off', appsec: APPSEC_OFF, challenge: CHALLENGE_OFF };
  }
  if (!isMapping(v)) ctx.fail('access', `must be a mapping (cidr, countries, crowdsec); got ${describe(v)}`);
  ctx.checkKeys(v, ACCESS_KEYS, 'access');
  const cidr = parseAllowDeny(ctx, v['cidr'], 'access.cidr', '[10.0.0.0/8]', (raw, f) => parseCidrItem(ctx, raw, f));
  const countries = parseAllowDeny(ctx, v['countries'], 'access.countries', '[DE, FR]', (raw, f) => parseCountryItem(ctx, raw, f));
  const crowdsec = parseCrowdsec(ctx, v['crowdsec'], opts);
  const appsec = parseAppSec(ctx, v['appsec'], opts, protocol);
  const challenge = parseChallenge(ctx, v['challenge'], baseDir, protocol);
  return { cidr, countries, crowdsec, appsec, challenge };
}

function parseHttpTarget(ctx: Ctx, v: unknown): URL {
  const field = 'target';
  if (v === undefined || v === null) ctx.fail(field, 'is required (an http:// or https:// URL, e.g. "http://127.0.0.1:3000")');
  const s = ctx.string(v, field);
  const q = JSON.stringify(s);
  const m = /^(https?):\/\/([^/?#]*)(.*)$/i.exec(s);
  if (m === null) {
    ctx.fail(field, `${q} must be an http:// or https:// URL, e.g. "http://127.0.0.1:3000"`);
  }
  const scheme = (m[1] ?? '').toLowerCase();
  const authority = m[2] ?? '';
  const rest = m[3] ?? '';
  if (authority.includes('@')) ctx.fail(field, `${q} must not contain credentials`);
  // Validate host and port ourselves: WHATWG URL parsing would silently turn "010.8.8.8" into 8.8.8.8
  // and "10.8" into 10.0.0.8.
  const hasPort = authority.lastIndexOf(':') > authority.lastIndexOf(']');
  const hp = checkHostPort(hasPort ? authority : `${authority}:${scheme === 'https' ? 443 : 80}`);
  if (!hp.ok) ctx.fail(field, `${q}: ${hp.reason}`);
  if (isUnspecifiedHost(hp.value.host)) ctx.fail(field, `${q}: cannot connect to the unspecified address ${hp.value.host}`);
  if (rest.includes('?')) ctx.fail(field, `${q} must not have a query string`);
  if (rest.includes('#')) ctx.fail(field, `${q} must not have a fragment`);
  if (rest !== '' && rest !== '/') {
    ctx.fail(field, `${q} must not have a path: requests are forwarded with their own path unchanged`);
  }
  try {
    return new URL(`${scheme}://${authority}/`);
  } catch {
    return ctx.fail(field, `${q} is not a valid URL`);
  }
}

function parseHostPortField(ctx: Ctx, v: unknown, field: string, example: string): HostPort {
  if (v === undefined || v === null) ctx.fail(field, `is required (host:port, e.g. "${example}")`);
  if (typeof v === 'number') ctx.fail(field, `must be host:port, e.g. "${example}"; got the bare number ${v}`);
  const s = ctx.string(v, field);
  const r = checkHostPort(s);
  if (!r.ok) ctx.fail(field, `${JSON.stringify(s)} is not a valid host:port: ${r.reason}`);
  return r.value;
}

function parseTcpTarget(ctx: Ctx, v: unknown): HostPort {
  const target = parseHostPortField(ctx, v, 'target', '127.0.0.1:22');
  if (isUnspecifiedHost(target.host)) ctx.fail('target', `cannot connect to the unspecified address ${formatHostPort(target)}`);
  return target;
}

function routingParsers(protocol: 'http' | 'tcp', opts: LoadOptions, baseDir: string, denyTemplate: DenyTemplate | undefined): FieldParsers<Ctx> {
  return {
    target: (c, v) => (protocol === 'http' ? parseHttpTarget(c, v) : parseTcpTarget(c, v)),
    access: (c, v) => parseAccess(c, v, opts, protocol, baseDir),
    deny: (c, r) => parseHttpDeny(c, r, baseDir, denyTemplate).deny,
    auth: (c, r) => parseAuth(c, r, baseDir).auth,
  };
}

interface Seen {
  names: Map<string, number>;
  domains: Map<string, string>;
  listens: { hp: HostPort; service: string }[];
}

function parseService(top: Ctx, raw: unknown, index: number, seen: Seen, opts: LoadOptions, denyTemplate: DenyTemplate | undefined): ServiceConfig {
  const at = `services[${index}]`;
  let ctx: Ctx = top.withService(at);
  if (!isMapping(raw)) ctx.fail(undefined, `must be a mapping with name, protocol, target, ...; got ${describe(raw)}`);

  // The name first, so that every later message can use it.
  const rawName = raw['name'];
  if (rawName === undefined || rawName === null) ctx.fail('name', 'is required');
  const name = ctx.string(rawName, 'name');
  if (!NAME_RE.test(name)) {
    ctx.fail('name', `${JSON.stringify(name)} must match ^[a-z0-9-]+$ (lower-case letters, digits and "-")`);
  }
  ctx = top.withService(name);
  const prev = seen.names.get(name);
  if (prev !== undefined) ctx.fail('name', `duplicate service name ${JSON.stringify(name)} (also services[${prev}])`);
  seen.names.set(name, index);

  ctx.checkKeys(raw, SERVICE_KEYS, '');

  const rawProtocol = raw['protocol'];
  if (rawProtocol === undefined || rawProtocol === null) ctx.fail('protocol', 'is required (http or tcp)');
  const protocol = ctx.string(rawProtocol, 'protocol');
  if (protocol !== 'http' && protocol !== 'tcp') {
    ctx.fail('protocol', `${JSON.stringify(protocol)} is not one of ${PROTOCOLS.join(', ')}`);
  }

  if (protocol === 'http') {
    if (raw['listen'] !== undefined) {
      ctx.fail('listen', 'is not allowed for protocol http: http services share the --http-addr listener and are selected by domains');
    }
    const rawDomains = ctx.list(raw['domains'], 'domains', false, '[app.example.com]');
    if (rawDomains.length === 0) ctx.fail('domains', 'must not be empty: an http service needs at least one domain');
    const domains: string[] = [];
    rawDomains.forEach((d, i) => {
      const field = `domains[${i}]`;
      const s = ctx.string(d, field);
      const r = checkDomain(s);
      if (!r.ok) ctx.fail(field, r.reason);
      const domain = r.value;
      const shown = s === domain ? JSON.stringify(domain) : `${JSON.stringify(s)} (${domain})`;
      const dupHere = domains.indexOf(domain);
      if (dupHere >= 0) ctx.fail(field, `${shown} is listed twice (also domains[${dupHere}])`);
      const owner = seen.domains.get(domain);
      if (owner !== undefined) ctx.fail(field, `${shown} is already used by service "${owner}"`);
      domains.push(domain);
    });
    for (const d of domains) seen.domains.set(d, name);
    const parsers = routingParsers('http', opts, dirname(top.file), denyTemplate);
    const pool = parsePool<Ctx, URL>(ctx, raw, parsers, 'http');
    const target = pool?.targets[0]?.address ?? parseHttpTarget(ctx, raw['target']);
    const access = parseAccess(ctx, raw['access'], opts, 'http', dirname(top.file));
    const tls = parseHttpTls(ctx, raw, domains, target, dirname(top.file));
    const deny = parseHttpDeny(ctx, raw, dirname(top.file), denyTemplate);
    const svc: HttpServiceConfig = { name, protocol, domains, target, access, ...tls, ...deny, ...parseAuth(ctx, raw, dirname(top.file)) };
    if (pool !== undefined) svc.pool = pool;
    const routes = parseRoutes(ctx, raw['routes'], parsers, { access, deny: deny.deny, auth: svc.auth });
    if (routes !== undefined) svc.routes = routes;
    return svc;
  }

  if (raw['domains'] !== undefined) {
    ctx.fail('domains', 'is not allowed for protocol tcp: a tcp service has its own listener (listen) and no Host header');
  }
  for (const key of HTTP_TLS_KEYS) {
    if (raw[key] !== undefined) ctx.fail(key, 'is not allowed for protocol tcp: TLS is terminated for http services only');
  }
  for (const key of HTTP_DENY_KEYS) {
    if (raw[key] !== undefined) ctx.fail(key, 'is not allowed for protocol tcp: a denied TCP connection is closed without an answer');
  }
  if (raw['auth'] !== undefined) ctx.fail('auth', 'is not allowed for protocol tcp: a TCP connection has no login (use access.cidr)');
  const listen = parseHostPortField(ctx, raw['listen'], 'listen', '0.0.0.0:2222');
  for (const other of seen.listens) {
    const samePort = other.hp.port === listen.port;
    if (!samePort) continue;
    if (other.hp.host === listen.host) {
      ctx.fail('listen', `${formatHostPort(listen)} is already the listen address of service "${other.service}"`);
    }
    if (isUnspecifiedHost(other.hp.host) || isUnspecifiedHost(listen.host)) {
      ctx.fail(
        'listen',
        `${formatHostPort(listen)} conflicts with ${formatHostPort(other.hp)} of service "${other.service}" ` +
          `(an all-addresses listener takes the port on every address)`,
      );
    }
  }
  seen.listens.push({ hp: listen, service: name });
  if (raw['routes'] !== undefined) ctx.fail('routes', 'is not allowed for protocol tcp: a tcp connection has no path');
  const pool = parsePool<Ctx, HostPort>(ctx, raw, routingParsers('tcp', opts, dirname(top.file), denyTemplate), 'tcp');
  const target = pool?.targets[0]?.address ?? parseTcpTarget(ctx, raw['target']);
  const access = parseAccess(ctx, raw['access'], opts, 'tcp', dirname(top.file));
  const svc: TcpServiceConfig = { name, protocol, listen, target, access };
  if (pool !== undefined) svc.pool = pool;
  return svc;
}

/** The first alias that looks like an unquoted wildcard domain (`*.example.org`), with its offset. */
function firstWildcardAlias(doc: Document.Parsed): { name: string; offset: number } | undefined {
  let found: { name: string; offset: number } | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (found === undefined && node.source.startsWith('.') && node.range !== undefined && node.range !== null) {
        found = { name: node.source, offset: node.range[0] };
        return visit.BREAK;
      }
      return undefined;
    },
  });
  return found;
}

/** Parses and validates services.yaml text. `file` names it in messages and is the base of relative tls/upstream_tls paths. Throws ConfigError. */
export function parseServicesConfig(text: string, file: string, opts: LoadOptions): ServicesConfig {
  const top: Ctx = new Ctx(file);
  const lineCounter = new LineCounter();
  const docs = parseAllDocuments(text, {
    lineCounter,
    prettyErrors: false,
    uniqueKeys: true,
    stringKeys: true,
    logLevel: 'silent',
  });
  const all = Array.isArray(docs) ? docs : [];
  for (const d of all) {
    const yamlError = d.errors[0];
    if (yamlError !== undefined) {
      const pos = lineCounter.linePos(yamlError.pos[0]);
      throw new ConfigError(`invalid YAML: ${yamlError.message}`, { file, line: pos.line, column: pos.col });
    }
  }
  const second = all[1];
  if (second !== undefined) {
    const pos = lineCounter.linePos(second.range[0]);
    throw new ConfigError('invalid YAML: the file contains more than one document ("---"); expected one', {
      file,
      line: pos.line,
      column: pos.col,
    });
  }
  const doc = all[0];
  let data: unknown;
  try {
    data = doc === undefined ? null : doc.toJS({ maxAliasCount: 100 });
  } catch (err) {
    const alias = doc === undefined ? undefined : firstWildcardAlias(doc);
    if (alias !== undefined) {
      const pos = lineCounter.linePos(alias.offset);
      const text = `*${alias.name}`;
      throw new ConfigError(
        `invalid YAML: ${text} is read as a YAML alias because it starts with "*": quote it, e.g. "${text}"`,
        {
          file,
          line: pos.line,
          column: pos.col,
        },
        { cause: err },
      );
    }
    throw new ConfigError(`invalid YAML: ${err instanceof Error ? err.message : String(err)}`, { file }, { cause: err });
  }
  if (data === null || data === undefined) {
    top.fail(undefined, 'the file is empty; expected a mapping with a "services" list (use "services: []" for none)');
  }
  if (!isMapping(data)) top.fail(undefined, `the top level must be a mapping with a "services" list; got ${describe(data)}`);
  top.checkKeys(data, TOP_KEYS, '');
  const rawServices = data['services'];
  if (rawServices === undefined) top.fail('services', 'is required (use "services: []" for none)');
  if (!Array.isArray(rawServices)) top.fail('services', `must be a list (use "services: []" for none); got ${describe(rawServices)}`);

  let denyTemplate: DenyTemplate | undefined;
  if (opts.denyTemplate !== undefined) {
    const read = readDenyTemplate(opts.denyTemplate);
    if ('error' in read) throw new ConfigError(`--deny-template / NB_PROXY_DENY_TEMPLATE: ${read.error}`, { file });
    denyTemplate = read;
  }
  const seen: Seen = { names: new Map(), domains: new Map(), listens: [] };
  const services = collectServiceErrors(rawServices, (raw, i) => parseService(top, raw, i, seen, opts, denyTemplate));
  return { file, text, services };
}

/** Reads and parses services.yaml. Throws ConfigError, also when the file cannot be read. */
export async function loadServicesConfig(file: string, opts: LoadOptions): Promise<ServicesConfig> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new ConfigError(missingConfigReason(), { file }, { cause: err });
    const detail = err instanceof Error ? err.message : String(err);
    throw new ConfigError(`cannot read the file${code === undefined ? '' : ` (${code})`}: ${detail}`, { file }, { cause: err });
  }
  return parseServicesConfig(text, file, opts);
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const x = [...a].sort();
  const y = [...b].sort();
  return x.every((v, i) => v === y[i]);
}

function hostPortEquals(a: HostPort, b: HostPort): boolean {
  return a.host === b.host && a.port === b.port;
}

function accessEquals(a: AccessConfig, b: AccessConfig): boolean {
  return (
    a.crowdsec === b.crowdsec &&
    appsecEquals(a.appsec, b.appsec) &&
    challengeEquals(a.challenge, b.challenge) &&
    sameSet(a.cidr.allow, b.cidr.allow) &&
    sameSet(a.cidr.deny, b.cidr.deny) &&
    sameSet(a.countries.allow, b.countries.allow) &&
    sameSet(a.countries.deny, b.countries.deny)
  );
}

/**
 * Semantic equality of two validated services, for reload. Lists (domains, CIDRs, countries) are
 * compared as sets, since their order has no effect; the http target by its normalised href.
 */
export function serviceEquals(a: ServiceConfig, b: ServiceConfig): boolean {
  if (a.name !== b.name || !accessEquals(a.access, b.access) || !routingEquals(a, b)) return false;
  if (a.protocol === 'http' && b.protocol === 'http') {
    return sameSet(a.domains, b.domains) && a.target.href === b.target.href && httpTlsEquals(a, b) && httpDenyEquals(a, b) && authEquals(a.auth, b.auth);
  }
  if (a.protocol === 'tcp' && b.protocol === 'tcp') {
    return hostPortEquals(a.listen, b.listen) && hostPortEquals(a.target, b.target);
  }
  return false;
}
