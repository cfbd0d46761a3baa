import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ConfigError, loadServicesConfig, parseHostPort, parseServicesConfig, serviceEquals, type LoadOptions } from '../../../src/config/load';
import type { HttpServiceConfig, ServiceConfig, TcpServiceConfig } from '../../../src/config/types';
import { CS, ERROR_CASES, F, FULL, NO_CS, VALID_CASES, access, http, tcp } from '../../harness/config-cases';

function parse(text: string, opts: LoadOptions = CS) {
  return parseServicesConfig(text, F, opts);
}

function errorOf(text: string, opts: LoadOptions = CS): ConfigError {
  try {
    parse(text, opts);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but the config was accepted');
}

/** One http service "web" with the given extra/override lines (2-space indented under the item). */

t.test('the example from the spec parses into the exact typed objects', async (t) => {
  const cfg = parse(FULL);
  t.equal(cfg.file, F);
  t.equal(cfg.services.length, 2);
  const [web, ssh] = cfg.services as [HttpServiceConfig, TcpServiceConfig];
  t.ok(web.target instanceof URL);
  t.equal(web.target.href, 'http://127.0.0.1:3000/');
  const { target: _t, ...webRest } = web;
  t.strictSame(webRest, {
    name: 'web',
    protocol: 'http',
    domains: ['app.example.com', '*.example.org'],
    access: {
      cidr: { allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] },
      countries: { allow: ['DE', 'FR'], deny: [] },
      crowdsec: 'off',
      appsec: { mode: 'off', skipPaths: [] },
      challenge: { mode: 'off' },
    },
    tls: { mode: 'off' },
    redirectHttps: false,
    deny: { kind: 'page', status: 403, template: undefined },
    forwardVerdict: false,
  });
  t.strictSame(ssh, {
    name: 'ssh',
    protocol: 'tcp',
    listen: { host: '0.0.0.0', port: 2222 },
    target: { host: '127.0.0.1', port: 22 },
    access: {
      cidr: { allow: [], deny: [] },
      countries: { allow: [], deny: [] },
      crowdsec: 'observe',
      appsec: { mode: 'off', skipPaths: [] },
      challenge: { mode: 'off' },
    },
  });
});

t.test('config/services.yaml (the documented example) validates', async (t) => {
  const file = resolve(__dirname, '..', '..', '..', 'config', 'services.yaml');
  const cfg = await loadServicesConfig(file, CS);
  t.equal(cfg.file, file);
  t.strictSame(
    cfg.services.map((s) => s.name),
    ['web', 'docs'],
    'the tcp service is a commented example: npm start binds no tcp listener',
  );
  const web = cfg.services[0] as HttpServiceConfig;
  // The README's quick start: everyone in but 127.0.0.2 (test/e2e/quick-start.test.ts runs it).
  t.strictSame(web.access.cidr.allow, [], 'no allow list, so 127.0.0.1 gets through');
  t.strictSame(web.access.cidr.deny, ['127.0.0.2/32'], 'the quick start denial');
  t.strictSame(web.access.countries.allow, [], 'no country allow list: loopback has no country');
  t.equal(web.access.crowdsec, 'off', 'ships with CrowdSec off so that it runs without a LAPI');
  const plain = await loadServicesConfig(file, NO_CS);
  t.equal(plain.services.length, 2, 'and therefore loads without CrowdSec configured');
});

t.test('every shared valid example loads', async (t) => {
  for (const [what, yaml, opts] of VALID_CASES) t.doesNotThrow(() => parse(yaml, opts), what);
});

t.test('defaults and empty', async (t) => {
  t.strictSame(parse('services: []\n').services, [], 'empty list is valid');
  const cfg = parse(http());
  t.strictSame(cfg.services[0]?.access, {
    cidr: { allow: [], deny: [] },
    countries: { allow: [], deny: [] },
    crowdsec: 'off',
    appsec: { mode: 'off', skipPaths: [] },
    challenge: { mode: 'off' },
  });
  const nulls = parse(http('    access:\n      cidr:\n      countries: { allow: }\n      crowdsec:\n'), NO_CS);
  t.strictSame(
    nulls.services[0]?.access,
    {
      cidr: { allow: [], deny: [] },
      countries: { allow: [], deny: [] },
      crowdsec: 'off',
      appsec: { mode: 'off', skipPaths: [] },
      challenge: { mode: 'off' },
    },
    'empty values mean the default',
  );
  t.equal(parse(http('    access: { crowdsec: false }\n'), NO_CS).services[0]?.access.crowdsec, 'off', 'false is off');
  t.equal(parse(http('    access: { crowdsec: off }\n'), NO_CS).services[0]?.access.crowdsec, 'off', 'bare off is "off"');
  t.equal(parse(http('    access: { crowdsec: enforce }\n'), CS).services[0]?.access.crowdsec, 'enforce');
});

