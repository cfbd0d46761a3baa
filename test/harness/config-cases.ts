// services.yaml examples shared by the loader tests (config.test.ts) and the schema agreement test
// (schema.test.ts): every valid example and every error case, with the loader's exact message.
import type { LoadOptions } from '../../src/config/load';

export const F = 'services.yaml';
export const CS: LoadOptions = { crowdsecAvailable: true, appsecAvailable: true };
export const NO_CS: LoadOptions = { crowdsecAvailable: false };
/** `netbird-proxy hash-password` of "pw". */
export const HASH = '$scrypt$N=32768,r=8,p=1$5s9fU4nf/c/fuXg2jBYrag$cu9sZ8ENToYJEy4xyGJzpnYgc+FHjW+Z9RwGZx6IwJc';

/** One http service "web" with the given extra/override lines (2-space indented under the item). */
export function http(extra = '', base = { domains: '[app.example.com]', target: 'http://127.0.0.1:3000' }): string {
  return `services:\n  - name: web\n    protocol: http\n    domains: ${base.domains}\n    target: ${base.target}\n${extra}`;
}
export function tcp(extra = '', listen = '0.0.0.0:2222', target = '127.0.0.1:22'): string {
  return `services:\n  - name: ssh\n    protocol: tcp\n    listen: ${listen}\n    target: ${target}\n${extra}`;
}
export function access(body: string): string {
  return `    access:\n${body
    .split('\n')
    .map((l) => `      ${l}`)
    .join('\n')}\n`;
}

export const FULL = `services:
  - name: web                       # unique, [a-z0-9-]+
    protocol: http                  # http | tcp
    domains: [app.example.com, "*.example.org"]
    target: http://127.0.0.1:3000
    access:
      cidr:      { allow: [10.0.0.0/8], deny: [10.6.6.0/24] }
      countries: { allow: [DE, FR], deny: [] }
      crowdsec: off
  - name: ssh
    protocol: tcp
    listen: 0.0.0.0:2222
    target: 127.0.0.1:22
    access: { crowdsec: observe }
`;

const two = (a: string, b: string): string => `services:\n${a}${b}`;

