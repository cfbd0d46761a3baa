import t from 'tap';
import { parseServicesConfig } from '../../../src/config/load';
import { HostRouter, hostWithoutPort } from '../../../src/listeners/host-router';
import { buildServiceRuntime, type HttpServiceRuntime } from '../../../src/services';

function router(yaml: string): HostRouter {
  const config = parseServicesConfig(yaml, 'services.yaml', { crowdsecAvailable: false });
  return new HostRouter(config.services.map(buildServiceRuntime) as HttpServiceRuntime[]);
}

const r = router(`services:
  - { name: app, protocol: http, domains: [app.example.com, 192.0.2.10], target: "http://127.0.0.1:1" }
  - { name: wild, protocol: http, domains: ["*.example.org"], target: "http://127.0.0.1:2" }
  - { name: exact, protocol: http, domains: [www.example.org], target: "http://127.0.0.1:3" }
`);

t.test('exact names, with or without port, any case, trailing dot', async (t) => {
  t.equal(r.match('app.example.com')?.name, 'app');
  t.equal(r.match('app.example.com:8080')?.name, 'app');
  t.equal(r.match('APP.Example.COM')?.name, 'app');
  t.equal(r.match('app.example.com.')?.name, 'app');
  t.equal(r.match('192.0.2.10:443')?.name, 'app', 'an IPv4 literal with a port');
  t.equal(r.match('[2001:db8::1]:443'), undefined, 'a bracketed IPv6 host routes nowhere (IPv6 literals are not domains)');
});

t.test('"*." matches exactly one extra label; an exact name wins over the wildcard', async (t) => {
  t.equal(r.match('a.example.org')?.name, 'wild');
  t.equal(r.match('www.example.org')?.name, 'exact');
  t.equal(r.match('a.b.example.org'), undefined, 'two labels do not match');
  t.equal(r.match('example.org'), undefined, 'the parent itself does not match');
});

t.test('no Host, unknown hosts and junk route nowhere', async (t) => {
  t.equal(r.match(undefined), undefined);
  t.equal(r.match(''), undefined);
  t.equal(r.match('evil.com'), undefined);
  t.equal(r.match('.example.org'), undefined);
});

t.test('hostWithoutPort', async (t) => {
  t.equal(hostWithoutPort('Example.COM:80'), 'example.com');
  t.equal(hostWithoutPort('[::1]:80'), '[::1]');
  t.equal(hostWithoutPort('a.example.'), 'a.example');
});
