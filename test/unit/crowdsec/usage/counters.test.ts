import t from 'tap';
import { countAdmission, mergeSnapshots, originLabel, UsageCounters, type UsageSnapshot } from '../../../../src/crowdsec/usage/counters';
import { buildPayload } from '../../../../src/crowdsec/usage/payload';
import { parseOsRelease } from '../../../../src/crowdsec/usage/os-info';
import { DecisionStore } from '../../../../src/crowdsec/core/store';
import type { ActiveDecision } from '../../../../src/crowdsec/core/types';
import { validateUsageMetrics } from '../../../harness/usage-metrics-endpoint';

const dec = (origin: string, type = 'ban', scenario = 'x'): ActiveDecision => ({ origin, type, scenario, value: '192.0.2.1', expiresAt: Infinity });
const sorted = (s: UsageSnapshot): UsageSnapshot => ({ ...s, dropped: [...s.dropped].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b))) });

t.test('take() returns the counts since the last take() and resets them', async (t) => {
  const c = new UsageCounters();
  countAdmission(c, 'request', { allowed: true });
  countAdmission(c, 'request', { allowed: false, decision: dec('crowdsec') });
  countAdmission(c, 'request', { allowed: false, decision: dec('crowdsec') });
  countAdmission(c, 'request', { allowed: false, decision: dec('lists', 'ban', 'firehol_level1') });
  countAdmission(c, 'request', { allowed: false, decision: undefined }); // CIDR or country denial: processed only
  countAdmission(c, 'request', { allowed: true, decision: dec('CAPI') }); // observe: never dropped
  countAdmission(c, 'connection', { allowed: false, decision: dec('cscli', 'captcha') });
  t.same(sorted(c.take()), {
    processed: { request: 6, connection: 1 },
    dropped: [
      { unit: 'connection', origin: 'cscli', remediation: 'captcha', value: 1 },
      { unit: 'request', origin: 'crowdsec', remediation: 'ban', value: 2 },
      { unit: 'request', origin: 'lists:firehol_level1', remediation: 'ban', value: 1 },
    ],
  });
  t.same(c.take(), { processed: { request: 0, connection: 0 }, dropped: [] }, 'nothing twice');
  countAdmission(c, 'request', { allowed: false, decision: dec('crowdsec') });
  t.same(c.take().dropped, [{ unit: 'request', origin: 'crowdsec', remediation: 'ban', value: 1 }], 'a pair seen before counts again from 0');
});

t.test('counting allocates nothing once a pair has been seen', async (t) => {
  const c = new UsageCounters();
  const d = dec('crowdsec');
  const l = dec('lists', 'ban', 'firehol_level1');
  countAdmission(c, 'request', { allowed: false, decision: d });
  countAdmission(c, 'request', { allowed: false, decision: l });
  const verdictD = { allowed: false, decision: d };
  const verdictL = { allowed: false, decision: l };
  const run = (n: number): void => {
    for (let i = 0; i < n; i++) {
      countAdmission(c, 'request', verdictD);
      countAdmission(c, 'request', verdictL);
    }
  };
  run(100_000); // warm up (JIT)
  global.gc?.();
  const before = process.memoryUsage().heapUsed;
  run(1_000_000);
  const grown = process.memoryUsage().heapUsed - before;
  t.ok(grown < 1_000_000, `heap grew ${grown} bytes over 2M counts`);
  t.equal(
    c.take().dropped.reduce((n, x) => n + x.value, 0),
    2_200_002,
  );
});

