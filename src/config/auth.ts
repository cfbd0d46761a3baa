// The `auth:` block of an http service (docs/auth.md): one of password, pin, oidc, header, plus
// session and headers. Secret files (client_secret_file, value_file) are read here, at load: a
// request never reads a file, and their contents never appear in a message.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { parseHash } from '../auth/secret-hash';
import { DEFAULT_IDENTITY_HEADERS, DEFAULT_SESSION_MS, type AuthConfig, type AuthCredential, type IdentityHeaders, type OidcSettings } from '../auth/types';
import { tryParseGoDuration } from '../util/duration';
import { describe, isMapping, type FieldCtx, type Mapping } from './values';

export const AUTH_METHODS = ['password', 'pin', 'oidc', 'header'] as const;
export const AUTH_KEYS = [...AUTH_METHODS, 'session', 'headers'] as const;
export const AUTH_HASH_KEYS = ['hash'] as const;
export const AUTH_PIN_KEYS = ['hash', 'length'] as const;
export const AUTH_OIDC_KEYS = ['issuer', 'client_id', 'client_secret_file', 'scopes', 'groups_claim', 'allowed_groups', 'allowed_emails'] as const;
export const AUTH_HEADER_KEYS = ['name', 'value_file'] as const;
export const AUTH_HEADERS_KEYS = ['user', 'email', 'groups'] as const;
const TOKEN_RE = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED_HEADERS = [
  'host',
  'cookie',
  'authorization',
  'content-length',
  'content-type',
  'transfer-encoding',
  'connection',
  'upgrade',
  'x-forwarded-for',
  'x-request-id',
];
const MAX_SECRET_FILE_BYTES = 64 * 1024;

function mapping(ctx: FieldCtx, v: unknown, field: string, keys: readonly string[], example: string): Mapping {
  if (!isMapping(v)) ctx.fail(field, `must be a mapping, e.g. ${example}; got ${describe(v)}`);
  ctx.checkKeys(v, keys, field);
  return v;
}

function hash(ctx: FieldCtx, v: unknown, field: string): string {
  if (v === undefined || v === null) ctx.fail(field, 'is required (the output of `netbird-proxy hash-password`)');
  const s = ctx.string(v, field).trim();
  const parsed = parseHash(s);
  if ('error' in parsed) ctx.fail(field, parsed.error);
  return s;
}

