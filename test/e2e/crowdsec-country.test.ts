// Country-scope decisions against the real LAPI 1.4.6 (`cscli decisions add --scope Country`), with a
// test country database that places 127.0.0.2 in FR and 127.0.0.3 in DE.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLapi, type Lapi } from '../harness/lapi';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { httpGet, openTcp, until } from '../harness/clients';
import { writeCountryMmdb } from '../harness/mmdb';
import { freePort } from '../harness/ports';
import { startHttpUpstream, startLiveEcho, type HttpUpstream } from '../harness/upstreams';

const FR_CLIENT = '127.0.0.2';
const DE_CLIENT = '127.0.0.3';
const synced = (l: LogLine): boolean => l.msg === 'CrowdSec bouncer synced initial decisions';
const dir = mkdtempSync(join(tmpdir(), 'nbp-country-'));
const MMDB = join(dir, 'countries.mmdb');
writeCountryMmdb(MMDB, { [FR_CLIENT]: 'FR', [DE_CLIENT]: 'DE' });

function services(upstream: HttpUpstream, extra = ''): string {
  return `services:
  - name: shop
    protocol: http
    domains: [shop.example.com]
    target: ${upstream.url}
    access: { crowdsec: enforce }
  - name: watch
    protocol: http
    domains: [watch.example.com]
    target: ${upstream.url}
    access: { crowdsec: observe }
${extra}`;
}

function crowdsecArgs(lapi: Lapi, scopes: string): string[] {
  return ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '500ms', '--crowdsec-scopes', scopes];
}

async function addCountryBan(lapi: Lapi, country: string): Promise<void> {
  await lapi.cscli(['decisions', 'add', '--scope', 'Country', '--value', country, '--type', 'ban', '--duration', '10m', '--reason', 'country test']);
}

/** 1.4.6's `cscli decisions delete` has no --scope/--value: delete by the id `decisions list` gives. */
async function deleteCountryDecisions(lapi: Lapi, country: string): Promise<void> {
  const alerts = JSON.parse(await lapi.cscli(['decisions', 'list', '-o', 'json'])) as Array<{
    decisions: Array<{ id: number; scope: string; value: string }>;
  }> | null;
  for (const a of alerts ?? []) {
    for (const d of a.decisions) if (d.scope === 'Country' && d.value === country) await lapi.cscli(['decisions', 'delete', '--id', String(d.id)]);
  }
}

async function status(daemon: Daemon, from: string, host = 'shop.example.com', path = '/'): Promise<number> {
  return (await httpGet(`${daemon.httpUrl}${path}`, { host, from })).status;
}

async function crowdsecStatus(daemon: Daemon): Promise<{ country_scope: string; decisions: { countries: number; total: number } }> {
  const res = await httpGet(`${daemon.adminUrl}/status`);
  return (JSON.parse(res.body) as { crowdsec: { country_scope: string; decisions: { countries: number; total: number } } }).crowdsec;
}

