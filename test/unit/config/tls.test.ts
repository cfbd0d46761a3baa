// services.yaml: tls, redirect_https and upstream_tls of http services.
import t from 'tap';
import { ConfigError, parseServicesConfig, serviceEquals } from '../../../src/config/load';
import type { HttpServiceConfig } from '../../../src/config/types';

const F = '/etc/netbird-proxy/services.yaml';

function svc(extra: string, domains = '[app.example.com]', target = 'http://127.0.0.1:3000'): string {
  return `services:\n  - name: web\n    protocol: http\n    domains: ${domains}\n    target: ${target}\n${extra}`;
}

function parseWeb(text: string): HttpServiceConfig {
  const s = parseServicesConfig(text, F, { crowdsecAvailable: false }).services[0];
  if (s === undefined || s.protocol !== 'http') throw new Error('expected one http service');
  return s;
}

function errorOf(text: string): string {
  try {
    parseServicesConfig(text, F, { crowdsecAvailable: false });
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

t.test('tls modes and the redirect default', async (t) => {
  const off = parseWeb(svc(''));
  t.strictSame(off.tls, { mode: 'off' });
  t.equal(off.redirectHttps, false, 'no redirect without tls');
  t.notOk('upstreamTls' in off, 'no upstream_tls when not set');
  t.strictSame(parseWeb(svc('    tls: off\n')).tls, { mode: 'off' });
  t.strictSame(parseWeb(svc('    tls: false\n')).tls, { mode: 'off' }, 'false (YAML 1.1 off) is off');

  const acme = parseWeb(svc('    tls: acme\n', '[a.example.com, b.example.com]'));
  t.strictSame(acme.tls, { mode: 'acme' });
  t.equal(acme.redirectHttps, true, 'redirect defaults to true with tls');
  t.equal(parseWeb(svc('    tls: acme\n    redirect_https: false\n')).redirectHttps, false);

  const file = parseWeb(svc('    tls: { cert: certs/full.pem, key: /abs/key.pem }\n', '["*.example.org"]'));
  t.strictSame(file.tls, { mode: 'file', cert: '/etc/netbird-proxy/certs/full.pem', key: '/abs/key.pem' }, 'relative to services.yaml');
  t.equal(file.redirectHttps, true);
});

t.test('upstream_tls', async (t) => {
  const s = parseWeb(svc('    upstream_tls: { ca: ca.pem, server_name: Internal.Example }\n', undefined, 'https://10.0.0.5:8443'));
  t.strictSame(s.upstreamTls, { insecureSkipVerify: false, ca: '/etc/netbird-proxy/ca.pem', serverName: 'internal.example' });
  const skip = parseWeb(svc('    upstream_tls: { insecure_skip_verify: true }\n', undefined, 'https://10.0.0.5'));
  t.strictSame(skip.upstreamTls, { insecureSkipVerify: true });
});

t.test('errors name the file, the service and the field', async (t) => {
  const p = `${F}: service "web": `;
  const cases: [string, string, string][] = [
    [
      'unknown mode',
      svc('    tls: yes-please\n'),
      `${p}field "tls": "yes-please" is not one of off, acme, or { cert: /path/fullchain.pem, key: /path/key.pem }`,
    ],
    ['true', svc('    tls: true\n'), `${p}field "tls": true is ambiguous; use one of off, acme, or { cert: /path/fullchain.pem, key: /path/key.pem }`],
    ['a list', svc('    tls: [a]\n'), `${p}field "tls": must be off, acme, or { cert: /path/fullchain.pem, key: /path/key.pem }; got a list`],
    [
      'wildcard with acme',
      svc('    tls: acme\n', '[a.example.org, "*.example.org"]'),
      `${p}field "tls": "acme" cannot cover the wildcard domain "*.example.org" (domains[1]): ACME wildcards need the DNS-01 challenge, which is not supported; use tls: { cert, key } with a wildcard certificate`,
    ],
    [
      'IP with acme',
      svc('    tls: acme\n', '[192.168.1.10]'),
      `${p}field "tls": "acme" cannot cover the IP address "192.168.1.10" (domains[0]); use tls: { cert, key }`,
    ],
    ['key missing', svc('    tls: { cert: a.pem }\n'), `${p}field "tls.key": is required (a file path)`],
    ['cert empty', svc('    tls: { cert: "", key: k.pem }\n'), `${p}field "tls.cert": must not be empty`],
    ['typo', svc('    tls: { cert: a.pem, kye: k.pem }\n'), `${p}field "tls.kye": unknown key "kye" (did you mean "key"?); allowed keys: cert, key`],
    ['redirect not bool', svc('    tls: acme\n    redirect_https: "yes"\n'), `${p}field "redirect_https": must be true or false, got "yes"`],
    [
      'redirect without tls',
      svc('    redirect_https: true\n'),
      `${p}field "redirect_https": true needs tls (acme or { cert, key }): this service is not served over HTTPS`,
    ],
    [
      'upstream_tls on http target',
      svc('    upstream_tls: { insecure_skip_verify: true }\n'),
      `${p}field "upstream_tls": applies to https:// targets only; the target is "http://127.0.0.1:3000"`,
    ],
    [
      'skip and ca',
      svc('    upstream_tls: { ca: c.pem, insecure_skip_verify: true }\n', undefined, 'https://10.0.0.5'),
      `${p}field "upstream_tls.insecure_skip_verify": true contradicts upstream_tls.ca: verify against the CA or skip verification, not both`,
    ],
    [
      'skip not bool',
      svc('    upstream_tls: { insecure_skip_verify: 1 }\n', undefined, 'https://10.0.0.5'),
      `${p}field "upstream_tls.insecure_skip_verify": must be true or false, got 1`,
    ],
    [
      'server_name wildcard',
      svc('    upstream_tls: { server_name: "*.x.org" }\n', undefined, 'https://10.0.0.5'),
      `${p}field "upstream_tls.server_name": "*.x.org": a wildcard is not a server name`,
    ],
    [
      'tls on tcp',
      'services:\n  - name: ssh\n    protocol: tcp\n    listen: 0.0.0.0:2222\n    target: 127.0.0.1:22\n    tls: acme\n',
      `${F}: service "ssh": field "tls": is not allowed for protocol tcp: TLS is terminated for http services only`,
    ],
  ];
  for (const [what, yaml, message] of cases) t.equal(errorOf(yaml), message, what);
});

t.test('serviceEquals sees TLS changes', async (t) => {
  const base = parseWeb(svc('    tls: acme\n', undefined, 'https://10.0.0.5'));
  t.ok(serviceEquals(base, parseWeb(svc('    tls: acme\n', undefined, 'https://10.0.0.5'))));
  t.notOk(serviceEquals(base, parseWeb(svc('    tls: off\n', undefined, 'https://10.0.0.5'))), 'tls mode');
  t.notOk(serviceEquals(base, parseWeb(svc('    tls: acme\n    redirect_https: false\n', undefined, 'https://10.0.0.5'))), 'redirect');
  t.notOk(
    serviceEquals(base, parseWeb(svc('    tls: acme\n    upstream_tls: { insecure_skip_verify: true }\n', undefined, 'https://10.0.0.5'))),
    'upstream_tls',
  );
  const a = parseWeb(svc('    tls: { cert: a.pem, key: k.pem }\n'));
  t.notOk(serviceEquals(a, parseWeb(svc('    tls: { cert: b.pem, key: k.pem }\n'))), 'cert path');
});