t.test('canonical CIDRs', async (t) => {
  const cases: [string, string][] = [
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['1.2.3.4', '1.2.3.4/32'],
    ['0.0.0.0/0', '0.0.0.0/0'],
    ['2001:DB8:0:0::/32', '2001:db8::/32'],
    ['2001:db8:0000:0000:0000:0000:0000:0001', '2001:db8::1/128'],
    ['::/0', '::/0'],
    ['::1', '::1/128'],
    ['::ffff:10.0.0.0/104', '10.0.0.0/8'],
    ['::ffff:1.2.3.4', '1.2.3.4/32'],
    ['fe80::/10', 'fe80::/10'],
  ];
  for (const [input, want] of cases) {
    const cfg = parse(http(access(`cidr: { allow: ["${input}"] }`)));
    t.strictSame(cfg.services[0]?.access.cidr.allow, [want], `${input} → ${want}`);
  }
});

t.test('domains: lower-cased, wildcards, IPv4 literal', async (t) => {
  const cfg = parse(http('', { domains: '[App.Example.COM, "*.Example.org", 192.168.1.10, localhost]', target: 'http://x:1' }));
  t.strictSame((cfg.services[0] as HttpServiceConfig).domains, ['app.example.com', '*.example.org', '192.168.1.10', 'localhost']);
  const two = parse(
    'services:\n' +
      '  - { name: a, protocol: http, domains: ["*.example.org"], target: "http://a:1" }\n' +
      '  - { name: b, protocol: http, domains: [a.example.org, example.org], target: "http://b:1" }\n',
  );
  t.equal(two.services.length, 2, 'a wildcard and the names it matches may belong to different services');
});

t.test('targets', async (t) => {
  const href = (target: string) => (parse(http('', { domains: '[a.example.com]', target })).services[0] as HttpServiceConfig).target.href;
  t.equal(href('http://127.0.0.1:3000'), 'http://127.0.0.1:3000/');
  t.equal(href('http://127.0.0.1:3000/'), 'http://127.0.0.1:3000/');
  t.equal(href('HTTPS://Backend.Internal'), 'https://backend.internal/');
  t.equal(href('http://[::1]:8080'), 'http://[::1]:8080/');
  t.equal(href('http://my_service:80'), 'http://my_service/', 'underscores (compose names) and the default port');
  const tcpTarget = parse(tcp('', '"[::]:2222"', '"[2001:DB8::5]:22"')).services[0] as TcpServiceConfig;
  t.strictSame(tcpTarget.listen, { host: '::', port: 2222 });
  t.strictSame(tcpTarget.target, { host: '2001:db8::5', port: 22 });
  t.strictSame((parse(tcp('', 'LocalHost:2222', 'Backend:22')).services[0] as TcpServiceConfig).target, { host: 'backend', port: 22 });
});

t.test('tcp listen addresses that do not conflict', async (t) => {
  const cfg = parse(
    'services:\n' +
      '  - { name: a, protocol: tcp, listen: "127.0.0.1:2222", target: "127.0.0.1:22" }\n' +
      '  - { name: b, protocol: tcp, listen: "[::1]:2222", target: "127.0.0.1:22" }\n' +
      '  - { name: c, protocol: tcp, listen: "0.0.0.0:2223", target: "127.0.0.1:22" }\n',
  );
  t.equal(cfg.services.length, 3);
});

t.test('every error names the file, the service and the field', async (t) => {
  const cases = ERROR_CASES;
  for (const [what, yaml, message, opts] of cases) {
    t.equal(errorOf(yaml, opts).message, message, what);
  }
});

t.test('ConfigError carries file, service, field and line', async (t) => {
  const e = errorOf(http(access('cidr: { allow: [10.0.0.0/8, 10.0.0.0/33] }')));
  t.ok(e instanceof Error);
  t.equal(e.name, 'ConfigError');
  t.equal(e.file, F);
  t.equal(e.service, 'web');
  t.equal(e.field, 'access.cidr.allow[1]');
  t.equal(e.reason, '"10.0.0.0/33" is not a valid CIDR: prefix length 33 is out of range 0-32 for IPv4');
  t.equal(e.line, undefined);
  const bad = errorOf('services:\n  - { name: Bad }\n');
  t.equal(bad.service, 'services[0]');
  t.equal(bad.field, 'name');
  const syntax = errorOf('services: [\n');
  t.equal(syntax.line, 2);
  t.equal(syntax.service, undefined);
  t.match(syntax.message, /^services\.yaml: line 2, column \d+: invalid YAML: /);
});

t.test('loadServicesConfig: file errors use the path as given', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-config-'));
  const missing = join(dir, 'nope.yaml');
  await t.rejects(loadServicesConfig(missing, CS), {
    name: 'ConfigError',
    file: missing,
    message: new RegExp(`^${missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: cannot read the file \\(ENOENT\\): `),
  });
  await t.rejects(loadServicesConfig(dir, CS), { message: new RegExp(': cannot read the file \\(EISDIR\\)') });
  const good = join(dir, 'services.yaml');
  writeFileSync(good, FULL);
  const cfg = await loadServicesConfig(good, CS);
  t.equal(cfg.services.length, 2);
  writeFileSync(good, http(access('crowdsec: enforce')));
  await t.rejects(loadServicesConfig(good, NO_CS), { message: new RegExp(`^.*services\\.yaml: service "web": field "access\\.crowdsec": `) });
});

