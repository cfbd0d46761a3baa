// Admin listener: health, readiness around the first CrowdSec sync, Prometheus metrics, status.
import t from 'tap';
import { startLapi } from '../harness/lapi';
import { startDaemon } from '../harness/daemon';
import { httpGet, until } from '../harness/clients';
import { startHttpUpstream } from '../harness/upstreams';
import { freePort } from '../harness/ports';

function metricValue(text: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    if (Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`))) return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

t.test('/readyz is 503 until the first sync, then 200; /metrics counts denials by reason; /status reports the bouncer', async (t) => {
  const lapi = await startLapi();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m' });
  await lapi.addDecision({ range: '2001:db8::/64', type: 'captcha', duration: '5m' });
  await lapi.stop(); // the proxy starts while the LAPI is down
  const upstream = await startHttpUpstream();
  const refusedPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: shop
    protocol: http
    domains: [shop.example.com]
    target: ${upstream.url}
    access: { crowdsec: enforce }
  - name: down
    protocol: http
    domains: [down.example.com]
    target: http://127.0.0.1:${refusedPort}
`,
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '300ms'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });

  t.equal((await httpGet(`${daemon.adminUrl}/healthz`)).status, 200, 'healthz answers while not ready');
  const notReady = await httpGet(`${daemon.adminUrl}/readyz`);
  t.equal(notReady.status, 503);
  t.match(notReady.body, 'shop');
  t.equal((await httpGet(`${daemon.httpUrl}/x`, { host: 'shop.example.com', from: '127.0.0.3' })).status, 403, 'fail-closed before the first sync');

  const before = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
  t.equal(metricValue(before, 'netbird_proxy_crowdsec_synced', {}), 0, 'not synced yet');
  t.equal(metricValue(before, 'netbird_proxy_crowdsec_poll_interval_seconds', {}), 0.3, 'the poll interval, for the staleness alert');

  await lapi.start();
  await until('ready after the first sync', async () => (await httpGet(`${daemon.adminUrl}/readyz`)).status === 200, 15_000);

  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.3' })).status, 200);
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'down.example.com' })).status, 502);
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'nowhere.example.com' })).status, 404);

  const metrics = await httpGet(`${daemon.adminUrl}/metrics`);
  t.equal(metrics.status, 200);
  t.match(metrics.headers['content-type'], 'text/plain');
  const text = metrics.body;
  const requests = 'netbird_proxy_http_requests_total';
  t.equal(metricValue(text, requests, { service: 'shop', outcome: 'denied', deny_reason: 'crowdsec_ban' }), 2, 'two bans counted');
  t.equal(metricValue(text, requests, { service: 'shop', outcome: 'denied', deny_reason: 'crowdsec_unavailable' }), 1, 'the fail-closed denial counted');
  t.equal(metricValue(text, requests, { service: 'shop', outcome: 'allowed' }), 1);
  t.equal(metricValue(text, requests, { outcome: 'not_found' }), 1);
  t.equal(metricValue(text, 'netbird_proxy_upstream_errors_total', { service: 'down', kind: 'refused' }), 1);
  t.equal(metricValue(text, 'netbird_proxy_crowdsec_decisions', { type: 'ban', origin: 'cscli', family: 'ipv4' }), 1);
  t.equal(metricValue(text, 'netbird_proxy_crowdsec_decisions', { type: 'captcha', family: 'ipv6' }), 1);
  t.ok((metricValue(text, 'netbird_proxy_crowdsec_pulls_total', { result: 'success' }) ?? 0) >= 1);
  t.ok((metricValue(text, 'netbird_proxy_crowdsec_pulls_total', { result: 'failure' }) ?? 0) >= 1, 'failed pulls while the LAPI was down');
  t.type(metricValue(text, 'netbird_proxy_crowdsec_seconds_since_last_pull', {}), 'number');
  t.type(metricValue(text, 'netbird_proxy_crowdsec_initial_sync_seconds', {}), 'number');
  t.equal(metricValue(text, 'netbird_proxy_crowdsec_synced', {}), 1, 'synced');

  const status = JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as {
    crowdsec: { state: string; decisions: { total: number; by_type: Record<string, number> }; last_successful_pull: string | null; services: unknown[] };
  };
  t.equal(status.crowdsec.state, 'synced');
  t.equal(status.crowdsec.decisions.total, 2);
  t.same(status.crowdsec.decisions.by_type, { ban: 1, captcha: 1 });
  t.ok(status.crowdsec.last_successful_pull !== null && !Number.isNaN(Date.parse(status.crowdsec.last_successful_pull)));
  t.same(status.crowdsec.services, [{ service: 'shop', mode: 'enforce' }]);
});

t.test('/capabilities says false without CrowdSec configured; /readyz is 200 without enforce services', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({ config: `services:\n  - name: web\n    protocol: http\n    domains: [web.example.com]\n    target: ${upstream.url}\n` });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  t.same(JSON.parse((await httpGet(`${daemon.adminUrl}/capabilities`)).body), { supports_crowdsec: false, supports_appsec: false });
  t.equal((await httpGet(`${daemon.adminUrl}/readyz`)).status, 200);
  t.equal((await httpGet(`${daemon.adminUrl}/nope`)).status, 404);
});

t.test('/readyz is 503 while a tcp listener cannot bind', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({ config: `services:\n  - name: web\n    protocol: http\n    domains: [web.example.com]\n    target: ${upstream.url}\n` });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const before = daemon.lines.filter((l) => l.msg === 'config reloaded').length;
  daemon.writeConfig(`services:\n  - name: clash\n    protocol: tcp\n    listen: 127.0.0.1:${daemon.adminPort}\n    target: 127.0.0.1:1\n`);
  daemon.signal('SIGHUP');
  await until('condition holds', () => daemon.lines.filter((l) => l.msg === 'config reloaded').length > before, 10_000);
  await daemon.waitFor((l) => l.msg === 'cannot bind tcp listener');
  const ready = await httpGet(`${daemon.adminUrl}/readyz`);
  t.equal(ready.status, 503);
  t.match(ready.body, `tcp listener 127.0.0.1:${daemon.adminPort} not bound`);
});
