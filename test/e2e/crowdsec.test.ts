// The daemon against a real CrowdSec LAPI (Debian crowdsec 1.4.6): what a user checks with
// `cscli decisions add` and `docker compose logs proxy | grep -i crowdsec`.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLapi, type Lapi } from '../harness/lapi';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { httpGet, tcpExchange, until } from '../harness/clients';
import { startHttpUpstream, startTcpEcho, type HttpUpstream } from '../harness/upstreams';
import { freePort } from '../harness/ports';
import { makeTestPki } from '../harness/pki';

const POLL = '500ms';
// The poll interval is 500 ms; a decision change is seen at the next polls. The deadline only bounds a hang.
const SOON_MS = 10_000;

function crowdsecArgs(lapi: Lapi): string[] {
  return ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', POLL];
}

function httpService(name: string, domain: string, upstream: HttpUpstream, mode: string): string {
  return `  - name: ${name}
    protocol: http
    domains: [${domain}]
    target: ${upstream.url}
    access: { crowdsec: ${mode} }
`;
}

const synced = (l: LogLine): boolean => l.msg === 'CrowdSec bouncer synced initial decisions';

async function lastAccess(daemon: Daemon, path: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && l.path === path, 5000, `access entry for ${path}`);
}

t.test('enforce and observe against the real LAPI', async (t) => {
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  const echo = await startTcpEcho();
  const tcpPort = await freePort();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m', reason: 'netbird test' });
  await lapi.addDecision({ range: '127.0.0.4/30', type: 'captcha', duration: '5m' });
  await lapi.addDecision({ ip: '127.0.0.8', type: 'throttle', duration: '5m' });
  const daemon = await startDaemon({
    config: `services:
${httpService('shop', 'shop.example.com', upstream, 'enforce')}${httpService('blog', 'blog.example.com', upstream, 'observe')}${httpService('open', 'open.example.com', upstream, 'off')}  - name: ssh
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${echo.port}
    access: { crowdsec: enforce }
`,
    args: crowdsecArgs(lapi),
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await echo.close();
    await lapi.close();
  });
  const sync = await daemon.waitFor(synced, 10_000, 'initial sync');
  t.equal(sync.decisions, 3, 'the sync line counts the decisions');

  await t.test('a ban gives 403 Forbidden and crowdsec_ban', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/ban`, { host: 'shop.example.com', from: '127.0.0.2' });
    t.equal(res.status, 403);
    t.equal(res.body, 'Forbidden');
    t.match(await lastAccess(daemon, '/ban'), {
      client_ip: '127.0.0.2',
      deny_reason: 'crowdsec_ban',
      metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'enforce' },
    });
    t.equal((await httpGet(`${daemon.httpUrl}/clean`, { host: 'shop.example.com', from: '127.0.0.3' })).status, 200, 'a clean client passes');
  });

  await t.test('a captcha on a range denies an address inside it with crowdsec_captcha', async (t) => {
    t.equal((await httpGet(`${daemon.httpUrl}/captcha`, { host: 'shop.example.com', from: '127.0.0.6' })).status, 403);
    t.match(await lastAccess(daemon, '/captcha'), { client_ip: '127.0.0.6', deny_reason: 'crowdsec_captcha' });
  });

  await t.test('throttle is a denial too', async (t) => {
    t.equal((await httpGet(`${daemon.httpUrl}/throttle`, { host: 'shop.example.com', from: '127.0.0.8' })).status, 403);
    t.match(await lastAccess(daemon, '/throttle'), { deny_reason: 'crowdsec_throttle', metadata: { crowdsec_verdict: 'throttle' } });
  });

  await t.test('observe allows and records the verdict; off does not consult CrowdSec', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/observed`, { host: 'blog.example.com', from: '127.0.0.2' });
    t.equal(res.status, 200);
    t.match(await lastAccess(daemon, '/observed'), { deny_reason: '', metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'observe' } });
    t.equal((await httpGet(`${daemon.httpUrl}/off`, { host: 'open.example.com', from: '127.0.0.2' })).status, 200);
    t.same((await lastAccess(daemon, '/off')).metadata, {});
  });

  await t.test('a TCP service in enforce closes a banned client before dialing', async (t) => {
    const before = echo.connections;
    const denied = await tcpExchange(tcpPort, { from: '127.0.0.2', send: 'x' });
    t.equal(denied.data, '');
    t.equal(echo.connections, before, 'upstream never dialed');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.protocol === 'tcp' && l.client_ip === '127.0.0.2');
    t.match(entry, { service: 'ssh', deny_reason: 'crowdsec_ban' });
    t.equal((await tcpExchange(tcpPort, { from: '127.0.0.3', send: 'x' })).data, 'echo:x');
  });

  await t.test('a decision deleted with cscli stops blocking at the next polls, a new one starts', async (t) => {
    await lapi.deleteDecision({ ip: '127.0.0.2' });
    const unblockedMs = await until(
      'unblocked',
      async () => (await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' })).status === 200,
      SOON_MS,
      50,
    );
    t.pass(`unblocked ${unblockedMs} ms after cscli returned (poll interval 500 ms)`);
    await lapi.addDecision({ ip: '127.0.0.12', type: 'ban', duration: '5m' });
    const blockedMs = await until(
      'blocked',
      async () => (await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.12' })).status === 403,
      SOON_MS,
      50,
    );
    t.pass(`blocked ${blockedMs} ms after cscli returned`);
  });

  await t.test('a LAPI killed after the first sync: the cache keeps blocking, the bouncer resumes after restart', async (t) => {
    await lapi.stop();
    await daemon.waitFor((l) => /CrowdSec/i.test(String(l.msg)) && l.level === 'warn', 5000, 'a CrowdSec warning');
    const status = JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as { crowdsec: { state: string; last_error: string } };
    t.equal(status.crowdsec.state, 'degraded');
    t.match(status.crowdsec.last_error, /unreachable/i);
    t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.12' })).status, 403, 'still blocked from the cache');
    t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.3' })).status, 200, 'clean clients still pass');
    await lapi.start();
    await lapi.addDecision({ ip: '127.0.0.13', type: 'ban', duration: '5m' });
    await until(
      'a decision made after the restart blocks',
      async () => (await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.13' })).status === 403,
      15_000,
      100,
    );
    await daemon.waitFor((l) => l.msg === 'CrowdSec LAPI reachable again', 5000);
  });

  await t.test('the logs tell the story to grep -i crowdsec, and never print the key', async (t) => {
    const crowdsecLines = daemon.lines.filter((l) => /crowdsec/i.test(String(l.msg))).map((l) => String(l.msg));
    t.ok(crowdsecLines.includes(`connecting to CrowdSec LAPI at ${lapi.url}`));
    t.ok(crowdsecLines.includes('CrowdSec bouncer started'));
    t.ok(crowdsecLines.includes('CrowdSec bouncer synced initial decisions'));
    t.notMatch(daemon.output(), lapi.apiKey, 'the API key is not in the output');
  });
});

t.test('an unreachable LAPI fails closed in enforce and allows in observe', async (t) => {
  const upstream = await startHttpUpstream();
  const deadPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
${httpService('shop', 'shop.example.com', upstream, 'enforce')}${httpService('blog', 'blog.example.com', upstream, 'observe')}`,
    args: ['--crowdsec-api-url', `http://127.0.0.1:${deadPort}`, '--crowdsec-api-key', 'secret-key-never-logged', '--crowdsec-poll-interval', POLL],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  await daemon.waitFor((l) => /unreachable/i.test(JSON.stringify(l)), 5000, 'an unreachable error');
  t.equal((await httpGet(`${daemon.httpUrl}/e`, { host: 'shop.example.com' })).status, 403);
  t.match(await lastAccess(daemon, '/e'), { deny_reason: 'crowdsec_unavailable', metadata: { crowdsec_verdict: 'unavailable', crowdsec_mode: 'enforce' } });
  t.equal((await httpGet(`${daemon.httpUrl}/o`, { host: 'blog.example.com' })).status, 200);
  t.match(await lastAccess(daemon, '/o'), { deny_reason: '', metadata: { crowdsec_verdict: 'unavailable', crowdsec_mode: 'observe' } });
  const ready = await httpGet(`${daemon.adminUrl}/readyz`);
  t.equal(ready.status, 503, 'not ready while an enforce service waits for the first sync');
  t.match(ready.body, 'initial sync');
  const status = JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as { crowdsec: { state: string } };
  t.equal(status.crowdsec.state, 'connecting');
  t.notMatch(daemon.output(), 'secret-key-never-logged');
});

t.test('lazy start and stop through reloads; modifying a CrowdSec service does not restart the bouncer', async (t) => {
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m' });
  const off = `services:\n${httpService('shop', 'shop.example.com', upstream, 'off')}`;
  const daemon = await startDaemon({ config: off, args: crowdsecArgs(lapi) });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });
  const connects = (): number => daemon.lines.filter((l) => String(l.msg).startsWith('connecting to CrowdSec LAPI')).length;
  const reloads = (): number => daemon.lines.filter((l) => l.msg === 'config reloaded').length;
  const reload = async (text: string): Promise<void> => {
    const before = reloads();
    daemon.writeConfig(text);
    daemon.signal('SIGHUP');
    await until('reloaded', () => reloads() > before, 10_000);
  };

  const caps = JSON.parse((await httpGet(`${daemon.adminUrl}/capabilities`)).body) as { supports_crowdsec: boolean };
  t.equal(caps.supports_crowdsec, true);
  t.equal(connects(), 0, 'no LAPI connection while no service uses CrowdSec');
  t.equal((JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as { crowdsec: { state: string } }).crowdsec.state, 'stopped');

  await reload(`services:\n${httpService('shop', 'shop.example.com', upstream, 'enforce')}`);
  await daemon.waitFor(synced, 10_000);
  t.equal(connects(), 1, 'started by the first CrowdSec service');
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);

  await reload(`services:\n${httpService('shop', 'shop.example.com', upstream, 'observe')}${httpService('blog', 'blog.example.com', upstream, 'enforce')}`);
  t.equal(
    (await httpGet(`${daemon.httpUrl}/`, { host: 'blog.example.com', from: '127.0.0.2' })).status,
    403,
    'the new service blocks at once, from the same cache',
  );
  t.equal(connects(), 1, 'a second service and a modified one do not restart the bouncer');
  t.equal(daemon.lines.filter(synced).length, 1, 'no second initial sync');

  await reload(off);
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer stopped', 5000);
  t.equal((JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as { crowdsec: { state: string } }).crowdsec.state, 'stopped');

  await reload(`services:\n${httpService('shop', 'shop.example.com', upstream, 'enforce')}`);
  await until('condition holds', () => daemon.lines.filter(synced).length === 2, 10_000);
  t.equal(connects(), 2, 'started again by the next CrowdSec service');
});

