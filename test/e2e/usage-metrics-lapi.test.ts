// Usage metrics against the real CrowdSec LAPI (Debian 1.4.6), which predates POST /v1/usage-metrics
// and answers it 404: the proxy says so once in its log and never asks again, and the bouncer goes on.
import t from 'tap';
import { startLapi } from '../harness/lapi';
import { startDaemon } from '../harness/daemon';
import { httpGet, until } from '../harness/clients';
import { startHttpUpstream } from '../harness/upstreams';

const UNSUPPORTED = 'CrowdSec LAPI does not support usage metrics (404); not sending them (CrowdSec 1.6.3 or later accepts them)';

t.test('a 1.4.6 LAPI: one POST, one log line, no retry, enforcement unaffected', async (t) => {
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m' });
  const daemon = await startDaemon({
    config: `services:\n  - name: shop\n    protocol: http\n    domains: [shop.example.com]\n    target: ${upstream.url}\n    access: { crowdsec: enforce }\n`,
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '200ms', '--crowdsec-metrics-interval', '300ms'],
    env: { NB_PROXY_TEST_SHORT_METRICS_INTERVAL: '1' },
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);
  const line = await daemon.waitFor((l) => l.msg === UNSUPPORTED, 10_000, 'the unsupported line');
  t.equal(line.level, 'info', 'info: an older LAPI is not an error');

  // The LAPI logs every request: wait for ten more stream pulls (2s, more than six 300ms intervals).
  const lapiLines = (what: RegExp): string[] =>
    lapi
      .logTail(100_000)
      .split('\n')
      .filter((l) => what.test(l));
  const pulls = (): number => lapiLines(/GET \/v1\/decisions\/stream/).length;
  const after = pulls();
  await until('ten more pulls after the 404', () => pulls() >= after + 10, 10_000, 50);
  const posts = lapiLines(/POST \/v1\/usage-metrics/);
  t.equal(posts.length, 1, 'one POST, never retried');
  t.match(posts[0], / 404 .*crowdsec-netbird-proxy-bouncer\/v/, 'sent with the bouncer User-Agent');
  t.equal(daemon.lines.filter((l) => l.msg === UNSUPPORTED).length, 1, 'said once');
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403, 'still enforcing');
  t.notMatch(daemon.output(), lapi.apiKey, 'the API key is not in the output');
});
