import t from 'tap';
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon, runBinary, type Daemon } from '../harness/daemon';
import { httpGet, tcpExchange, until } from '../harness/clients';
import { startHttpUpstream, startTcpEcho } from '../harness/upstreams';
import { freePort } from '../harness/ports';

t.test('--help lists every flag with its env var and default', async (t) => {
  const { code, stdout } = await runBinary(['--help']);
  t.equal(code, 0);
  for (const [flag, env] of [
    ['--config', 'NB_PROXY_CONFIG'],
    ['--http-addr', 'NB_PROXY_HTTP_ADDR'],
    ['--admin-addr', 'NB_PROXY_ADMIN_ADDR'],
    ['--crowdsec-api-url', 'NB_PROXY_CROWDSEC_API_URL'],
    ['--crowdsec-api-key', 'NB_PROXY_CROWDSEC_API_KEY'],
    ['--crowdsec-poll-interval', 'NB_PROXY_CROWDSEC_POLL_INTERVAL'],
    ['--geoip-db', 'NB_PROXY_GEOIP_DB'],
    ['--trusted-proxies', 'NB_PROXY_TRUSTED_PROXIES'],
    ['--proxy-protocol', 'NB_PROXY_PROXY_PROTOCOL'],
    ['--log-level', 'NB_PROXY_LOG_LEVEL'],
    ['--access-log', 'NB_PROXY_ACCESS_LOG'],
  ]) {
    t.match(stdout, flag);
    t.match(stdout, env);
  }
  t.match(stdout, '--env-file');
  t.match(stdout.replace(/\s+/g, ' '), 'default: 0.0.0.0:8080');
});

t.test('a bad services.yaml at start: message on stderr naming file, service and field; exit 2', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'nbp-bad-'));
  const file = join(dir, 'services.yaml');
  writeFileSync(
    file,
    'services:\n  - name: web\n    protocol: http\n    domains: [a.example.com]\n    target: http://127.0.0.1:1\n    access:\n      cidr: { allow: [010.8.8.8/32] }\n',
  );
  const res = await runBinary(['--config', file, '--env-file', '/dev/null']);
  t.equal(res.code, 2);
  t.match(res.stderr, file);
  t.match(res.stderr, 'service "web"');
  t.match(res.stderr, 'access.cidr.allow[0]');
  const crowdsec = join(dir, 'cs.yaml');
  writeFileSync(
    crowdsec,
    'services:\n  - name: ssh\n    protocol: tcp\n    listen: 127.0.0.1:2222\n    target: 127.0.0.1:22\n    access: { crowdsec: enforce }\n',
  );
  const res2 = await runBinary(['--config', crowdsec, '--env-file', '/dev/null']);
  t.equal(res2.code, 2, 'enforce without CrowdSec configured is rejected');
  t.match(res2.stderr, 'NB_PROXY_CROWDSEC_API_URL');
});

t.test('settings precedence: flag > environment > env file > default', async (t) => {
  const { mkdtempSync, writeFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'nbp-env-'));
  const envFile = join(dir, 'proxy.env');
  writeFileSync(envFile, 'NB_PROXY_LOG_LEVEL=bogus-from-file\nNB_PROXY_HTTP_ADDR=not-an-addr\n');
  const fromFile = await runBinary(['--env-file', envFile, '--config', '/nonexistent.yaml']);
  t.equal(fromFile.code, 2);
  t.match(fromFile.stderr, 'bogus-from-file', 'env file is read');
  const fromEnv = await runBinary(['--env-file', envFile, '--config', '/nonexistent.yaml'], { NB_PROXY_LOG_LEVEL: 'also-bogus-env' });
  t.match(fromEnv.stderr, 'also-bogus-env', 'environment beats env file');
  const fromFlag = await runBinary(['--env-file', envFile, '--config', '/nonexistent.yaml', '--log-level', 'flag-bogus'], {
    NB_PROXY_LOG_LEVEL: 'also-bogus-env',
  });
  t.match(fromFlag.stderr, 'flag-bogus', 'flag beats environment');
  t.notMatch(fromFlag.stdout + fromFlag.stderr, 'dotenv', 'dotenv prints nothing');
});

