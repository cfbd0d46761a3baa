// The JSON Schema of an http service's `auth:` block (src/config/auth.ts is the loader), used by schema.ts.
import { type AUTH_HEADER_KEYS, AUTH_HEADERS_KEYS, AUTH_METHODS, type AUTH_OIDC_KEYS } from './auth';

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const HASH: Json = {
  description: 'the output of `netbird-proxy hash-password`',
  type: 'string',
  pattern: '^\\$scrypt\\$N=\\d+,r=\\d+,p=\\d+\\$[A-Za-z0-9+/]+\\$[A-Za-z0-9+/]+$',
};
const LIST: Json = { type: ['array', 'null'], items: { type: 'string', minLength: 1 } };
const HEADER_NAME: Json = { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$" };

const METHODS: Record<(typeof AUTH_METHODS)[number], Json> = {
  password: { type: 'object', additionalProperties: false, required: ['hash'], properties: { hash: HASH } },
  pin: {
    type: 'object',
    additionalProperties: false,
    required: ['hash'],
    properties: { hash: HASH, length: { description: 'digits (default 6)', type: 'integer', minimum: 4, maximum: 12 } },
  },
  oidc: {
    type: 'object',
    additionalProperties: false,
    required: ['issuer', 'client_id'],
    properties: {
      issuer: {
        description: 'the provider URL (discovery at /.well-known/openid-configuration); https://, or http:// on loopback',
        type: 'string',
        pattern: '^[Hh][Tt][Tt][Pp][Ss]?://',
      },
      client_id: { type: 'string', minLength: 1 },
      client_secret_file: { description: 'file holding the client secret; absent: a public client (PKCE)', type: ['string', 'null'], minLength: 1 },
      scopes: { ...(LIST as object), description: 'default [openid, email, profile]; must include openid', contains: { const: 'openid' } },
      groups_claim: { description: 'claim holding the groups (default groups)', type: ['string', 'null'] },
      allowed_groups: { ...(LIST as object), description: 'when non-empty, the user must be in one of these' },
      allowed_emails: { ...(LIST as object), description: 'when non-empty, the user e-mail must be one of these' },
    } satisfies Record<(typeof AUTH_OIDC_KEYS)[number], Json>,
  },
  header: {
    type: 'object',
    additionalProperties: false,
    required: ['name', 'value_file'],
    properties: { name: HEADER_NAME, value_file: { type: 'string', minLength: 1 } } satisfies Record<(typeof AUTH_HEADER_KEYS)[number], Json>,
  },
};

export function authSchema(): { [key: string]: Json } {
  return {
    description: 'http only: who may use the service: one of password, pin, oidc, header (docs/auth.md)',
    type: ['object', 'null'],
    additionalProperties: false,
    properties: {
      ...METHODS,
      session: { description: 'lifetime of the session cookie, a Go duration from 1m (default 12h)', type: ['string', 'null'] },
      headers: {
        description: 'names of the identity headers sent upstream (default X-Auth-User, X-Auth-Email, X-Auth-Groups)',
        type: ['object', 'null'],
        additionalProperties: false,
        properties: Object.fromEntries(AUTH_HEADERS_KEYS.map((k) => [k, HEADER_NAME])),
      },
    },
    oneOf: AUTH_METHODS.map((m) => ({ required: [m] })),
  };
}