t.test('serviceEquals', async (t) => {
  const base = parse(FULL).services;
  const again = parse(FULL).services;
  const [web, ssh] = base as [HttpServiceConfig, TcpServiceConfig];
  const [web2, ssh2] = again as [HttpServiceConfig, TcpServiceConfig];
  t.ok(serviceEquals(web, web2), 'equal http services');
  t.ok(serviceEquals(ssh, ssh2), 'equal tcp services');
  t.notOk(serviceEquals(web, ssh), 'different protocols');

  const webVariants: [string, HttpServiceConfig][] = [
    ['name', { ...web, name: 'web2' }],
    ['domains (added)', { ...web, domains: [...web.domains, 'x.example.com'] }],
    ['domains (changed)', { ...web, domains: ['app.example.com', '*.example.net'] }],
    ['target host', { ...web, target: new URL('http://127.0.0.2:3000') }],
    ['target port', { ...web, target: new URL('http://127.0.0.1:3001') }],
    ['target scheme', { ...web, target: new URL('https://127.0.0.1:3000') }],
    ['cidr.allow', { ...web, access: { ...web.access, cidr: { ...web.access.cidr, allow: ['10.0.0.0/9'] } } }],
    ['cidr.deny', { ...web, access: { ...web.access, cidr: { ...web.access.cidr, deny: [] } } }],
    ['countries.allow', { ...web, access: { ...web.access, countries: { ...web.access.countries, allow: ['DE'] } } }],
    ['countries.deny', { ...web, access: { ...web.access, countries: { ...web.access.countries, deny: ['RU'] } } }],
    ['crowdsec', { ...web, access: { ...web.access, crowdsec: 'enforce' } }],
  ];
  for (const [what, v] of webVariants) t.notOk(serviceEquals(web, v), `http: ${what} changed`);

  const sshVariants: [string, TcpServiceConfig][] = [
    ['name', { ...ssh, name: 'ssh2' }],
    ['listen host', { ...ssh, listen: { host: '127.0.0.1', port: 2222 } }],
    ['listen port', { ...ssh, listen: { host: '0.0.0.0', port: 2223 } }],
    ['target host', { ...ssh, target: { host: '127.0.0.2', port: 22 } }],
    ['target port', { ...ssh, target: { host: '127.0.0.1', port: 23 } }],
    ['crowdsec', { ...ssh, access: { ...ssh.access, crowdsec: 'off' } }],
  ];
  for (const [what, v] of sshVariants) t.notOk(serviceEquals(ssh, v), `tcp: ${what} changed`);

  const reordered: ServiceConfig = {
    ...web,
    domains: [...web.domains].reverse(),
    target: new URL('http://127.0.0.1:3000/'),
    access: { ...web.access, countries: { allow: ['FR', 'DE'], deny: [] } },
  };
  t.ok(serviceEquals(web, reordered), 'list order does not matter; URL compared by href');
});

t.test('parseHostPort', async (t) => {
  const good: [string, { host: string; port: number }][] = [
    ['0.0.0.0:2222', { host: '0.0.0.0', port: 2222 }],
    ['127.0.0.1:1', { host: '127.0.0.1', port: 1 }],
    ['[::]:8080', { host: '::', port: 8080 }],
    ['[::1]:65535', { host: '::1', port: 65535 }],
    ['[2001:DB8:0:0::1]:443', { host: '2001:db8::1', port: 443 }],
    ['[::ffff:1.2.3.4]:80', { host: '::ffff:1.2.3.4', port: 80 }],
    ['[fe80::1%eth0]:80', { host: 'fe80::1%eth0', port: 80 }],
    ['localhost:80', { host: 'localhost', port: 80 }],
    ['Proxy.Example.COM:8443', { host: 'proxy.example.com', port: 8443 }],
    ['my_backend:9000', { host: 'my_backend', port: 9000 }],
  ];
  for (const [s, want] of good) t.strictSame(parseHostPort(s), want, s);
  const bad = [
    '',
    '8080',
    ':8080',
    'localhost',
    'localhost:',
    'localhost:0',
    'localhost:65536',
    'localhost:08080',
    'localhost:+80',
    'localhost:80x',
    '::1:8080',
    '[::1]',
    '[::1]8080',
    '[::1:8080',
    '[1.2.3.4]:80',
    '010.0.0.1:80',
    '10.1:80',
    '1.2.3.4.5:80',
    'bad host:80',
    '-x:80',
    'x..y:80',
    'http://x:80',
  ];
  for (const s of bad) t.equal(parseHostPort(s), undefined, JSON.stringify(s));
});
