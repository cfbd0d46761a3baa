// JSON Schema pieces for a service's routing (routes.ts): targets, balance, health, routes.
import { BALANCE_POLICIES, type HEADERS_KEYS, type HEALTH_KEYS, type ROUTE_KEYS, type TARGET_KEYS } from './routes';

// The same shapes as schema.ts's (which imports this file).
type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
type JsonSchema = { [key: string]: JsonValue } | boolean;

const DURATION = '^(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:ns|us|µs|ms|s|m|h)(?:(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:ns|us|µs|ms|s|m|h))*$';
const PATH = '^/[\\x21-\\x7e]*$';

export function targets(description: string, pattern?: string): JsonSchema {
  return {
    description,
    type: 'array',
    minItems: 1,
    items: {
      oneOf: [
        pattern === undefined ? { type: 'string' } : { type: 'string', pattern },
        {
          type: 'object',
          additionalProperties: false,
          required: ['url'],
          properties: {
            url: pattern === undefined ? { type: 'string' } : { type: 'string', pattern },
            weight: { description: 'share of the requests (default 1)', type: ['integer', 'null'], minimum: 1, maximum: 1000 },
            backup: { description: 'used only when every other target is down', type: ['boolean', 'null'] },
          } satisfies Record<(typeof TARGET_KEYS)[number], JsonSchema>,
        },
      ],
    },
  };
}

const health: JsonSchema = {
  description: 'passive (max_fails, fail_timeout) and, with any other key, active health checks',
  type: ['object', 'null'],
  additionalProperties: false,
  properties: {
    path: { description: 'http: the path probed with GET (default /)', type: 'string', pattern: PATH },
    interval: { description: 'time between probes (default 10s)', type: 'string', pattern: DURATION },
    timeout: { description: 'a probe slower than this fails (default 2s)', type: 'string', pattern: DURATION },
    healthy: { description: 'consecutive successes that bring a target back (default 2)', type: 'integer', minimum: 1, maximum: 100 },
    unhealthy: { description: 'consecutive failures that take a target down (default 3)', type: 'integer', minimum: 1, maximum: 100 },
    max_fails: { description: 'failed requests within fail_timeout that take a target down (default 1; 0: never)', type: 'integer', minimum: 0, maximum: 1000 },
    fail_timeout: { description: 'window of max_fails, and how long the target stays down (default 10s)', type: 'string', pattern: DURATION },
  } satisfies Record<(typeof HEALTH_KEYS)[number], JsonSchema>,
};

/** The service-level keys: targets, balance, health, routes. */
export function routingProps(httpTarget: string): Record<'targets' | 'balance' | 'health' | 'routes', JsonSchema> {
  const route: Record<(typeof ROUTE_KEYS)[number], JsonSchema> = {
    path: { description: 'path prefix; the longest matching route wins', type: 'string', pattern: PATH },
    target: { description: 'one upstream URL for this route', type: 'string', pattern: httpTarget },
    targets: targets("upstreams of this route (default: the service's)", httpTarget),
    balance: { enum: [...BALANCE_POLICIES, null] },
    health,
    strip_prefix: { description: 'remove the path prefix before forwarding', type: ['boolean', 'null'] },
    rewrite: { description: 'replace the path prefix with this before forwarding', type: 'string', pattern: PATH },
    headers: {
      description: 'request headers sent upstream',
      type: ['object', 'null'],
      additionalProperties: false,
      properties: {
        set: { type: ['object', 'null'], additionalProperties: { type: ['string', 'number', 'boolean'] } },
        remove: { type: ['array', 'null'], items: { type: 'string' } },
      } satisfies Record<(typeof HEADERS_KEYS)[number], JsonSchema>,
    },
    access: { $ref: '#/definitions/access' },
    deny: { $ref: '#/definitions/service/properties/deny' },
    auth: {
      description: "this route's own login (password, pin or header), instead of the service's; off: none on this route",
      anyOf: [{ const: 'off' }, { $ref: '#/definitions/service/properties/auth' }],
    },
  };
  return {
    targets: targets('several upstreams instead of target'),
    balance: { description: 'round_robin (default), least_conn, ip_hash, cookie (http only)', enum: [...BALANCE_POLICIES, null] },
    health,
    routes: {
      description: "http only: path routes, longest prefix first; the service's target(s) serve the rest",
      type: ['array', 'null'],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path'],
        properties: route,
        not: { required: ['strip_prefix', 'rewrite'], properties: { strip_prefix: { const: true }, rewrite: { type: 'string' } } },
      },
    },
  };
}
