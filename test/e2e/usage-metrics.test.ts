// CrowdSec usage metrics (POST /v1/usage-metrics) from the real binary to a scripted LAPI, since the
// 1.4.6 LAPI predates the endpoint: the payload is checked against the swagger's shape, and the counts
// against the traffic sent (HTTP requests and TCP connections, enforce and observe, several origins).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startFakeLapi, type FakeLapi } from '../harness/fake-lapi';
import { BIN, REPO_ROOT, startDaemon } from '../harness/daemon';
import { httpGet, tcpExchange, until } from '../harness/clients';
import { startHttpUpstream, startTcpEcho } from '../harness/upstreams';
import { freePort } from '../harness/ports';
import { serveUsageMetrics, sumCounts, type UsageEndpoint, type UsagePush } from '../harness/usage-metrics-endpoint';

const VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const INTERVAL = '1s';
const SHORT = { NB_PROXY_TEST_SHORT_METRICS_INTERVAL: '1' };

function lapiArgs(fake: FakeLapi, interval: string): string[] {
  return ['--crowdsec-api-url', fake.url, '--crowdsec-api-key', fake.apiKey, '--crowdsec-poll-interval', '200ms', '--crowdsec-metrics-interval', interval];
}

const accepted = (pushes: UsagePush[]): UsagePush[] => pushes.filter((p) => p.status === 201);

/** Waits until the accepted pushes from index `since` add up to exactly `expected`, and returns their sum. */
async function countsSince(ep: UsageEndpoint, since: number, expected: Record<string, number>): Promise<Record<string, number>> {
  const want = JSON.stringify(Object.entries(expected).sort());
  const sum = (): Record<string, number> => sumCounts(accepted(ep.pushes.slice(since)));
  await until(`pushed counts ${want}`, () => JSON.stringify(Object.entries(sum()).sort()) === want, 10_000, 50).catch(() => undefined);
  return sum();
}

