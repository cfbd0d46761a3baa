// CrowdSec usage metrics at shutdown: what was counted since the last push goes out once more on
// SIGTERM (one process and --workers 2, whose workers hand their last counts to the primary), and
// when the LAPI does not take it before the grace ends, the lost counts are named in one line.
import t from 'tap';
import { startFakeLapi } from '../harness/fake-lapi';
import { startDaemon } from '../harness/daemon';
import { httpGet } from '../harness/clients';
import { startHttpUpstream } from '../harness/upstreams';
import { serveUsageMetrics, sumCounts } from '../harness/usage-metrics-endpoint';

// Longer than any test: only the push at shutdown can carry the counts.
const INTERVAL = '1h';

for (const workers of ['1', '2']) {
  t.test(`--workers ${workers}: SIGTERM pushes what was counted since the last push`, async (t) => {
    const fake = await startFakeLapi();
    const endpoint = serveUsageMetrics(fake);
    fake.setDecisions([{ value: '127.0.0.2', origin: 'crowdsec', scenario: 'crowdsecurity/http-probing' }]);
    const upstream = await startHttpUpstream();
    t.teardown(async () => {
      await upstream.close();
      await fake.close();
    });
    const daemon = await startDaemon({
      config: `services:\n  - name: shop\n    protocol: http\n    domains: [shop.example.com]\n    target: ${upstream.url}\n    access: { crowdsec: enforce }\n`,
      args: [
        '--workers',
        workers,
        '--crowdsec-api-url',
        fake.url,
        '--crowdsec-api-key',
        fake.apiKey,
        '--crowdsec-poll-interval',
        '200ms',
        '--crowdsec-metrics-interval',
        INTERVAL,
      ],
    });
    await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
    for (let i = 0; i < 4; i++) t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.1' })).status, 200);
    t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);
    t.equal(endpoint.pushes.length, 0, 'nothing pushed before the stop');
    t.equal(await daemon.stop(), 0);
    t.equal(endpoint.pushes.length, 1, 'one push at shutdown');
    if (endpoint.pushes.length !== 1) t.comment(daemon.output().slice(-3000));
    t.same(endpoint.pushes[0]?.errors, []);
    t.same(sumCounts(endpoint.pushes), { 'processed request': 5, 'dropped request crowdsec/ban': 1 });
    t.notOk(
      daemon.lines.some((l) => typeof l.msg === 'string' && l.msg.startsWith('CrowdSec usage metrics not sent at shutdown')),
      'nothing reported lost',
    );
  });
}

t.test('a LAPI that does not answer the last push: the stop is not held past the grace, the lost counts are named', async (t) => {
  const fake = await startFakeLapi();
  const endpoint = serveUsageMetrics(fake);
  fake.setDecisions([{ value: '127.0.0.2', origin: 'crowdsec', scenario: 'crowdsecurity/http-probing' }]);
  const upstream = await startHttpUpstream();
  t.teardown(async () => {
    await upstream.close();
    await fake.close();
  });
  const daemon = await startDaemon({
    config: `services:\n  - name: shop\n    protocol: http\n    domains: [shop.example.com]\n    target: ${upstream.url}\n    access: { crowdsec: enforce }\n`,
    args: [
      '--crowdsec-api-url',
      fake.url,
      '--crowdsec-api-key',
      fake.apiKey,
      '--crowdsec-poll-interval',
      '200ms',
      '--crowdsec-metrics-interval',
      INTERVAL,
      '--shutdown-grace',
      '1s',
    ],
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
  for (let i = 0; i < 3; i++) await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.1' });
  await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' });
  // From now on the usage endpoint reads the push and never answers.
  fake.respond((req) => (req.path === '/v1/usage-metrics' ? { hang: true } : undefined));
  t.equal(await daemon.stop(), 0);
  const lost = daemon.lines.find((l) => typeof l.msg === 'string' && l.msg.startsWith('CrowdSec usage metrics not sent at shutdown'));
  t.match(lost, { processed: 4, dropped: 1, outcome: 'timeout' }, 'the lost counts are logged');
  t.ok(
    fake.requests.some((r) => r.path === '/v1/usage-metrics'),
    'the push was attempted',
  );
  t.equal(endpoint.pushes.length, 0);
});
