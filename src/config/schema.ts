// JSON Schema (draft-07) for services.yaml, built from the loader's own vocabulary (keys.ts,
// countries.ts) and written to config/services.schema.json by `npm run schema`. A test checks
// that the file is current and that schema and loader agree on every example and error case.
// What a schema cannot say (uniqueness across services, CIDR host bits, listen conflicts, ...)
// only the loader checks; docs/operations.md lists it.
import { authSchema } from './auth-schema';
import { EXTRA_COUNTRY_CODES, ISO_3166_1_ALPHA2 } from './countries';
import {
  type ACCESS_KEYS,
  ALLOW_DENY_KEYS,
  APPSEC_MODES,
  CHALLENGE_MODES,
  CROWDSEC_MODES,
  DENY_REDIRECT_STATUSES,
  NAME_RE,
  PROTOCOLS,
  type SERVICE_KEYS,
  TLS_FILE_KEYS,
  TLS_MODES,
  TOP_KEYS,
  type UPSTREAM_TLS_KEYS,
} from './keys';
import { routingProps, targets } from './routes-schema';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
export type JsonSchema = { [key: string]: JsonValue } | boolean;

// ---- regular expression pieces (ECMAScript, valid with the "u" flag)

const OCTET = '(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
/** Four decimal octets without leading zeros, as node:net isIPv4 accepts. */
const IPV4 = `${OCTET}(?:\\.${OCTET}){3}`;
const H16 = '[0-9A-Fa-f]{1,4}';
const LS32 = `(?:${H16}:${H16}|${IPV4})`;
/** RFC 3986 IPv6address. */
const IPV6 = `(?:${[
  `(?:${H16}:){6}${LS32}`,
  `::(?:${H16}:){5}${LS32}`,
  `(?:${H16})?::(?:${H16}:){4}${LS32}`,
  `(?:(?:${H16}:){0,1}${H16})?::(?:${H16}:){3}${LS32}`,
  `(?:(?:${H16}:){0,2}${H16})?::(?:${H16}:){2}${LS32}`,
  `(?:(?:${H16}:){0,3}${H16})?::${H16}:${LS32}`,
  `(?:(?:${H16}:){0,4}${H16})?::${LS32}`,
  `(?:(?:${H16}:){0,5}${H16})?::${H16}`,
  `(?:(?:${H16}:){0,6}${H16})?::`,
].join('|')})`;

/** A host name ending right before `end`: labels of 1-63, the last not all digits, at most 253 characters. */
function hostName(underscore: boolean, end: string): string {
  const c = underscore ? 'A-Za-z0-9_' : 'A-Za-z0-9';
  const label = `[${c}](?:[${c}-]{0,61}[${c}])?`;
  return `(?=[^:/\\]]{1,253}${end})(?:${label}\\.)*(?![0-9]+${end})${label}`;
}

const PORT = '(?:6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3})';
/** host:port as checkHostPort reads it: IPv4, [IPv6] (a zone allowed) or a host name with "_". */
const HOST_PORT = `(?:${IPV4}|\\[${IPV6}(?:%[^\\]]+)?\\]|${hostName(true, ':')}):${PORT}`;
const UNSPECIFIED = '(?:0\\.0\\.0\\.0|\\[::\\])';
const SCHEME = '[Hh][Tt][Tt][Pp][Ss]?://';

export const PATTERNS = {
  name: NAME_RE.source,
  domain: `^(?:${IPV4}|(?:\\*\\.)?${hostName(false, '$')})$`,
  httpTarget: `^(?!${SCHEME}${UNSPECIFIED}(?::|/|$))${SCHEME}(?:${IPV4}|\\[${IPV6}\\]|${hostName(true, '(?::|/|$)')})(?::${PORT})?/?$`,
  listen: `^${HOST_PORT}$`,
  tcpTarget: `^(?!${UNSPECIFIED}:)${HOST_PORT}$`,
  cidr: `^(?:${IPV4}(?:/(?:3[0-2]|[12]?[0-9]))?|${IPV6}(?:/(?:12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$`,
  country: `^(?:${[...ISO_3166_1_ALPHA2, ...EXTRA_COUNTRY_CODES]
    .sort()
    .map((code) => [...code].map((ch) => `[${ch}${ch.toLowerCase()}]`).join(''))
    .join('|')})$`,
} as const;

