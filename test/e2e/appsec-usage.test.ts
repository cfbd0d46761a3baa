// AppSec denials in the CrowdSec usage metrics: dropped under origin "appsec" with the engine's
// action as remediation; requests the engine judged count as processed once (also for services
// without CrowdSec). The usage endpoint is the scripted LAPI's (1.4.6 predates it); the engine
// double checks its key against a real LAPI.
import t from 'tap';
import { startAppSecEngine } from '../harness/appsec-engine';
import { httpGet, until } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { startFakeLapi } from '../harness/fake-lapi';
import { startLapi } from '../harness/lapi';
import { serveUsageMetrics, sumCounts } from '../harness/usage-metrics-endpoint';
import { startHttpUpstream } from '../harness/upstreams';

t.test('AppSec denials are pushed as dropped with origin appsec', async (t) => {
  const lapi = await startLapi();
  const engine = await startAppSecEngine({ lapiUrl: lapi.url });
  const fake = await startFakeLapi();
  const endpoint = serveUsageMetrics(fake);
  fake.setDecisions([{ value: '127.0.0.2', origin: 'crowdsec', scenario: 'crowdsecurity/http-probing' }]);
  const upstream = await startHttpUpstream();
  const svc = (name: string, access: string): string =>
    `  - name: ${name}\n    protocol: http\n    domains: [${name}.example.com]\n    target: ${upstream.url}\n    access: ${access}\n`;
  const daemon = await startDaemon({
    config: `services:\n${svc('shop', '{ crowdsec: enforce, appsec: enforce }')}${svc('wiki', '{ appsec: enforce }')}${svc('blog', '{ appsec: observe }')}`,
    args: [
      '--crowdsec-api-url',
      fake.url,
      '--crowdsec-api-key',
      fake.apiKey,
      '--crowdsec-poll-interval',
      '200ms',
      '--crowdsec-metrics-interval',
      '1s',
      '--appsec-url',
      engine.url,
      '--appsec-api-key',
      lapi.apiKey,
    ],
    env: { NB_PROXY_TEST_SHORT_METRICS_INTERVAL: '1' },
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await engine.close();
    await fake.close();
    await lapi.close();
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
  await endpoint.waitForPush();
  const start = endpoint.pushes.length;
  const get = (service: string, path: string, from = '127.0.0.1'): Promise<number> =>
    httpGet(`${daemon.httpUrl}${path}`, { host: `${service}.example.com`, from }).then((r) => r.status);

  t.equal(await get('shop', '/.env'), 403);
  t.equal(await get('shop', '/ok'), 200);
  t.equal(await get('shop', '/.env', '127.0.0.2'), 403, 'CrowdSec first');
  t.equal(await get('wiki', '/.git/config'), 403);
  t.equal(await get('wiki', '/captcha-me'), 403);
  t.equal(await get('blog', '/.env'), 200, 'observe: never dropped');
  const expected = {
    'dropped request appsec/ban': 2,
    'dropped request appsec/captcha': 1,
    'dropped request crowdsec/ban': 1,
    'processed request': 6,
  };
  const want = JSON.stringify(Object.entries(expected).sort());
  const sum = (): Record<string, number> => sumCounts(endpoint.pushes.slice(start).filter((p) => p.status === 201));
  await until(`pushed counts ${want}`, () => JSON.stringify(Object.entries(sum()).sort()) === want, 10_000, 50).catch(() => undefined);
  t.same(sum(), expected);
  for (const p of endpoint.pushes) t.same(p.errors, [], 'valid against the swagger schema');
});