t.test('usage metrics pushed to a scripted LAPI: shape, exact counts, deltas, retry after a failure', async (t) => {
  const fake = await startFakeLapi();
  const endpoint = serveUsageMetrics(fake);
  fake.setDecisions([
    { value: '127.0.0.2', origin: 'crowdsec', scenario: 'crowdsecurity/http-probing' },
    { value: '127.0.0.3', origin: 'CAPI', scenario: 'crowdsecurity/ssh-bf' },
    { value: '127.0.0.4', origin: 'lists', scenario: 'firehol_level1' },
    { value: '10.0.0.0/8', origin: 'lists', scenario: 'firehol_level1' },
    { value: '127.0.0.5', origin: 'cscli', scenario: 'manual', type: 'captcha' },
    { value: '2001:db8::1', origin: 'cscli', scenario: 'manual' },
  ]);
  const upstream = await startHttpUpstream();
  const echo = await startTcpEcho();
  const tcpPort = await freePort();
  const svc = (name: string, mode: string): string =>
    `  - name: ${name}\n    protocol: http\n    domains: [${name}.example.com]\n    target: ${upstream.url}\n    access: { crowdsec: ${mode} }\n`;
  const daemon = await startDaemon({
    config: `services:\n${svc('shop', 'enforce')}${svc('blog', 'observe')}${svc('open', 'off')}  - name: ssh
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${echo.port}
    access: { crowdsec: enforce }
`,
    args: lapiArgs(fake, INTERVAL),
    env: SHORT,
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await echo.close();
    await fake.close();
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
  const get = (service: string, from: string, path = '/'): Promise<number> =>
    httpGet(`${daemon.httpUrl}${path}`, { host: `${service}.example.com`, from }).then((r) => r.status);

  // A push made before any traffic: from here on every count comes from the requests below.
  await endpoint.waitForPush();
  const start = endpoint.pushes.length;

  await t.test('after N allowed and M denied requests the pushed dropped and processed are exact', async (t) => {
    const N = 5;
    for (let i = 0; i < N; i++) t.equal(await get('shop', '127.0.0.1'), 200);
    for (const [from, times] of [
      ['127.0.0.2', 2],
      ['127.0.0.3', 1],
      ['127.0.0.4', 3],
      ['127.0.0.5', 1],
    ] as const) {
      for (let i = 0; i < times; i++) t.equal(await get('shop', from), 403);
    }
    // observe: allowed, processed, never dropped; off: not a CrowdSec service, not counted at all
    t.equal(await get('blog', '127.0.0.2'), 200);
    t.equal(await get('blog', '127.0.0.4'), 200);
    t.equal(await get('open', '127.0.0.2'), 200);
    t.equal(await get('nowhere', '127.0.0.2'), 404);
    // TCP: one allowed, one refused by a CAPI decision
    t.equal((await tcpExchange(tcpPort, { from: '127.0.0.1', send: 'x' })).data, 'echo:x');
    t.equal((await tcpExchange(tcpPort, { from: '127.0.0.3', send: 'x' })).data, '');
    const expected = {
      'dropped request crowdsec/ban': 2,
      'dropped request CAPI/ban': 1,
      'dropped request lists:firehol_level1/ban': 3,
      'dropped request cscli/captcha': 1,
      'dropped connection CAPI/ban': 1,
      'processed request': N + 7 + 2,
      'processed connection': 2,
    };
    t.same(await countsSince(endpoint, start, expected), expected);
  });

  await t.test('every push is valid against the swagger schema and says who sent it', async (t) => {
    t.ok(endpoint.pushes.length >= 2);
    for (const p of endpoint.pushes) t.same(p.errors, [], `push at ${p.request.at} is valid`);
    const p = endpoint.pushes.at(-1) as UsagePush;
    t.equal(p.request.headers['user-agent'], `crowdsec-netbird-proxy-bouncer/v${VERSION}`);
    t.equal(p.request.headers['x-api-key'], fake.apiKey);
    const rc = p.body.remediation_components[0];
    t.match(rc, { type: 'netbird-proxy', version: VERSION, feature_flags: [], os: { name: /\S/, version: /./ } });
    const meta = rc.metrics?.[0].meta;
    const now = Math.floor(Date.now() / 1000);
    t.ok(rc.utc_startup_timestamp <= (meta?.utc_now_timestamp ?? 0) && (meta?.utc_now_timestamp ?? 0) <= now, 'startup <= utc_now <= now');
    t.ok(meta !== undefined && meta.window_size_seconds >= 1 && meta.window_size_seconds <= 3, `window ${meta?.window_size_seconds}s for a 1s interval`);
  });

  await t.test('active_decisions: every held decision, by origin (lists:<name>) and ip_type', async (t) => {
    const p = endpoint.pushes.at(-1) as UsagePush;
    const active = p.items
      .filter((i) => i.name === 'active_decisions')
      .map((i) => `${i.labels?.origin} ${i.labels?.ip_type} ${i.unit} ${i.value}`)
      .sort();
    t.same(active, ['CAPI ipv4 ip 1', 'crowdsec ipv4 ip 1', 'cscli ipv4 ip 1', 'cscli ipv6 ip 1', 'lists:firehol_level1 ipv4 ip 2']);
  });

  await t.test('the next push carries only what happened since the last successful one', async (t) => {
    const since = endpoint.pushes.length;
    t.equal(await get('shop', '127.0.0.1'), 200);
    t.equal(await get('shop', '127.0.0.4'), 403);
    const expected = { 'dropped request lists:firehol_level1/ban': 1, 'processed request': 2 };
    t.same(await countsSince(endpoint, since, expected), expected);
  });

  await t.test('a push the LAPI fails (500) is sent again, with what came since, at the next interval', async (t) => {
    await endpoint.waitForPush();
    const since = endpoint.pushes.length;
    endpoint.failNext(500);
    t.equal(await get('shop', '127.0.0.2'), 403);
    t.equal(await get('shop', '127.0.0.2'), 403);
    const failed = await endpoint.waitForPush(() => true, 5000, since);
    t.equal(failed.status, 500);
    t.same(sumCounts([failed]), { 'dropped request crowdsec/ban': 2, 'processed request': 2 }, 'the failed push had the counts');
    t.equal(await get('shop', '127.0.0.5'), 403);
    const next = await endpoint.waitForPush((p) => p.status === 201, 5000, since);
    const expected = { 'dropped request crowdsec/ban': 2, 'dropped request cscli/captcha': 1, 'processed request': 3 };
    t.same(await countsSince(endpoint, since, expected), expected, 'nothing lost, nothing counted twice');
    t.ok((next.body.remediation_components[0].metrics?.[0].meta.window_size_seconds ?? 0) >= 2, 'the window spans the failed push');
    await daemon.waitFor((l) => l.level === 'warn' && /usage metrics not sent, kept for the next push: the LAPI answered HTTP 500/.test(String(l.msg)), 2000);
    t.notMatch(daemon.output(), fake.apiKey, 'the API key is not in the output');
  });
});

t.test('--workers 2: the primary pushes once per interval what both workers counted', async (t) => {
  const fake = await startFakeLapi();
  const endpoint = serveUsageMetrics(fake);
  fake.setDecisions([
    { value: '127.0.0.2', origin: 'crowdsec', scenario: 'crowdsecurity/http-probing' },
    { value: '127.0.0.4', origin: 'lists', scenario: 'firehol_level1' },
  ]);
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:\n  - name: shop\n    protocol: http\n    domains: [shop.example.com]\n    target: ${upstream.url}\n    access: { crowdsec: enforce }\n`,
    args: [...lapiArgs(fake, INTERVAL), '--workers', '2'],
    env: SHORT,
    waitReady: false,
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await fake.close();
  });
  // Three processes start; on a busy machine that takes longer than the harness's default wait.
  await daemon.waitFor((l) => l.msg === 'netbird-proxy listening', 90_000, 'the group listening');
  await until('every worker synced', async () => (await httpGet(`${daemon.adminUrl}/readyz`)).status === 200, 30_000);
  await endpoint.waitForPush((p) => p.status === 201, 10_000);
  const since = endpoint.pushes.length;
  const get = (from: string, n: number): Promise<number> => httpGet(`${daemon.httpUrl}/u${n}`, { host: 'shop.example.com', from }).then((r) => r.status);
  const servedBy = (): Set<unknown> => new Set(daemon.lines.filter((l) => l.msg === 'access' && l.service === 'shop').map((l) => l.worker));
  // New connections until both workers have served some (the kernel spreads them), at least 10 of each kind.
  let sent = 0;
  while (sent < 10 || servedBy().size < 2) {
    t.equal(await get('127.0.0.1', sent), 200);
    t.equal(await get('127.0.0.2', sent), 403);
    t.equal(await get('127.0.0.4', sent), 403);
    sent++;
    if (sent > 500) break;
  }
  t.same([...servedBy()].sort(), [1, 2], `both workers served (${sent * 3} requests)`);
  const expected = { 'dropped request crowdsec/ban': sent, 'dropped request lists:firehol_level1/ban': sent, 'processed request': 3 * sent };
  t.same(await countsSince(endpoint, since, expected), expected, 'the pushed sums are the requests sent');

  const ok = accepted(endpoint.pushes);
  for (const p of endpoint.pushes) t.same(p.errors, [], `push at ${p.request.at} is valid`);
  const gaps = ok.slice(1).map((p, i) => p.request.at - ok[i].request.at);
  t.ok(
    gaps.every((g) => g >= 500),
    `one pusher for the group: pushes ${gaps.join(', ')} ms apart`,
  );
  const active = (ok.at(-1) as UsagePush).items
    .filter((i) => i.name === 'active_decisions')
    .map((i) => `${i.labels?.origin} ${i.labels?.ip_type} ${i.value}`)
    .sort();
  t.same(active, ['crowdsec ipv4 1', 'lists:firehol_level1 ipv4 1'], "active decisions are one worker's set, not the sum");
});

t.test('--crowdsec-metrics-interval 0 sends nothing', async (t) => {
  const fake = await startFakeLapi();
  const endpoint = serveUsageMetrics(fake);
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:\n  - name: shop\n    protocol: http\n    domains: [shop.example.com]\n    target: ${upstream.url}\n    access: { crowdsec: enforce }\n`,
    args: lapiArgs(fake, '0'),
    env: SHORT,
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await fake.close();
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'shop.example.com' })).status, 200);
  // Ten more pulls at 200ms: two seconds in which a 1s interval would have pushed.
  const pulls = fake.requests.length;
  await until('ten more pulls', () => fake.requests.filter((r) => r.path === '/v1/decisions/stream').length >= pulls + 10, 10_000, 50);
  t.equal(endpoint.pushes.length, 0);
  t.equal(fake.requests.filter((r) => r.method === 'POST').length, 0);
});

t.test('an interval below 10m is refused with one line and exit 2; the test override is an env var', async (t) => {
  for (const value of ['5m', '1s', 'soon']) {
    const r = spawnSync(process.execPath, [BIN, '--config', '/dev/null', '--proxy-env', '/dev/null', '--crowdsec-metrics-interval', value], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    t.equal(r.status, 2, value);
    const lines = r.stderr.trim().split('\n');
    t.equal(lines.length, 1, 'one line');
    t.match(lines[0], /--crowdsec-metrics-interval \/ NB_PROXY_CROWDSEC_METRICS_INTERVAL: /);
    t.match(lines[0], value === 'soon' ? /not a duration/ : /below the 10m minimum/);
  }
  const env = spawnSync(process.execPath, [BIN, '--config', '/dev/null', '--proxy-env', '/dev/null'], {
    encoding: 'utf8',
    env: { PATH: process.env.PATH, NB_PROXY_CROWDSEC_METRICS_INTERVAL: '9m59s' },
  });
  t.equal(env.status, 2);
  t.match(env.stderr, /NB_PROXY_CROWDSEC_METRICS_INTERVAL: "9m59s" is below the 10m minimum/);
});