t.test('live reload: file change and SIGHUP add, change and remove services; a bad file keeps the running config', async (t) => {
  const upstream = await startHttpUpstream();
  const other = await startHttpUpstream((_req, res) => res.end('other'));
  const echo = await startTcpEcho();
  const tcpPort = await freePort();
  const tcpPort2 = await freePort();
  const base = `services:
  - name: web
    protocol: http
    domains: [web.example.com]
    target: ${upstream.url}
  - name: echo
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${echo.port}
`;
  const daemon: Daemon = await startDaemon({ config: base });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await other.close();
    await echo.close();
  });
  const reloads = (): number => daemon.lines.filter((l) => l.msg === 'config reloaded').length;

  // A TCP connection that stays open across reloads of unchanged services.
  const net = await import('node:net');
  const held = net.connect({ port: tcpPort, host: '127.0.0.1', allowHalfOpen: true });
  await new Promise((r) => held.once('connect', r));
  let heldData = '';
  held.setEncoding('utf8').on('data', (c: string) => (heldData += c));
  held.write('held');

  // 1. change on disk: add a service, deny 127.0.0.2 on web
  daemon.writeConfig(
    `${base}  - name: other
    protocol: http
    domains: [other.example.com]
    target: ${other.url}
  - name: echo2
    protocol: tcp
    listen: 127.0.0.1:${tcpPort2}
    target: 127.0.0.1:${echo.port}
`.replace(`target: ${upstream.url}\n`, `target: ${upstream.url}\n    access: { cidr: { deny: [127.0.0.2] } }\n`),
  );
  await daemon.waitFor((l) => l.msg === 'config reloaded', 10_000, 'config reloaded');
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'other.example.com' })).body, 'other', 'added service routes');
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'web.example.com', from: '127.0.0.2' })).status, 403, 'changed rules apply');
  t.equal((await tcpExchange(tcpPort2, { send: 'x' })).data, 'echo:x', 'added tcp listener works');

  // 2. a bad file: error logged, running config untouched
  const before = reloads();
  daemon.writeConfig('services:\n  - name: Bad Name\n');
  await daemon.waitFor((l) => l.msg === 'config reload failed; keeping the running config', 10_000, 'reload failure');
  const failure = daemon.lines.find((l) => l.msg === 'config reload failed; keeping the running config')!;
  t.match(String(failure.err), 'services[0]');
  t.equal(failure.level, 'error', 'logged as error');
  t.equal(reloads(), before);
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'other.example.com' })).status, 200, 'still routes after a bad reload');

  // 3. SIGHUP after an atomic replace: remove "other" and "echo2"
  const tmp = join(daemon.dir, 'next.yaml');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(tmp, base);
  renameSync(tmp, daemon.configPath);
  daemon.signal('SIGHUP');
  await until('reloaded', () => reloads() > before, 10_000);
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'other.example.com' })).status, 404, 'removed service is gone');
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'web.example.com', from: '127.0.0.2' })).status, 200, 'rule removed');
  const refused = await tcpExchange(tcpPort2, { send: 'x' });
  t.ok(refused.error !== undefined || refused.data === '', 'removed tcp listener is closed');

  // The connection opened before all this was never dropped.
  held.end();
  await new Promise((r) => held.once('close', r));
  t.equal(heldData, 'echo:held', 'the unchanged tcp service kept its connection through three reloads');
});