/** [what, yaml, options (default CS)]: every valid input the loader tests use. */
export const VALID_CASES: [string, string, LoadOptions?][] = [
  ['the spec example', FULL],
  ['no services', 'services: []\n'],
  [
    'routes and targets (the issue example)',
    `services:
  - name: cloud
    protocol: http
    domains: [cloud.example.com]
    target: http://10.0.0.5:8080
    routes:
      - path: /api/
        targets: [http://10.0.0.6:8080, http://10.0.0.7:8080, { url: http://10.0.0.8:8080, weight: 2 }, { url: http://10.0.0.9:8080, backup: true }]
        balance: round_robin
        strip_prefix: false
        headers: { set: { X-Env: prod }, remove: [X-Debug] }
        health: { path: /healthz, interval: 10s, timeout: 2s, healthy: 2, unhealthy: 3 }
        access: { crowdsec: off }
      - path: /v1/
        rewrite: /v2/
      - path: /admin/
        access: { cidr: { allow: [10.0.0.0/8] } }
        deny: { status: 404 }
`,
  ],
  [
    'service-level targets, cookie, passive health',
    http('    routes:\n      - path: /a\n        strip_prefix: true\n', { domains: '[app.example.com]', target: 'http://127.0.0.1:3000' }).replace(
      'target: http://127.0.0.1:3000',
      'targets: [http://127.0.0.1:3000, http://127.0.0.1:3001]\n    balance: cookie\n    health: { max_fails: 3, fail_timeout: 30s }',
    ),
  ],
  ['tcp targets', tcp('    balance: least_conn\n    health: { interval: 5s }\n').replace('target: 127.0.0.1:22', 'targets: [127.0.0.1:22, "[::1]:22"]')],
  ['minimal http', http()],
  ['empty values mean the default', http('    access:\n      cidr:\n      countries: { allow: }\n      crowdsec:\n'), NO_CS],
  ['crowdsec false', http('    access: { crowdsec: false }\n'), NO_CS],
  ['crowdsec off', http('    access: { crowdsec: off }\n'), NO_CS],
  ['crowdsec enforce', http('    access: { crowdsec: enforce }\n')],
  ['appsec enforce', http(access('appsec: enforce'))],
  ['appsec long form', http(access('appsec: { mode: observe, skip_paths: [/upload/, /api/files] }'))],
  ['appsec off without the engine', http(access('appsec: off')), NO_CS],
  ['appsec off on tcp', tcp(access('appsec: { mode: off }'))],
  ['challenge pow', http(access('crowdsec: enforce\nchallenge: pow'))],
  ['challenge long form off', http(access('challenge: { mode: off }')), NO_CS],
  ['challenge off on tcp', tcp(access('challenge: off'))],
  ['challenge per route', http(`    access: { crowdsec: enforce }\n    routes:\n      - path: /app/\n        access: { challenge: pow }\n`)],
  ...[
    '10.0.0.0/8',
    '1.2.3.4',
    '0.0.0.0/0',
    '2001:DB8:0:0::/32',
    '2001:db8:0000:0000:0000:0000:0000:0001',
    '::/0',
    '::1',
    '::ffff:10.0.0.0/104',
    '::ffff:1.2.3.4',
    'fe80::/10',
  ].map((cidr): [string, string] => [`CIDR ${cidr}`, http(access(`cidr: { allow: ["${cidr}"] }`))]),
  ['countries in either case, XK', http(access('countries: { allow: [de, Fr, XK], deny: [] }'))],
  [
    'domains: case, wildcard, IPv4 literal, localhost',
    http('', { domains: '[App.Example.COM, "*.Example.org", 192.168.1.10, localhost]', target: 'http://x:1' }),
  ],
  [
    'a wildcard and the names it matches in different services',
    two(
      '  - { name: a, protocol: http, domains: ["*.example.org"], target: "http://a:1" }\n',
      '  - { name: b, protocol: http, domains: [a.example.org, example.org], target: "http://b:1" }\n',
    ),
  ],
  ...['http://127.0.0.1:3000', 'http://127.0.0.1:3000/', 'HTTPS://Backend.Internal', 'http://[::1]:8080', 'http://my_service:80'].map(
    (target): [string, string] => [`http target ${target}`, http('', { domains: '[a.example.com]', target })],
  ),
  ['tcp IPv6 listen and target', tcp('', '"[::]:2222"', '"[2001:DB8::5]:22"')],
  ['tcp host names', tcp('', 'LocalHost:2222', 'Backend:22')],
  [
    'tcp listens that do not conflict',
    'services:\n  - { name: a, protocol: tcp, listen: "127.0.0.1:2222", target: "127.0.0.1:22" }\n  - { name: b, protocol: tcp, listen: "[::1]:2222", target: "127.0.0.1:22" }\n  - { name: c, protocol: tcp, listen: "0.0.0.0:2223", target: "127.0.0.1:22" }\n',
  ],
  ['auth password', http(`    auth: { password: { hash: "${HASH}" } }\n`)],
  [
    'auth pin, session and header names',
    http(`    auth:\n      pin: { hash: "${HASH}", length: 4 }\n      session: 30m\n      headers: { user: Remote-User }\n`),
  ],
  [
    'auth oidc, public client',
    http('    auth:\n      oidc: { issuer: https://id.example.com, client_id: proxy, allowed_groups: [admins], scopes: [openid, email, groups] }\n'),
  ],
];

