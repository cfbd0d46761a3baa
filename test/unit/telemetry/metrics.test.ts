import t from 'tap';
import type { BouncerStats, DecisionBreakdownRow } from '../../../src/crowdsec/core/types';
import { Metrics } from '../../../src/telemetry/metrics';

interface Sample {
  labels: Record<string, string | number>;
  value: number;
}

async function samples(m: Metrics, name: string): Promise<Sample[] | undefined> {
  const all = await m.registry.getMetricsAsJSON();
  const metric = all.find((x) => x.name === name);
  return metric === undefined ? undefined : (metric.values as Sample[]).map((v) => ({ labels: { ...v.labels }, value: v.value }));
}

function valueOf(list: Sample[] | undefined, labels: Record<string, string>): number | undefined {
  return list?.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

class StubStats implements BouncerStats {
  synced = false;
  pollIntervalMs = 10_000;
  pullsOk = 0;
  pullsFailed = 0;
  lastSuccessAt: number | undefined;
  initialSyncMs: number | undefined;
  rows: DecisionBreakdownRow[] = [];
  breakdown(): DecisionBreakdownRow[] {
    return this.rows;
  }
}

t.test('request and connection counters by service, outcome and deny_reason', async (t) => {
  const m = new Metrics(() => undefined);
  m.httpRequest('web', 'allowed', '');
  m.httpRequest('web', 'allowed', '');
  m.httpRequest('web', 'denied', 'crowdsec_ban');
  m.httpRequest('web', 'denied', 'cidr');
  m.httpRequest('api', 'not_found', '');
  m.tcpConnection('ssh', 'denied', 'country');
  m.tcpConnection('ssh', 'allowed', '');
  m.upstreamError('web', 'refused');
  m.upstreamError('web', 'refused');

  const http = await samples(m, 'netbird_proxy_http_requests_total');
  t.equal(valueOf(http, { service: 'web', outcome: 'allowed', deny_reason: '' }), 2);
  t.equal(valueOf(http, { service: 'web', outcome: 'denied', deny_reason: 'crowdsec_ban' }), 1);
  t.equal(valueOf(http, { service: 'web', outcome: 'denied', deny_reason: 'cidr' }), 1);
  t.equal(valueOf(http, { service: 'api', outcome: 'not_found', deny_reason: '' }), 1);
  t.equal(http?.length, 4, 'one series per (service, outcome, deny_reason) seen');

  const tcp = await samples(m, 'netbird_proxy_tcp_connections_total');
  t.equal(valueOf(tcp, { service: 'ssh', outcome: 'denied', deny_reason: 'country' }), 1);
  t.equal(valueOf(tcp, { service: 'ssh', outcome: 'allowed', deny_reason: '' }), 1);
  t.equal(tcp?.length, 2, 'HTTP requests are not counted as connections');

  t.equal(valueOf(await samples(m, 'netbird_proxy_upstream_errors_total'), { service: 'web', kind: 'refused' }), 2);
});

t.test('CrowdSec gauges without a bouncer: no decisions, zero pulls, no pull age, no sync time', async (t) => {
  const m = new Metrics(() => undefined);
  t.same(await samples(m, 'netbird_proxy_crowdsec_decisions'), []);
  const pulls = await samples(m, 'netbird_proxy_crowdsec_pulls_total');
  t.equal(valueOf(pulls, { result: 'success' }), 0);
  t.equal(valueOf(pulls, { result: 'failure' }), 0);
  t.same(await samples(m, 'netbird_proxy_crowdsec_seconds_since_last_pull'), []);
  t.same(await samples(m, 'netbird_proxy_crowdsec_initial_sync_seconds'), []);
  const text = await m.registry.metrics();
  t.notMatch(text, /^netbird_proxy_crowdsec_seconds_since_last_pull /m, 'no sample line in the exposition text');
  t.notMatch(text, /^netbird_proxy_crowdsec_initial_sync_seconds /m);
});

t.test('CrowdSec gauges follow the bouncer stats at each scrape', async (t) => {
  const stats = new StubStats();
  let now = 1_000_000;
  const m = new Metrics(
    () => stats,
    () => now,
  );

  stats.pullsFailed = 3;
  t.same(await samples(m, 'netbird_proxy_crowdsec_seconds_since_last_pull'), [], 'absent before the first successful pull');
  t.same(await samples(m, 'netbird_proxy_crowdsec_initial_sync_seconds'), [], 'absent before the initial sync');
  t.equal(valueOf(await samples(m, 'netbird_proxy_crowdsec_pulls_total'), { result: 'failure' }), 3);

  stats.pullsOk = 2;
  stats.lastSuccessAt = now - 4500;
  stats.initialSyncMs = 1250;
  stats.rows = [
    { type: 'ban', origin: 'CAPI', family: 4, count: 10 },
    { type: 'ban', origin: 'crowdsec', family: 6, count: 2 },
    { type: 'captcha', origin: 'cscli', family: 4, count: 1 },
  ];
  now += 500;
  const pulls = await samples(m, 'netbird_proxy_crowdsec_pulls_total');
  t.equal(valueOf(pulls, { result: 'success' }), 2);
  t.equal(valueOf(pulls, { result: 'failure' }), 3, 'a scrape reports the totals, not increments');
  t.same(
    (await samples(m, 'netbird_proxy_crowdsec_seconds_since_last_pull'))?.map((s) => s.value),
    [5],
  );
  t.same(
    (await samples(m, 'netbird_proxy_crowdsec_initial_sync_seconds'))?.map((s) => s.value),
    [1.25],
  );
  const decisions = await samples(m, 'netbird_proxy_crowdsec_decisions');
  t.equal(valueOf(decisions, { type: 'ban', origin: 'CAPI', family: 'ipv4' }), 10);
  t.equal(valueOf(decisions, { type: 'ban', origin: 'crowdsec', family: 'ipv6' }), 2);
  t.equal(valueOf(decisions, { type: 'captcha', origin: 'cscli', family: 'ipv4' }), 1);

  stats.rows = [{ type: 'ban', origin: 'CAPI', family: 4, count: 7 }];
  const after = await samples(m, 'netbird_proxy_crowdsec_decisions');
  t.equal(after?.length, 1, 'rows gone from the cache are dropped, not left at their old count');
  t.equal(valueOf(after, { type: 'ban', origin: 'CAPI', family: 'ipv4' }), 7);

  const text = await m.registry.metrics();
  t.match(text, /netbird_proxy_crowdsec_decisions\{type="ban",origin="CAPI",family="ipv4"\} 7/, 'exposition text');
});