export function secretFile(ctx: FieldCtx, v: unknown, field: string, baseDir: string): { path: string; value: string } {
  if (v === undefined || v === null) ctx.fail(field, 'is required (a file path)');
  const s = ctx.string(v, field);
  if (s.trim() === '') ctx.fail(field, 'must not be empty (a file path)');
  const path = isAbsolute(s) ? s : resolve(baseDir, s);
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    return ctx.fail(field, `cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  if (bytes.length > MAX_SECRET_FILE_BYTES) ctx.fail(field, `${path} is larger than ${MAX_SECRET_FILE_BYTES} bytes; expected a secret`);
  const value = bytes.toString('utf8').trim();
  if (value === '') ctx.fail(field, `${path} is empty`);
  return { path, value };
}

function headerName(ctx: FieldCtx, v: unknown, field: string): string {
  const s = ctx.string(v, field);
  if (!TOKEN_RE.test(s)) ctx.fail(field, `${JSON.stringify(s)} is not a valid HTTP header name`);
  return s.toLowerCase();
}

function stringList(ctx: FieldCtx, v: unknown, field: string, example: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) ctx.fail(field, `must be a list, e.g. ${example}; got ${describe(v)}`);
  return v.map((item, i) => {
    const s = ctx.string(item, `${field}[${i}]`);
    if (s === '') ctx.fail(`${field}[${i}]`, 'must not be empty');
    return s;
  });
}

function parseOidc(ctx: FieldCtx, v: Mapping, baseDir: string): OidcSettings {
  const f = 'auth.oidc';
  const rawIssuer = v['issuer'];
  if (rawIssuer === undefined || rawIssuer === null) ctx.fail(`${f}.issuer`, 'is required (the provider URL, e.g. https://id.example.com)');
  const issuerText = ctx.string(rawIssuer, `${f}.issuer`);
  let issuer: URL;
  try {
    issuer = new URL(issuerText);
  } catch {
    return ctx.fail(`${f}.issuer`, `${JSON.stringify(issuerText)} is not an absolute URL, e.g. https://id.example.com`);
  }
  const loopback = issuer.hostname === 'localhost' || issuer.hostname === '[::1]' || /^127\./.test(issuer.hostname);
  if (issuer.protocol !== 'https:' && !(issuer.protocol === 'http:' && loopback)) {
    ctx.fail(`${f}.issuer`, `${JSON.stringify(issuerText)} must be an https:// URL (http:// only on a loopback address)`);
  }
  if (issuer.username !== '' || issuer.password !== '') ctx.fail(`${f}.issuer`, 'must not contain credentials');
  const rawId = v['client_id'];
  if (rawId === undefined || rawId === null) ctx.fail(`${f}.client_id`, 'is required');
  const clientId = ctx.string(rawId, `${f}.client_id`);
  if (clientId === '') ctx.fail(`${f}.client_id`, 'must not be empty');
  const secret =
    v['client_secret_file'] === undefined || v['client_secret_file'] === null
      ? undefined
      : secretFile(ctx, v['client_secret_file'], `${f}.client_secret_file`, baseDir);
  const scopes =
    v['scopes'] === undefined || v['scopes'] === null
      ? ['openid', 'email', 'profile']
      : stringList(ctx, v['scopes'], `${f}.scopes`, '[openid, email, profile, groups]');
  if (!scopes.includes('openid')) ctx.fail(`${f}.scopes`, 'must include openid');
  const groupsClaim = v['groups_claim'] === undefined || v['groups_claim'] === null ? 'groups' : ctx.string(v['groups_claim'], `${f}.groups_claim`);
  const allowedGroups = stringList(ctx, v['allowed_groups'], `${f}.allowed_groups`, '[admins]');
  const allowedEmails = stringList(ctx, v['allowed_emails'], `${f}.allowed_emails`, '[alice@example.com]').map((e) => e.toLowerCase());
  return { issuer, clientId, clientSecret: secret?.value, clientSecretFile: secret?.path, scopes, groupsClaim, allowedGroups, allowedEmails };
}

function parseCredential(ctx: FieldCtx, method: (typeof AUTH_METHODS)[number], v: unknown, baseDir: string): AuthCredential {
  const f = `auth.${method}`;
  switch (method) {
    case 'password':
      return { method, hash: hash(ctx, mapping(ctx, v, f, AUTH_HASH_KEYS, '{ hash: "$scrypt$..." }')['hash'], `${f}.hash`) };
    case 'pin': {
      const m = mapping(ctx, v, f, AUTH_PIN_KEYS, '{ hash: "$scrypt$...", length: 6 }');
      const length = m['length'] ?? 6;
      if (typeof length !== 'number' || !Number.isInteger(length) || length < 4 || length > 12) {
        ctx.fail(`${f}.length`, `must be a whole number from 4 to 12, got ${describe(length)}`);
      }
      return { method, hash: hash(ctx, m['hash'], `${f}.hash`), length };
    }
    case 'oidc':
      return { method, oidc: parseOidc(ctx, mapping(ctx, v, f, AUTH_OIDC_KEYS, '{ issuer: https://id.example.com, client_id: proxy }'), baseDir) };
    case 'header': {
      const m = mapping(ctx, v, f, AUTH_HEADER_KEYS, '{ name: Authorization, value_file: /run/secrets/bearer }');
      if (m['name'] === undefined || m['name'] === null) ctx.fail(`${f}.name`, 'is required (e.g. Authorization)');
      const name = headerName(ctx, m['name'], `${f}.name`);
      // Removed before the request goes upstream: never one the request needs.
      if (name !== 'authorization' && RESERVED_HEADERS.includes(name))
        ctx.fail(`${f}.name`, `${JSON.stringify(m['name'])} is a header the request itself needs; choose another name`);
      const file = secretFile(ctx, m['value_file'], `${f}.value_file`, baseDir);
      return { method, name, value: file.value, valueFile: file.path };
    }
  }
}