t.test('country rules against the default database', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:
  - name: no-us
    protocol: http
    domains: [no-us.example.com]
    target: ${upstream.url}
    access: { countries: { deny: [US] } }
  - name: only-de
    protocol: http
    domains: [only-de.example.com]
    target: ${upstream.url}
    access: { countries: { allow: [DE] } }
`,
    args: ['--trusted-proxies', '127.0.0.1'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  await daemon.waitFor((l) => l.msg === 'country database loaded');
  const us = await httpGet(`${daemon.httpUrl}/us`, { host: 'no-us.example.com', headers: { 'x-forwarded-for': '8.8.8.8' } });
  t.equal(us.status, 403);
  t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/us'), { client_ip: '8.8.8.8', country: 'US', deny_reason: 'country_restricted' });
  const loopback = await httpGet(`${daemon.httpUrl}/lo`, { host: 'no-us.example.com' });
  t.equal(loopback.status, 200, 'unknown country passes a deny list');
  const unknownAllow = await httpGet(`${daemon.httpUrl}/lo2`, { host: 'only-de.example.com' });
  t.equal(unknownAllow.status, 403, 'unknown country fails an allow list');
  t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/lo2'), { deny_reason: 'country_restricted' });
});

// Country rules without a database deny with geo_unavailable (test/unit/restrictions/chain.test.ts);
// that happens only when the bundled database fails. An explicit --geoip-db that cannot be read no
// longer runs on with geo_unavailable: it refuses to start.
t.test('an explicit --geoip-db that cannot be read refuses to start instead of denying with geo_unavailable', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-geo-'));
  const config = join(dir, 'services.yaml');
  writeFileSync(
    config,
    'services:\n  - name: geo\n    protocol: http\n    domains: [geo.example.com]\n    target: http://127.0.0.1:9\n    access: { countries: { deny: [US] } }\n',
  );
  const res = await runBinary(['--config', config, '--proxy-env', '/dev/null', '--geoip-db', '/nonexistent/GeoLite2-Country.mmdb']);
  t.equal(
    res.stderr,
    'netbird-proxy: --geoip-db / NB_PROXY_GEOIP_DB /nonexistent/GeoLite2-Country.mmdb: cannot read it (ENOENT): fix the path, or leave it out to use the bundled database\n',
  );
  t.equal(res.code, 2);
});

t.test('dual-stack listener: IPv4 clients are seen as IPv4, IPv6 clients as IPv6', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    httpHost: '::',
    config: `services:
  - name: web
    protocol: http
    domains: [web.example.com]
    target: ${upstream.url}
    access: { cidr: { deny: [127.0.0.2, "::1"] } }
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  t.equal((await httpGet(`http://127.0.0.1:${daemon.httpPort}/v4`, { host: 'web.example.com', from: '127.0.0.3' })).status, 200);
  t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/v4'), { client_ip: '127.0.0.3' });
  t.equal(
    (await httpGet(`http://127.0.0.1:${daemon.httpPort}/v4d`, { host: 'web.example.com', from: '127.0.0.2' })).status,
    403,
    'an IPv4 rule matches a mapped client',
  );
  t.equal((await httpGet(`http://[::1]:${daemon.httpPort}/v6`, { host: 'web.example.com' })).status, 403, 'an IPv6 rule matches');
  t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/v6'), { client_ip: '::1', deny_reason: 'ip_restricted' });
});

t.test('--access-log writes entries to a file and SIGUSR2 reopens it after rotation', async (t) => {
  const logDir = mkdtempSync(join(tmpdir(), 'nbp-alog-'));
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [web.example.com]
    target: ${upstream.url}
`,
    // The directory must exist: the proxy no longer creates it (see startup-errors.test.ts).
    args: ['--access-log', join(logDir, 'access.log')],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const file = join(logDir, 'access.log');
  await httpGet(`${daemon.httpUrl}/one`, { host: 'web.example.com' });
  await until('entry in the file', () => existsSync(file) && readFileSync(file, 'utf8').includes('"path":"/one"'), 5000);
  t.equal(daemon.access().length, 0, 'no access entries on stdout');
  renameSync(file, `${file}.1`);
  daemon.signal('SIGUSR2');
  await daemon.waitFor((l) => l.msg === 'access log reopened');
  await httpGet(`${daemon.httpUrl}/two`, { host: 'web.example.com' });
  await until('new file after reopen', () => existsSync(file) && readFileSync(file, 'utf8').includes('"path":"/two"'), 5000);
  t.notMatch(readFileSync(`${file}.1`, 'utf8'), '"path":"/two"');
});