t.test('dual-stack listener: an IPv4 client arriving as ::ffff:127.0.0.2 and an IPv6 decision on ::1', async (t) => {
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m' });
  await lapi.addDecision({ ip: '::1', type: 'ban', duration: '5m' });
  const daemon = await startDaemon({
    httpHost: '::',
    config: `services:\n${httpService('shop', 'shop.example.com', upstream, 'enforce')}`,
    args: crowdsecArgs(lapi),
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });
  await daemon.waitFor(synced, 10_000);
  t.equal((await httpGet(`http://127.0.0.1:${daemon.httpPort}/v4`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);
  t.match(await lastAccess(daemon, '/v4'), { client_ip: '127.0.0.2', deny_reason: 'crowdsec_ban' });
  t.equal((await httpGet(`http://[::1]:${daemon.httpPort}/v6`, { host: 'shop.example.com' })).status, 403);
  t.match(await lastAccess(daemon, '/v6'), { client_ip: '::1', deny_reason: 'crowdsec_ban' });
  t.equal((await httpGet(`http://127.0.0.1:${daemon.httpPort}/ok`, { host: 'shop.example.com', from: '127.0.0.3' })).status, 200);
});

t.test('TLS to the LAPI with a private CA and a client certificate, no API key', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-pki-'));
  const pki = await makeTestPki(dir);
  const lapi = await startLapi({ tls: { certFile: pki.serverCert, keyFile: pki.serverKey, caCertPath: pki.caCert, bouncersAllowedOu: ['bouncer-ou'] } });
  const upstream = await startHttpUpstream();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m' });
  const daemon = await startDaemon({
    config: `services:\n${httpService('shop', 'shop.example.com', upstream, 'enforce')}`,
    args: [
      '--crowdsec-api-url',
      lapi.url,
      '--crowdsec-ca-cert',
      pki.caCert,
      '--crowdsec-cert',
      pki.clientCert,
      '--crowdsec-key',
      pki.clientKey,
      '--crowdsec-poll-interval',
      POLL,
    ],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });
  t.match(lapi.url, /^https:/);
  await daemon.waitFor(synced, 10_000);
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.3' })).status, 200);
});