t.test('country-scope decisions from the real LAPI', async (t) => {
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  const echo = await startLiveEcho();
  t.teardown(async () => {
    await echo.close();
    await upstream.close();
    await lapi.close();
  });
  await addCountryBan(lapi, 'FR');

  t.test('without country in --crowdsec-scopes the decision is not pulled, so not enforced', async (t) => {
    const daemon = await startDaemon({ config: services(upstream), args: [...crowdsecArgs(lapi, 'ip,range'), '--geoip-db', MMDB] });
    t.teardown(() => daemon.stop());
    await daemon.waitFor(synced, 15_000, 'initial sync');
    t.equal(await status(daemon, FR_CLIENT), 200);
    t.match(await crowdsecStatus(daemon), { country_scope: 'off: not in --crowdsec-scopes', decisions: { countries: 0 } });
  });

  t.test('with ip,range,country: enforced on clients in the country, observed, re-judged, lifted on deletion', async (t) => {
    const tcpPort = await freePort();
    const tcp = `  - name: db
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${echo.port}
    access: { crowdsec: enforce }
`;
    const daemon = await startDaemon({ config: services(upstream, tcp), args: [...crowdsecArgs(lapi, 'ip,range,country'), '--geoip-db', MMDB] });
    t.teardown(() => daemon.stop());
    await daemon.waitFor(synced, 15_000, 'initial sync');

    t.equal(await status(daemon, FR_CLIENT, 'shop.example.com', '/fr'), 403, 'client placed in FR denied');
    t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/fr'), {
      client_ip: FR_CLIENT,
      country: 'FR',
      deny_reason: 'crowdsec_ban',
      metadata: { crowdsec_verdict: 'ban', crowdsec_scope: 'country', crowdsec_value: 'FR', crowdsec_mode: 'enforce' },
    });
    t.equal(await status(daemon, DE_CLIENT, 'shop.example.com', '/de'), 200, 'client placed in DE passes');
    t.equal(await status(daemon, '127.0.0.4'), 200, 'client without a country passes');
    t.equal(await status(daemon, FR_CLIENT, 'watch.example.com', '/observed'), 200, 'observe lets it through');
    t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/observed'), {
      deny_reason: '',
      country: 'FR',
      metadata: { crowdsec_verdict: 'ban', crowdsec_scope: 'country', crowdsec_mode: 'observe' },
    });
    t.match(await crowdsecStatus(daemon), { country_scope: 'enabled', decisions: { countries: 1 } });

    // A new country ban cuts open connections of clients in that country (enforce services).
    const de = await openTcp(tcpPort, DE_CLIENT);
    const other = await openTcp(tcpPort, '127.0.0.4');
    let echoed = '';
    de.socket.setEncoding('utf8').on('data', (c: string) => (echoed += c));
    de.socket.write('ping');
    await until('echo through the open connection', () => echoed === 'ping');
    const t0 = Date.now();
    await addCountryBan(lapi, 'DE');
    await until('the open connection from DE is cut', () => de.closed(), 10_000);
    t.pass(`open connection from DE cut ${Date.now() - t0} ms after cscli decisions add started (poll interval 500 ms)`);
    t.match(await daemon.waitFor((l) => l.msg === 'open connection closed: the rules now deny it' && l.client_ip === DE_CLIENT), {
      service: 'db',
      deny_reason: 'crowdsec_ban',
    });
    t.notOk(other.closed(), 'a connection from another country stays open');
    other.socket.destroy();

    await deleteCountryDecisions(lapi, 'FR');
    await until('FR lifted after the deletion', async () => (await status(daemon, FR_CLIENT)) === 200, 10_000);
    t.equal(await status(daemon, DE_CLIENT), 403, 'DE still banned');
    t.match(await crowdsecStatus(daemon), { decisions: { countries: 1 } });
    await deleteCountryDecisions(lapi, 'DE');
  });

  t.test('without a country database: /status says unavailable, a warning at start, nothing matches', async (t) => {
    await addCountryBan(lapi, 'FR');
    // Makes the bundled database unresolvable, as in a broken install (an explicit --geoip-db that
    // cannot be read refuses to start instead).
    const preload = join(dir, 'no-bundled-geo.cjs');
    writeFileSync(
      preload,
      `const Module = require('node:module');
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request.startsWith('@ip-location-db/')) throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
`,
    );
    const daemon = await startDaemon({
      config: services(upstream),
      args: crowdsecArgs(lapi, 'ip,range,country'),
      env: { NODE_OPTIONS: `--require ${preload}` },
    });
    t.teardown(() => daemon.stop());
    await daemon.waitFor((l) => l.msg === 'country database unavailable: services with country rules deny with geo_unavailable');
    t.match(await daemon.waitFor((l) => typeof l.msg === 'string' && l.msg.startsWith('--crowdsec-scopes has country but no country database')), {
      level: 'warn',
    });
    await daemon.waitFor(synced, 15_000, 'initial sync');
    t.match(await crowdsecStatus(daemon), { country_scope: 'unavailable: no country database', decisions: { countries: 1 } });
    t.equal(await status(daemon, FR_CLIENT), 200, 'the FR decision cannot match');
  });
});
