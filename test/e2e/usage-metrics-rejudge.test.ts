// CrowdSec usage metrics for TCP connections cut later by re-judgement: a connection admitted, then
// cut when a decision for its address arrives, is one processed and one dropped connection (once,
// whatever decision changes follow before or after its socket closed).
import t from 'tap';
import { startFakeLapi } from '../harness/fake-lapi';
import { startDaemon } from '../harness/daemon';
import { openTcp, tcpExchange, until } from '../harness/clients';
import { startTcpEcho } from '../harness/upstreams';
import { freePort } from '../harness/ports';
import { serveUsageMetrics, sumCounts } from '../harness/usage-metrics-endpoint';

t.test('a TCP connection cut by a new decision is counted dropped, once', async (t) => {
  const fake = await startFakeLapi();
  const endpoint = serveUsageMetrics(fake);
  const echo = await startTcpEcho();
  const tcpPort = await freePort();
  t.teardown(async () => {
    await echo.close();
    await fake.close();
  });
  const daemon = await startDaemon({
    config: `services:
  - name: ssh
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${echo.port}
    access: { crowdsec: enforce }
`,
    // Only the push at shutdown (an hour is never reached): it carries every count of the test.
    args: ['--crowdsec-api-url', fake.url, '--crowdsec-api-key', fake.apiKey, '--crowdsec-poll-interval', '200ms', '--crowdsec-metrics-interval', '1h'],
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
  const conn = await openTcp(tcpPort, '127.0.0.6');
  t.equal((await tcpExchange(tcpPort, { from: '127.0.0.1', send: 'x' })).data, 'echo:x', 'another client is served');

  fake.addDecision({ value: '127.0.0.6', origin: 'cscli', scenario: 'manual' });
  await until('the connection is cut', () => conn.closed(), 10_000, 20);
  // More changes touching the same address: a range (every open connection judged again), then the address again.
  fake.addDecision({ value: '127.0.0.0/24', origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf' });
  fake.addDecision({ value: '127.0.0.6', origin: 'CAPI', scenario: 'crowdsecurity/ssh-bf' });
  await daemon.waitFor((l) => l.msg === 'access' && l.client_ip === '127.0.0.6', 5000, 'the access entry of the cut connection');
  await until(
    'the bouncer applied the later decisions',
    async () => {
      const r = await fetch(`${daemon.adminUrl}/status`);
      const s = (await r.json()) as { crowdsec: { decisions?: { by_origin?: Record<string, number> } } };
      const by = s.crowdsec.decisions?.by_origin ?? {};
      return (by.CAPI ?? 0) >= 1 && (by.crowdsec ?? 0) >= 1;
    },
    10_000,
    50,
  );

  t.equal(await daemon.stop(), 0);
  t.equal(endpoint.pushes.length, 1);
  t.same(sumCounts(endpoint.pushes), { 'processed connection': 2, 'dropped connection cscli/ban': 1 });
});