t.test('mergeSnapshots adds processed and dropped rows with the same labels (snapshots of several processes)', async (t) => {
  const a: UsageSnapshot = { processed: { request: 3, connection: 1 }, dropped: [{ unit: 'request', origin: 'CAPI', remediation: 'ban', value: 2 }] };
  const b: UsageSnapshot = {
    processed: { request: 4, connection: 0 },
    dropped: [
      { unit: 'request', origin: 'CAPI', remediation: 'ban', value: 5 },
      { unit: 'connection', origin: 'CAPI', remediation: 'ban', value: 1 },
    ],
  };
  t.same(mergeSnapshots(a, b), {
    processed: { request: 7, connection: 1 },
    dropped: [
      { unit: 'request', origin: 'CAPI', remediation: 'ban', value: 7 },
      { unit: 'connection', origin: 'CAPI', remediation: 'ban', value: 1 },
    ],
  });
  t.equal(a.dropped[0].value, 2, 'inputs untouched');
  t.equal(originLabel('lists', 'tor-exit-nodes'), 'lists:tor-exit-nodes');
  t.equal(originLabel('CAPI', 'crowdsecurity/ssh-bf'), 'CAPI');
});

t.test('active decisions by origin label and family, expired ones left out', async (t) => {
  const store = new DecisionStore();
  const now = Date.now();
  store.apply(
    {
      deleted: null,
      new: [
        { value: '192.0.2.1', scope: 'Ip', type: 'ban', origin: 'crowdsec', scenario: 'a', duration: '1h' },
        { value: '192.0.2.1', scope: 'Ip', type: 'captcha', origin: 'cscli', scenario: 'b', duration: '1h' },
        { value: '198.51.100.0/24', scope: 'Range', type: 'ban', origin: 'lists', scenario: 'firehol_level1', duration: '1h' },
        { value: '2001:db8::1', scope: 'Ip', type: 'ban', origin: 'lists', scenario: 'firehol_level1', duration: '1h' },
        { value: '203.0.113.9', scope: 'Ip', type: 'ban', origin: 'CAPI', scenario: 'c', duration: '1s' },
      ],
    },
    now,
  );
  t.same(store.activeByOrigin(now + 5000), [
    { origin: 'crowdsec', ipType: 'ipv4', count: 1 },
    { origin: 'cscli', ipType: 'ipv4', count: 1 },
    { origin: 'lists:firehol_level1', ipType: 'ipv4', count: 1 },
    { origin: 'lists:firehol_level1', ipType: 'ipv6', count: 1 },
  ]);
});

t.test('the payload passes the swagger checks; empty counts give no dropped/processed items', async (t) => {
  const input = {
    version: '0.1.0',
    os: { name: 'debian', version: '12' },
    startupTs: 1_700_000_000,
    nowTs: 1_700_001_800,
    windowSeconds: 1800,
    counts: { processed: { request: 10, connection: 0 }, dropped: [{ unit: 'request' as const, origin: 'x'.repeat(300), remediation: 'ban', value: 4 }] },
    active: [{ origin: 'CAPI', ipType: 'ipv4' as const, count: 3 }],
  };
  const p = buildPayload(input);
  t.same(validateUsageMetrics(JSON.parse(JSON.stringify(p))), []);
  t.same(
    p.remediation_components[0].metrics[0].items.map((i) => `${i.name}/${i.unit}/${i.value}`),
    ['dropped/request/4', 'processed/request/10', 'active_decisions/ip/3'],
  );
  t.equal(p.remediation_components[0].metrics[0].items[0].labels?.origin.length, 255, 'labels clipped to the schema maxLength');
  const empty = buildPayload({ ...input, counts: { processed: { request: 0, connection: 0 }, dropped: [] }, active: [] });
  t.same(empty.remediation_components[0].metrics[0].items, []);
  t.same(validateUsageMetrics(JSON.parse(JSON.stringify(empty))), []);
  t.not(validateUsageMetrics({ remediation_components: [{ version: 1 }] }).length, 0, 'the checks catch a bad payload');
});

t.test('os-release', async (t) => {
  t.same(parseOsRelease('PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\nVERSION_ID="12"\n'), { name: 'debian', version: '12' });
  t.same(parseOsRelease("ID='alpine'\nVERSION_ID=3.20.3\n"), { name: 'alpine', version: '3.20.3' });
  t.equal(parseOsRelease('NAME=x\n'), undefined);
});