function parseHeaders(ctx: FieldCtx, v: unknown): IdentityHeaders {
  if (v === undefined || v === null) return DEFAULT_IDENTITY_HEADERS;
  const m = mapping(ctx, v, 'auth.headers', AUTH_HEADERS_KEYS, '{ user: Remote-User, email: Remote-Email, groups: Remote-Groups }');
  const out = { ...DEFAULT_IDENTITY_HEADERS };
  for (const key of AUTH_HEADERS_KEYS) {
    if (m[key] === undefined || m[key] === null) continue;
    const name = headerName(ctx, m[key], `auth.headers.${key}`);
    // These are removed from every request to the service: never one the request needs.
    if (RESERVED_HEADERS.includes(name)) ctx.fail(`auth.headers.${key}`, `${JSON.stringify(m[key])} is a header the request itself needs; choose another name`);
    out[key] = name;
  }
  return out;
}

/** Undefined when the service has no auth. `baseDir` resolves relative secret file paths. */
export function parseAuth(ctx: FieldCtx, raw: Mapping, baseDir: string): { auth?: AuthConfig } {
  const v = raw['auth'];
  if (v === undefined || v === null) return {};
  const m = mapping(ctx, v, 'auth', AUTH_KEYS, '{ password: { hash: "$scrypt$..." } }');
  const methods = AUTH_METHODS.filter((k) => m[k] !== undefined && m[k] !== null);
  const first = methods[0];
  if (first === undefined) ctx.fail('auth', `needs one of ${AUTH_METHODS.join(', ')}`);
  if (methods.length > 1) ctx.fail(`auth.${methods[1] ?? ''}`, `only one method per service: ${methods.join(' and ')} are both set`);
  const credential = parseCredential(ctx, first, m[first], baseDir);
  let sessionMs = DEFAULT_SESSION_MS;
  if (m['session'] !== undefined && m['session'] !== null) {
    if (credential.method === 'header') ctx.fail('auth.session', 'is not used with auth.header: every request carries the header');
    const s = ctx.string(m['session'], 'auth.session');
    sessionMs = tryParseGoDuration(s);
    if (!Number.isFinite(sessionMs) || sessionMs < 60_000 || sessionMs > 400 * 86_400_000) {
      ctx.fail('auth.session', `${JSON.stringify(s)} must be a duration from 1m to 9600h (e.g. 12h)`);
    }
  }
  return { auth: { credential, sessionMs, headers: parseHeaders(ctx, m['headers']) } };
}

/** Equal when a reload need not rebuild the service's auth (file contents included). */
export function authEquals(a: AuthConfig | undefined, b: AuthConfig | undefined): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

export type AuthDocument = Record<string, unknown>;

/** The block in services.yaml form (validate --json): file paths, never their contents. */
export function authDocument(a: AuthConfig): AuthDocument {
  const c = a.credential;
  let method: Record<string, unknown>;
  switch (c.method) {
    case 'password':
      method = { hash: c.hash };
      break;
    case 'pin':
      method = { hash: c.hash, length: c.length };
      break;
    case 'header':
      method = { name: c.name, value_file: c.valueFile };
      break;
    case 'oidc': {
      const o = c.oidc;
      method = {
        issuer: o.issuer.href,
        client_id: o.clientId,
        scopes: [...o.scopes],
        groups_claim: o.groupsClaim,
        allowed_groups: [...o.allowedGroups],
        allowed_emails: [...o.allowedEmails],
      };
      if (o.clientSecretFile !== undefined) method['client_secret_file'] = o.clientSecretFile;
      break;
    }
  }
  const doc: AuthDocument = { [c.method]: method, headers: { ...a.headers } };
  if (c.method !== 'header') doc['session'] = `${a.sessionMs / 1000}s`;
  return doc;
}