function allowDeny(item: string, description: string, example: string[]): JsonSchema {
  const list: JsonSchema = { type: ['array', 'null'], items: { $ref: `#/definitions/${item}` }, uniqueItems: true };
  return {
    description,
    type: ['object', 'null'],
    additionalProperties: false,
    properties: Object.fromEntries(
      ALLOW_DENY_KEYS.map((k) => [
        k,
        { ...list, description: k === 'allow' ? 'when non-empty, a client must match one of these' : 'a client matching one of these is refused' },
      ]),
    ),
    examples: [{ allow: example, deny: [] }],
  };
}

export function servicesSchema(): JsonSchema {
  const serviceProps: Record<(typeof SERVICE_KEYS)[number], JsonSchema> = {
    name: { description: 'unique service name: lower-case letters, digits and "-"', type: 'string', pattern: PATTERNS.name },
    protocol: { description: 'http: selected by Host on the shared --http-addr listener; tcp: its own listener', enum: [...PROTOCOLS] },
    domains: {
      description: 'http only: host names matched against the Host header without its port; "*." as the whole first label matches one label',
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { type: 'string', pattern: PATTERNS.domain },
    },
    listen: { description: 'tcp only: host:port to listen on (IPv6 in brackets: "[::]:2222")', type: 'string', pattern: PATTERNS.listen },
    target: { description: 'http: an http:// or https:// URL without path; tcp: host:port', type: 'string' },
    access: { $ref: '#/definitions/access' },
    tls: {
      description: 'http only: off (default), acme (certificates from --acme-directory), or { cert, key } files (watched, reloaded)',
      oneOf: [
        { enum: [...TLS_MODES, false, null] },
        {
          type: 'object',
          additionalProperties: false,
          required: [...TLS_FILE_KEYS],
          properties: Object.fromEntries(TLS_FILE_KEYS.map((k) => [k, { type: 'string', minLength: 1 }])),
        },
      ],
    },
    redirect_https: { description: 'http only: answer plain HTTP with 308 to https:// (default true when tls is not off)', type: ['boolean', 'null'] },
    upstream_tls: {
      description: 'http only, https:// targets: how the upstream certificate is checked',
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        ca: { type: ['string', 'null'], minLength: 1 },
        insecure_skip_verify: { type: ['boolean', 'null'] },
        server_name: { type: ['string', 'null'] },
      } satisfies Record<(typeof UPSTREAM_TLS_KEYS)[number], JsonSchema>,
    },
    deny: {
      description: 'http only: what a denied client gets: a page ({ status, template, contact_url }) or a redirect ({ redirect, status }); docs/deny-page.md',
      oneOf: [
        { type: 'null' },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            status: { description: 'HTTP status of the page (default 403)', type: ['integer', 'null'], minimum: 400, maximum: 599 },
            template: {
              description: 'HTML template file with {{reason}} {{request_id}} ... (default: --deny-template, else built in)',
              type: ['string', 'null'],
              minLength: 1,
            },
            contact_url: {
              description: 'link shown on the page: http(s):// or mailto: URL',
              type: ['string', 'null'],
              pattern: '^(?:[Hh][Tt][Tt][Pp][Ss]?://|[Mm][Aa][Ii][Ll][Tt][Oo]:)',
            },
          },
        },
        {
          type: 'object',
          additionalProperties: false,
          required: ['redirect'],
          properties: {
            redirect: { description: 'send every denied client here', type: 'string', pattern: `^${SCHEME}[^/?#]` },
            status: { description: 'redirect status (default 302)', enum: [...DENY_REDIRECT_STATUSES, null] },
          },
        },
      ],
    },
    forward_verdict: {
      description: 'http only: send X-Crowdsec-Remediation (observe verdicts) and X-Country-Code (when known) to the upstream',
      type: ['boolean', 'null'],
    },
    ...routingProps(PATTERNS.httpTarget),
    auth: authSchema(),
  };
  const accessProps: Record<(typeof ACCESS_KEYS)[number], JsonSchema> = {
    cidr: allowDeny('cidr', 'client networks: IPv4/IPv6 CIDRs or bare addresses', ['10.0.0.0/8']),
    countries: allowDeny('country', 'ISO 3166-1 alpha-2 country codes of the client address', ['DE', 'FR']),
    crowdsec: {
      description: 'off (default), enforce (refuse clients with a CrowdSec decision) or observe (log only); enforce/observe need --crowdsec-api-url and a key',
      enum: [...CROWDSEC_MODES, false, null],
    },
    appsec: {
      description:
        'http only: off (default), enforce (CrowdSec AppSec judges each request; denials get the deny page) or observe (log only), or { mode, skip_paths }; needs --appsec-url (docs/appsec.md)',
      oneOf: [
        { enum: [...APPSEC_MODES, false, null] },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            mode: { enum: [...APPSEC_MODES, false, null] },
            skip_paths: {
              description: 'path prefixes never sent to the engine, e.g. [/upload/]',
              type: ['array', 'null'],
              uniqueItems: true,
              items: { type: 'string', pattern: '^/[^?#\\s]*$' },
            },
          },
        },
      ],
    },
    challenge: {
      description:
        'http only: what a client with a CrowdSec captcha decision (or an AppSec captcha action) gets: off (default: denied), pow (a proof-of-work page served by the proxy), or { mode: turnstile|hcaptcha|recaptcha, site_key, secret_file } (docs/challenge.md)',
      oneOf: [
        { enum: ['off', 'pow', false, null] },
        {
          type: 'object',
          additionalProperties: false,
          properties: {
            mode: { enum: [...CHALLENGE_MODES, false, null] },
            site_key: { description: "the provider's site key", type: 'string', pattern: '^[\\x21-\\x7e]{1,256}$' },
            secret_file: { description: "file holding the provider's secret key (read at load, never logged)", type: 'string', minLength: 1 },
          },
          if: { properties: { mode: { enum: ['turnstile', 'hcaptcha', 'recaptcha'] } }, required: ['mode'] },
          then: { required: ['site_key', 'secret_file'] },
          else: { properties: { site_key: false, secret_file: false } },
        },
      ],
    },
  };
  const only = (protocol: string, then: JsonSchema): JsonSchema => ({
    if: { properties: { protocol: { const: protocol } }, required: ['protocol'] },
    then,
  });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'netbird-proxy services.yaml',
    description: 'Services of netbird-proxy. Generated from src/config/schema.ts by `npm run schema`; do not edit.',
    type: 'object',
    additionalProperties: false,
    required: [...TOP_KEYS],
    properties: {
      services: { description: 'the services; may be empty: services: []', type: 'array', items: { $ref: '#/definitions/service' } },
    },
    definitions: {
      service: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'protocol'],
        properties: serviceProps,
        allOf: [
          { oneOf: [{ required: ['target'] }, { required: ['targets'] }] },
          only('http', {
            required: ['domains'],
            properties: { listen: false, target: { type: 'string', pattern: PATTERNS.httpTarget }, targets: targets('several upstreams', PATTERNS.httpTarget) },
          }),
          only('tcp', {
            required: ['listen'],
            properties: {
              domains: false,
              tls: false,
              redirect_https: false,
              upstream_tls: false,
              deny: false,
              forward_verdict: false,
              routes: false,
              balance: { enum: ['round_robin', 'least_conn', 'ip_hash', null] },
              auth: false,
              access: {
                type: ['object', 'null'],
                properties: {
                  appsec: {
                    oneOf: [{ enum: ['off', false, null] }, { type: 'object', properties: { mode: { enum: ['off', false, null] } } }],
                  },
                  challenge: {
                    oneOf: [{ enum: ['off', false, null] }, { type: 'object', properties: { mode: { enum: ['off', false, null] } } }],
                  },
                },
              },
              target: { type: 'string', pattern: PATTERNS.tcpTarget },
              targets: targets('several upstreams', PATTERNS.tcpTarget),
            },
          }),
        ],
      },
      access: {
        description: 'optional; left out: everyone allowed, CrowdSec and AppSec off',
        type: ['object', 'null'],
        additionalProperties: false,
        properties: accessProps,
      },
      cidr: { type: 'string', pattern: PATTERNS.cidr },
      country: { type: 'string', pattern: PATTERNS.country },
    },
  };
}

/** The text of config/services.schema.json. */
export function servicesSchemaText(): string {
  return `${JSON.stringify(servicesSchema(), null, 2)}\n`;
}