/** [what, yaml, the loader's message, options (default CS)] */
export const ERROR_CASES: [string, string, string, LoadOptions?][] = [
  // --- YAML and top level
  ['YAML syntax error', 'services:\n  - name: web\n   protocol: http\n', `${F}: line 3, column 1: invalid YAML: Sequence item without - indicator`],
  ['duplicate YAML key', 'services: []\nservices: []\n', `${F}: line 2, column 1: invalid YAML: Map keys must be unique`],
  [
    'two YAML documents',
    'services: []\n---\nservices: []\n',
    `${F}: line 2, column 1: invalid YAML: the file contains more than one document ("---"); expected one`,
  ],
  ['non-string key', 'services: []\n? [a]\n: b\n', `${F}: line 2, column 3: invalid YAML: With stringKeys, all keys must be strings`],
  ['empty file', '# nothing\n', `${F}: the file is empty; expected a mapping with a "services" list (use "services: []" for none)`],
  ['top level is a list', '- a\n- b\n', `${F}: the top level must be a mapping with a "services" list; got a list`],
  ['top level is a scalar', 'hello\n', `${F}: the top level must be a mapping with a "services" list; got "hello"`],
  ['missing services', 'other: 1\n', `${F}: field "other": unknown key "other"; allowed keys: services`],
  ['services absent', '{}\n', `${F}: field "services": is required (use "services: []" for none)`],
  ['services null', 'services:\n', `${F}: field "services": must be a list (use "services: []" for none); got nothing`],
  ['services a set', 'services: !!set { a }\n', `${F}: field "services": must be a list (use "services: []" for none); got a Set`],
  ['services a mapping', 'services: { web: {} }\n', `${F}: field "services": must be a list (use "services: []" for none); got a mapping`],
  ['unknown top-level key', 'services: []\nservice: []\n', `${F}: field "service": unknown key "service" (did you mean "services"?); allowed keys: services`],
  ['service not a mapping', 'services:\n  - web\n', `${F}: services[0]: must be a mapping with name, protocol, target, ...; got "web"`],
  // --- name
  ['name missing', 'services:\n  - { protocol: http }\n', `${F}: services[0]: field "name": is required`],
  ['name not a string', 'services:\n  - { name: 12 }\n', `${F}: services[0]: field "name": must be a string, got 12`],
  ['name upper-case', 'services:\n  - { name: Web }\n', `${F}: services[0]: field "name": "Web" must match ^[a-z0-9-]+$ (lower-case letters, digits and "-")`],
  [
    'name with underscore',
    'services:\n  - { name: my_svc }\n',
    `${F}: services[0]: field "name": "my_svc" must match ^[a-z0-9-]+$ (lower-case letters, digits and "-")`,
  ],
  [
    'bad name in a later service',
    'services:\n  - { name: ok, protocol: http, domains: [a.example.com], target: "http://a:1" }\n  - { name: "" }\n',
    `${F}: services[1]: field "name": "" must match ^[a-z0-9-]+$ (lower-case letters, digits and "-")`,
  ],
  [
    'duplicate names',
    two(
      '  - { name: web, protocol: http, domains: [a.example.com], target: "http://a:1" }\n',
      '  - { name: web, protocol: http, domains: [b.example.com], target: "http://b:1" }\n',
    ),
    `${F}: service "web": field "name": duplicate service name "web" (also services[0])`,
  ],
  // --- routing
  [
    'target and targets',
    http('    targets: [http://127.0.0.1:3001]\n'),
    `${F}: service "web": field "targets": cannot be used together with "target": use one target or a list of targets`,
  ],
  [
    'cookie for tcp',
    tcp('    balance: cookie\n').replace('target: 127.0.0.1:22', 'targets: [127.0.0.1:22]'),
    `${F}: service "ssh": field "balance": "cookie" is not one of round_robin, least_conn, ip_hash (a tcp connection has no cookies)`,
  ],
  ['routes for tcp', tcp('    routes: []\n'), `${F}: service "ssh": field "routes": is not allowed for protocol tcp: a tcp connection has no path`],
  [
    'target weight 0',
    http('    routes:\n      - path: /x/\n        targets: [{ url: http://127.0.0.1:1, weight: 0 }]\n'),
    `${F}: service "web": field "routes[0].targets[0].weight": must be a whole number from 1 to 1000, got 0`,
  ],
  [
    'route target not a URL',
    http('    routes:\n      - path: /x/\n        targets: [ftp://127.0.0.1:1]\n'),
    `${F}: service "web": field "routes[0].targets[0]": "ftp://127.0.0.1:1" must be an http:// or https:// URL, e.g. "http://127.0.0.1:3000"`,
  ],
  [
    'unknown health key',
    http('    routes:\n      - path: /x/\n        targets: [http://127.0.0.1:1]\n        health: { intervall: 5s }\n'),
    `${F}: service "web": field "routes[0].health.intervall": unknown key "intervall" (did you mean "interval"?); allowed keys: path, interval, timeout, healthy, unhealthy, max_fails, fail_timeout`,
  ],
  [
    'route path without slash',
    http('    routes:\n      - path: api\n'),
    `${F}: service "web": field "routes[0].path": "api" must start with "/" and contain no spaces, "?" or "#"`,
  ],
  [
    'strip_prefix and rewrite',
    http('    routes:\n      - path: /a/\n        strip_prefix: true\n        rewrite: /b/\n'),
    `${F}: service "web": field "routes[0].rewrite": cannot be used together with strip_prefix: true (strip_prefix is rewrite: /)`,
  ],
  [
    'route access field',
    http('    routes:\n      - path: /a/\n        access: { cidr: { allow: [10.0.0.1/8] } }\n'),
    `${F}: service "web": field "routes[0].access.cidr.allow[0]": "10.0.0.1/8" is not a valid CIDR: it has host bits set; did you mean "10.0.0.0/8"?`,
  ],
  [
    'route path twice',
    http('    routes:\n      - path: /a/\n      - path: /a/\n'),
    `${F}: service "web": field "routes[1].path": "/a/" is listed twice (also routes[0])`,
  ],
  // --- unknown keys at every level
  [
    'unknown service key',
    http('    domain: x\n'),
    `${F}: service "web": field "domain": unknown key "domain" (did you mean "domains"?); allowed keys: name, protocol, domains, listen, target, access, tls, redirect_https, upstream_tls, deny, forward_verdict, targets, balance, health, routes, auth`,
  ],
  [
    'unknown access key',
    http(access('cidrs: {}')),
    `${F}: service "web": field "access.cidrs": unknown key "cidrs" (did you mean "cidr"?); allowed keys: cidr, countries, crowdsec, appsec, challenge`,
  ],
  [
    'unknown cidr key',
    http(access('cidr: { allowed: [] }')),
    `${F}: service "web": field "access.cidr.allowed": unknown key "allowed" (did you mean "allow"?); allowed keys: allow, deny`,
  ],
  [
    'unknown countries key',
    http(access('countries: { block: [] }')),
    `${F}: service "web": field "access.countries.block": unknown key "block"; allowed keys: allow, deny`,
  ],
  // --- protocol
  ['protocol missing', 'services:\n  - { name: web }\n', `${F}: service "web": field "protocol": is required (http or tcp)`],
  ['protocol unknown', 'services:\n  - { name: web, protocol: udp }\n', `${F}: service "web": field "protocol": "udp" is not one of http, tcp`],
  ['protocol upper-case', 'services:\n  - { name: web, protocol: HTTP }\n', `${F}: service "web": field "protocol": "HTTP" is not one of http, tcp`],
  // --- http: domains, listen
  [
    'domains missing',
    'services:\n  - { name: web, protocol: http, target: "http://a:1" }\n',
    `${F}: service "web": field "domains": is required (a list, e.g. [app.example.com])`,
  ],
  [
    'domains empty',
    http('', { domains: '[]', target: 'http://a:1' }),
    `${F}: service "web": field "domains": must not be empty: an http service needs at least one domain`,
  ],
  [
    'domains a string',
    http('', { domains: 'app.example.com', target: 'http://a:1' }),
    `${F}: service "web": field "domains": must be a list, e.g. [app.example.com]; got "app.example.com"`,
  ],
  [
    'domain not a string',
    http('', { domains: '[a.example.com, 5]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[1]": must be a string, got 5`,
  ],
  [
    'domain with port',
    http('', { domains: '["app.example.com:8443"]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[0]": "app.example.com:8443" must not include a port; domains are matched against the Host header without its port`,
  ],
  [
    'domain is a URL',
    http('', { domains: '["https://app.example.com"]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[0]": "https://app.example.com" is a URL; write only the host name`,
  ],
  [
    'wildcard not first',
    http('', { domains: '["app.*.example.com"]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[0]": "app.*.example.com": "*" is only allowed as the whole first label, as in "*.example.com"`,
  ],
  [
    'partial wildcard label',
    http('', { domains: '["*app.example.com"]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[0]": "*app.example.com": "*" is only allowed as the whole first label, as in "*.example.com"`,
  ],
  [
    'catch-all',
    http('', { domains: '["*"]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[0]": "*": a catch-all domain is not supported; use a wildcard such as "*.example.com"`,
  ],
  [
    'bad host name',
    http('', { domains: '["-bad.example.com"]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[0]": "-bad.example.com" is not a valid host name`,
  ],
  [
    'underscore in domain',
    http('', { domains: '["my_app.example.com"]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[0]": "my_app.example.com" is not a valid host name`,
  ],
  [
    'trailing dot',
    http('', { domains: '["example.com."]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[0]": "example.com." must not end with a dot`,
  ],
  [
    'duplicate domain in one service',
    http('', { domains: '[a.example.com, A.Example.com]', target: 'http://a:1' }),
    `${F}: service "web": field "domains[1]": "A.Example.com" (a.example.com) is listed twice (also domains[0])`,
  ],
  [
    'duplicate domain across services',
    two(
      '  - { name: a, protocol: http, domains: ["*.example.org"], target: "http://a:1" }\n',
      '  - { name: b, protocol: http, domains: [x.example.org, "*.EXAMPLE.org"], target: "http://b:1" }\n',
    ),
    `${F}: service "b": field "domains[1]": "*.EXAMPLE.org" (*.example.org) is already used by service "a"`,
  ],
  [
    'listen on http',
    http('    listen: 0.0.0.0:80\n'),
    `${F}: service "web": field "listen": is not allowed for protocol http: http services share the --http-addr listener and are selected by domains`,
  ],
  // --- http target
  [
    'http target missing',
    'services:\n  - { name: web, protocol: http, domains: [a.example.com] }\n',
    `${F}: service "web": field "target": is required (an http:// or https:// URL, e.g. "http://127.0.0.1:3000")`,
  ],
  [
    'http target host:port',
    http('', { domains: '[a.example.com]', target: '127.0.0.1:3000' }),
    `${F}: service "web": field "target": "127.0.0.1:3000" must be an http:// or https:// URL, e.g. "http://127.0.0.1:3000"`,
  ],
  [
    'http target ftp',
    http('', { domains: '[a.example.com]', target: 'ftp://a' }),
    `${F}: service "web": field "target": "ftp://a" must be an http:// or https:// URL, e.g. "http://127.0.0.1:3000"`,
  ],
  [
    'http target with path',
    http('', { domains: '[a.example.com]', target: 'http://a:1/api' }),
    `${F}: service "web": field "target": "http://a:1/api" must not have a path: requests are forwarded with their own path unchanged`,
  ],
  [
    'http target with query',
    http('', { domains: '[a.example.com]', target: 'http://a:1/?x=1' }),
    `${F}: service "web": field "target": "http://a:1/?x=1" must not have a query string`,
  ],
  [
    'http target with credentials',
    http('', { domains: '[a.example.com]', target: 'http://u:p@a:1' }),
    `${F}: service "web": field "target": "http://u:p@a:1" must not contain credentials`,
  ],
  [
    'http target no host',
    http('', { domains: '[a.example.com]', target: 'http://:80' }),
    `${F}: service "web": field "target": "http://:80": the host is missing`,
  ],
  [
    'http target bad port',
    http('', { domains: '[a.example.com]', target: 'http://a:70000' }),
    `${F}: service "web": field "target": "http://a:70000": port 70000 is out of range 1-65535`,
  ],
  [
    'http target octal IPv4',
    http('', { domains: '[a.example.com]', target: 'http://010.8.8.8' }),
    `${F}: service "web": field "target": "http://010.8.8.8": "010.8.8.8" is not a valid IPv4 address (write all four decimal octets, without leading zeros)`,
  ],
  [
    'http target unspecified',
    http('', { domains: '[a.example.com]', target: 'http://0.0.0.0:80' }),
    `${F}: service "web": field "target": "http://0.0.0.0:80": cannot connect to the unspecified address 0.0.0.0`,
  ],
  // --- tcp
  [
    'tcp listen missing',
    'services:\n  - { name: ssh, protocol: tcp, target: "127.0.0.1:22" }\n',
    `${F}: service "ssh": field "listen": is required (host:port, e.g. "0.0.0.0:2222")`,
  ],
  ['tcp listen bare port', tcp('', '2222'), `${F}: service "ssh": field "listen": must be host:port, e.g. "0.0.0.0:2222"; got the bare number 2222`],
  ['tcp listen no host', tcp('', '":2222"'), `${F}: service "ssh": field "listen": ":2222" is not a valid host:port: the host is missing`],
  ['tcp listen port 0', tcp('', '0.0.0.0:0'), `${F}: service "ssh": field "listen": "0.0.0.0:0" is not a valid host:port: port 0 is out of range 1-65535`],
  [
    'tcp listen port too big',
    tcp('', '0.0.0.0:65536'),
    `${F}: service "ssh": field "listen": "0.0.0.0:65536" is not a valid host:port: port 65536 is out of range 1-65535`,
  ],
  [
    'tcp listen unbracketed IPv6',
    tcp('', '"::1:2222"'),
    `${F}: service "ssh": field "listen": "::1:2222" is not a valid host:port: IPv6 addresses must be written in brackets, as in "[::1]:8080"`,
  ],
  [
    'tcp with domains',
    tcp('    domains: [a.example.com]\n'),
    `${F}: service "ssh": field "domains": is not allowed for protocol tcp: a tcp service has its own listener (listen) and no Host header`,
  ],
  [
    'tcp target missing',
    'services:\n  - { name: ssh, protocol: tcp, listen: "0.0.0.0:2222" }\n',
    `${F}: service "ssh": field "target": is required (host:port, e.g. "127.0.0.1:22")`,
  ],
  [
    'tcp target URL',
    tcp('', '0.0.0.0:2222', 'http://127.0.0.1:22'),
    `${F}: service "ssh": field "target": "http://127.0.0.1:22" is not a valid host:port: expected host:port, not a URL`,
  ],
  [
    'tcp target no port',
    tcp('', '0.0.0.0:2222', 'backend'),
    `${F}: service "ssh": field "target": "backend" is not a valid host:port: expected host:port, as in "127.0.0.1:8080"`,
  ],
  [
    'tcp target short IPv4',
    tcp('', '0.0.0.0:2222', '10.8:22'),
    `${F}: service "ssh": field "target": "10.8:22" is not a valid host:port: "10.8" is not a valid IPv4 address (write all four decimal octets, without leading zeros)`,
  ],
  ['tcp target unspecified', tcp('', '0.0.0.0:2222', '"[::]:22"'), `${F}: service "ssh": field "target": cannot connect to the unspecified address [::]:22`],
  [
    'duplicate listen',
    two(
      '  - { name: a, protocol: tcp, listen: "127.0.0.1:2222", target: "127.0.0.1:22" }\n',
      '  - { name: b, protocol: tcp, listen: "127.0.0.1:2222", target: "127.0.0.1:22" }\n',
    ),
    `${F}: service "b": field "listen": 127.0.0.1:2222 is already the listen address of service "a"`,
  ],
  [
    'duplicate IPv6 listen, different spelling',
    two(
      '  - { name: a, protocol: tcp, listen: "[::1]:2222", target: "127.0.0.1:22" }\n',
      '  - { name: b, protocol: tcp, listen: "[0:0::0:1]:2222", target: "127.0.0.1:22" }\n',
    ),
    `${F}: service "b": field "listen": [::1]:2222 is already the listen address of service "a"`,
  ],
  [
    'wildcard listen conflicts',
    two(
      '  - { name: a, protocol: tcp, listen: "127.0.0.1:2222", target: "127.0.0.1:22" }\n',
      '  - { name: b, protocol: tcp, listen: "[::]:2222", target: "127.0.0.1:22" }\n',
    ),
    `${F}: service "b": field "listen": [::]:2222 conflicts with 127.0.0.1:2222 of service "a" (an all-addresses listener takes the port on every address)`,
  ],
  [
    'listen conflicts with earlier wildcard',
    two(
      '  - { name: a, protocol: tcp, listen: "0.0.0.0:2222", target: "127.0.0.1:22" }\n',
      '  - { name: b, protocol: tcp, listen: "10.0.0.1:2222", target: "127.0.0.1:22" }\n',
    ),
    `${F}: service "b": field "listen": 10.0.0.1:2222 conflicts with 0.0.0.0:2222 of service "a" (an all-addresses listener takes the port on every address)`,
  ],
  // --- access
  ['access not a mapping', http('    access: [cidr]\n'), `${F}: service "web": field "access": must be a mapping (cidr, countries, crowdsec); got a list`],
  [
    'cidr not a mapping',
    http(access('cidr: [10.0.0.0/8]')),
    `${F}: service "web": field "access.cidr": must be a mapping with "allow" and/or "deny" lists; got a list`,
  ],
  [
    'cidr allow a string',
    http(access('cidr: { allow: 10.0.0.0/8 }')),
    `${F}: service "web": field "access.cidr.allow": must be a list, e.g. [10.0.0.0/8]; got "10.0.0.0/8"`,
  ],
  [
    'cidr prefix too long',
    http(access('cidr: { allow: [10.0.0.0/8, 10.0.0.0/33] }')),
    `${F}: service "web": field "access.cidr.allow[1]": "10.0.0.0/33" is not a valid CIDR: prefix length 33 is out of range 0-32 for IPv4`,
  ],
  [
    'IPv6 prefix too long',
    http(access('cidr: { deny: ["2001:db8::/129"] }')),
    `${F}: service "web": field "access.cidr.deny[0]": "2001:db8::/129" is not a valid CIDR: prefix length 129 is out of range 0-128 for IPv6`,
  ],
  [
    'octal IPv4',
    http(access('cidr: { allow: [010.8.8.8] }')),
    `${F}: service "web": field "access.cidr.allow[0]": "010.8.8.8" is not a valid CIDR: "010.8.8.8" is not an IPv4 or IPv6 address (IPv4 needs four decimal octets, without leading zeros)`,
  ],
  [
    'short IPv4',
    http(access('cidr: { allow: ["10.8/16"] }')),
    `${F}: service "web": field "access.cidr.allow[0]": "10.8/16" is not a valid CIDR: "10.8" is not an IPv4 or IPv6 address (IPv4 needs four decimal octets, without leading zeros)`,
  ],
  [
    'garbage CIDR',
    http(access('cidr: { allow: [office] }')),
    `${F}: service "web": field "access.cidr.allow[0]": "office" is not a valid CIDR: "office" is not an IPv4 or IPv6 address (IPv4 needs four decimal octets, without leading zeros)`,
  ],
  [
    'bad prefix text',
    http(access('cidr: { allow: ["10.0.0.0/08"] }')),
    `${F}: service "web": field "access.cidr.allow[0]": "10.0.0.0/08" is not a valid CIDR: prefix length "08" is not a number`,
  ],
  [
    'host bits set',
    http(access('cidr: { allow: [10.1.2.3/8] }')),
    `${F}: service "web": field "access.cidr.allow[0]": "10.1.2.3/8" is not a valid CIDR: it has host bits set; did you mean "10.0.0.0/8"?`,
  ],
  [
    'IPv6 host bits set',
    http(access('cidr: { allow: ["2001:db8::1/32"] }')),
    `${F}: service "web": field "access.cidr.allow[0]": "2001:db8::1/32" is not a valid CIDR: it has host bits set; did you mean "2001:db8::/32"?`,
  ],
  [
    'zone index',
    http(access('cidr: { allow: ["fe80::1%eth0"] }')),
    `${F}: service "web": field "access.cidr.allow[0]": "fe80::1%eth0" is not a valid CIDR: zone indexes ("%eth0") are not allowed`,
  ],
  ['CIDR not a string', http(access('cidr: { allow: [10] }')), `${F}: service "web": field "access.cidr.allow[0]": must be a string, got 10`],
  [
    'CIDR listed twice',
    http(access('cidr: { deny: [1.2.3.4, 1.2.3.4/32] }')),
    `${F}: service "web": field "access.cidr.deny[1]": "1.2.3.4/32" is listed twice (also at access.cidr.deny[0])`,
  ],
  [
    'CIDR in allow and deny',
    http(access('cidr: { allow: [10.0.0.0/8], deny: [10.0.0.0/8] }')),
    `${F}: service "web": field "access.cidr.deny[0]": "10.0.0.0/8" is in both allow and deny (access.cidr.allow[0])`,
  ],
  [
    'country not two letters',
    http(access('countries: { allow: [DEU] }')),
    `${F}: service "web": field "access.countries.allow[0]": "DEU" is not a two-letter ISO 3166-1 alpha-2 country code`,
  ],
  [
    'country XX',
    http(access('countries: { deny: [XX] }')),
    `${F}: service "web": field "access.countries.deny[0]": "XX" is not an assigned ISO 3166-1 alpha-2 country code`,
  ],
  [
    'country ZZ',
    http(access('countries: { deny: [zz] }')),
    `${F}: service "web": field "access.countries.deny[0]": "zz" is not an assigned ISO 3166-1 alpha-2 country code`,
  ],
  [
    'country UK',
    http(access('countries: { allow: [UK] }')),
    `${F}: service "web": field "access.countries.allow[0]": "UK" is not an assigned ISO 3166-1 alpha-2 country code (use "GB" for the United Kingdom)`,
  ],
  ['country number', http(access('countries: { allow: [49] }')), `${F}: service "web": field "access.countries.allow[0]": must be a string, got 49`],
  [
    'country as YAML 1.1 boolean',
    '%YAML 1.1\n---\n' + http(access('countries: { allow: [NO] }')),
    `${F}: service "web": field "access.countries.allow[0]": must be a two-letter country code, got false (YAML 1.1 reads NO/ON/YES as booleans: quote the code, e.g. "NO")`,
  ],
  [
    'country twice (case)',
    http(access('countries: { allow: [de, DE] }')),
    `${F}: service "web": field "access.countries.allow[1]": "DE" is listed twice (also at access.countries.allow[0])`,
  ],
  [
    'country in allow and deny',
    http(access('countries: { allow: [DE], deny: [de] }')),
    `${F}: service "web": field "access.countries.deny[0]": "de" (DE) is in both allow and deny (access.countries.allow[0])`,
  ],
  ['crowdsec unknown', http(access('crowdsec: block')), `${F}: service "web": field "access.crowdsec": "block" is not one of off, enforce, observe`],
  ['crowdsec true', http(access('crowdsec: true')), `${F}: service "web": field "access.crowdsec": true is ambiguous; use one of off, enforce, observe`],
  ['crowdsec a number', http(access('crowdsec: 1')), `${F}: service "web": field "access.crowdsec": must be a string, got 1`],
  [
    'crowdsec enforce unavailable',
    http(access('crowdsec: enforce')),
    `${F}: service "web": field "access.crowdsec": "enforce" needs CrowdSec, which is not configured: set --crowdsec-api-url and --crowdsec-api-key (or NB_PROXY_CROWDSEC_API_URL and NB_PROXY_CROWDSEC_API_KEY), or use "off"`,
    NO_CS,
  ],
  [
    'crowdsec observe unavailable',
    tcp(access('crowdsec: observe')),
    `${F}: service "ssh": field "access.crowdsec": "observe" needs CrowdSec, which is not configured: set --crowdsec-api-url and --crowdsec-api-key (or NB_PROXY_CROWDSEC_API_URL and NB_PROXY_CROWDSEC_API_KEY), or use "off"`,
    NO_CS,
  ],
  // --- auth
  [
    'auth on tcp',
    tcp(`    auth: { password: { hash: "${HASH}" } }\n`),
    `${F}: service "ssh": field "auth": is not allowed for protocol tcp: a TCP connection has no login (use access.cidr)`,
  ],
  ['auth without a method', http('    auth: { session: 1h }\n'), `${F}: service "web": field "auth": needs one of password, pin, oidc, header`],
  [
    'auth with two methods',
    http(`    auth: { password: { hash: "${HASH}" }, pin: { hash: "${HASH}" } }\n`),
    `${F}: service "web": field "auth.pin": only one method per service: password and pin are both set`,
  ],
  [
    'auth plain-text password',
    http('    auth: { password: { hash: hunter2 } }\n'),
    `${F}: service "web": field "auth.password.hash": is not a $scrypt$N=...,r=...,p=...$salt$key hash (run \`netbird-proxy hash-password\`)`,
  ],
  [
    'auth pin too short',
    http(`    auth: { pin: { hash: "${HASH}", length: 3 } }\n`),
    `${F}: service "web": field "auth.pin.length": must be a whole number from 4 to 12, got 3`,
  ],
  [
    'auth oidc over plain http',
    http('    auth: { oidc: { issuer: "http://id.example.com", client_id: proxy } }\n'),
    `${F}: service "web": field "auth.oidc.issuer": "http://id.example.com" must be an https:// URL (http:// only on a loopback address)`,
  ],
  [
    'auth oidc secret file missing',
    http('    auth: { oidc: { issuer: "https://id.example.com", client_id: proxy, client_secret_file: /nonexistent/oidc-secret } }\n'),
    `${F}: service "web": field "auth.oidc.client_secret_file": cannot read /nonexistent/oidc-secret (ENOENT)`,
  ],
  [
    'auth identity header the request needs',
    http(`    auth: { password: { hash: "${HASH}" }, headers: { user: Cookie } }\n`),
    `${F}: service "web": field "auth.headers.user": "Cookie" is a header the request itself needs; choose another name`,
  ],
  [
    'auth session too short',
    http(`    auth: { password: { hash: "${HASH}" }, session: 10s }\n`),
    `${F}: service "web": field "auth.session": "10s" must be a duration from 1m to 9600h (e.g. 12h)`,
  ],
  [
    'auth session not a Go duration',
    http(`    auth: { password: { hash: "${HASH}" }, session: 7d12h }\n`),
    `${F}: service "web": field "auth.session": "7d12h" must be a duration from 1m to 9600h (e.g. 12h)`,
  ],
  ['appsec unknown mode', http(access('appsec: block')), `${F}: service "web": field "access.appsec": "block" is not one of off, enforce, observe`],
  ['appsec true', http(access('appsec: true')), `${F}: service "web": field "access.appsec": true is ambiguous; use one of off, enforce, observe`],
  [
    'appsec a list',
    http(access('appsec: [enforce]')),
    `${F}: service "web": field "access.appsec": must be off, enforce, observe or { mode, skip_paths }; got a list`,
  ],
  [
    'appsec unknown key',
    http(access('appsec: { mode: enforce, skip_path: [/a] }')),
    `${F}: service "web": field "access.appsec.skip_path": unknown key "skip_path" (did you mean "skip_paths"?); allowed keys: mode, skip_paths`,
  ],
  [
    'appsec skip path without /',
    http(access('appsec: { mode: enforce, skip_paths: [upload/] }')),
    `${F}: service "web": field "access.appsec.skip_paths[0]": "upload/" must start with "/" (a path prefix such as /upload/)`,
  ],
  [
    'appsec skip path twice',
    http(access('appsec: { mode: enforce, skip_paths: [/a/, /a/] }')),
    `${F}: service "web": field "access.appsec.skip_paths[1]": "/a/" is listed twice (also at access.appsec.skip_paths[0])`,
  ],
  [
    'appsec on tcp',
    tcp(access('appsec: enforce')),
    `${F}: service "ssh": field "access.appsec": "enforce" is not allowed for protocol tcp: AppSec judges HTTP requests`,
  ],
  [
    'appsec unavailable',
    http(access('appsec: observe')),
    `${F}: service "web": field "access.appsec": "observe" needs the AppSec engine, which is not configured: set --appsec-url (NB_PROXY_APPSEC_URL), e.g. http://crowdsec:7422/, or use "off"`,
    NO_CS,
  ],
  [
    'challenge unknown mode',
    http(access('challenge: captcha')),
    `${F}: service "web": field "access.challenge": "captcha" is not one of off, pow, turnstile, hcaptcha, recaptcha`,
  ],
  [
    'challenge provider short form',
    http(access('challenge: turnstile')),
    `${F}: service "web": field "access.challenge": turnstile needs site_key and secret_file: { mode: turnstile, site_key: ..., secret_file: ... }`,
  ],
  [
    'challenge on tcp',
    tcp(access('challenge: pow')),
    `${F}: service "ssh": field "access.challenge": "pow" is not allowed for protocol tcp: a challenge is a web page`,
  ],
  [
    'challenge provider without site_key',
    http(access('challenge: { mode: hcaptcha, secret_file: /nonexistent/hcaptcha }')),
    `${F}: service "web": field "access.challenge.site_key": is required for hcaptcha (the site key of the provider's dashboard)`,
  ],
  [
    'challenge secret file missing',
    http(access('challenge: { mode: recaptcha, site_key: abc, secret_file: /nonexistent/recaptcha }')),
    `${F}: service "web": field "access.challenge.secret_file": cannot read /nonexistent/recaptcha (ENOENT)`,
  ],
  [
    'challenge site_key on pow',
    http(access('challenge: { mode: pow, site_key: abc }')),
    `${F}: service "web": field "access.challenge.site_key": is only for the provider modes (turnstile, hcaptcha, recaptcha), not pow`,
  ],
  [
    'challenge unknown key',
    http(access('challenge: { mode: pow, secret: x }')),
    `${F}: service "web": field "access.challenge.secret": unknown key "secret"; allowed keys: mode, site_key, secret_file`,
  ],
];
