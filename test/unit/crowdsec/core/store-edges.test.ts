// The decision store at its edges: expiry at the exact millisecond in buckets with several types,
// the value a Hit reports for mapped addresses and IPv6 /32 ranges, 0.0.0.0, deletions inside an
// overflow chain, has() on ranges, counts after a sweep with countries, and memory under churn.
import t from 'tap';
import type { Interner } from '../../../../src/crowdsec/core/interner';
import { DecisionStore } from '../../../../src/crowdsec/core/store';
import type { LapiDecision, StreamResponse } from '../../../../src/crowdsec/core/types';

const NOW = 1_700_000_000_000;

function d(value: string, over: Partial<LapiDecision> = {}): LapiDecision {
  return { scope: value.includes('/') ? 'Range' : 'Ip', value, type: 'ban', duration: '1h', origin: 'crowdsec', scenario: 's', ...over };
}

function store(decisions: LapiDecision[], opts: ConstructorParameters<typeof DecisionStore>[0] = {}): DecisionStore {
  const s = new DecisionStore(opts);
  s.apply({ new: decisions, deleted: [] }, NOW);
  return s;
}

t.test('an entry is expired at its expiry millisecond, in the bucket and in the overflow chain', async (t) => {
  const s = store([d('1.2.3.4', { duration: '1s' }), d('1.2.3.4', { type: 'captcha', duration: '2s' })]);
  t.equal(s.lookup('1.2.3.4', NOW + 999)?.type, 'ban');
  t.equal(s.lookup('1.2.3.4', NOW + 1000)?.type, 'captcha', 'ban expired at NOW + 1s exactly');
  t.equal(s.lookup('1.2.3.4', NOW + 2000), undefined, 'captcha expired too');
  const o = store([d('5.6.7.8', { type: 'captcha', duration: '2s' }), d('5.6.7.8', { duration: '1s' })]);
  t.equal(o.lookup('5.6.7.8', NOW + 1000)?.type, 'captcha', 'the overflow ban expired at its millisecond');
  t.same(o.stats(NOW + 1000).byType, { captcha: 1 }, 'stats leave it out at that millisecond');
  t.equal(o.sweep(NOW + 1000), 1, 'sweep removes it at that millisecond');
  t.equal(o.size, 1);
});

t.test('the value of a hit', async (t) => {
  const s = store([d('1.2.3.4'), d('2001:db8::/32'), d('0.0.0.0')]);
  t.equal(s.lookup('::ffff:1.2.3.4', NOW)?.value, '1.2.3.4', 'a mapped client: the stored IPv4');
  t.equal(s.lookup('2001:db8::1', NOW)?.value, '2001:db8::/32', 'an IPv6 /32 range, not the address');
  t.equal(s.lookup('1.2.3.4', NOW)?.value, '1.2.3.4');
  t.equal(s.lookup('0.0.0.0', NOW)?.value, '0.0.0.0', '0.0.0.0 is an IPv4 address');
  // Keys of 3 and 4 words: bits 64-95 (the third word) are part of the value.
  const w = store([d('2001:db8:0:0:1:2:3:4'), d('2001:db8:0:1:5:6::/80'), d('2001:db8:0:2:7:8::/96')]);
  t.equal(w.lookup('2001:db8::1:2:3:4', NOW)?.value, '2001:db8::1:2:3:4', 'an IPv6 address');
  t.equal(w.lookup('2001:db8:0:1:5:6:7:8', NOW)?.value, '2001:db8:0:1:5::/80', 'an IPv6 /80 range');
  t.equal(w.lookup('2001:db8:0:2:7:8:9:a', NOW)?.value, '2001:db8:0:2:7:8::/96', 'an IPv6 /96 range');
});

t.test('deleted entries give back their type, origin and scenario strings', async (t) => {
  const s = store([d('1.2.3.4', { type: 'mfa', origin: 'o1', scenario: 's1' }), d('1.2.3.5', { type: 'mfa', origin: 'o2', scenario: 's1' })]);
  // White-box: the interners are private; what they hold is memory for as long as the process runs.
  const held = (field: 'types' | 'origins' | 'scenarios', str: string): boolean => (Reflect.get(s, field) as Interner).idOf(str) !== undefined;
  s.apply({ new: [], deleted: [d('1.2.3.4', { type: 'mfa' })] }, NOW);
  t.notOk(held('origins', 'o1'), 'the last reference to an origin');
  t.ok(held('origins', 'o2') && held('scenarios', 's1') && held('types', 'mfa'), 'strings still referenced stay');
  s.apply({ new: [], deleted: [d('1.2.3.5', { type: 'mfa' })] }, NOW);
  t.notOk(held('origins', 'o2') || held('scenarios', 's1') || held('types', 'mfa'), 'nothing left once the store is empty');
});

t.test('deleting one type inside an overflow chain keeps the others', async (t) => {
  const s = store([d('1.2.3.4'), d('1.2.3.4', { type: 'captcha' }), d('1.2.3.4', { type: 'throttle' }), d('1.2.3.4', { type: 'mfa' })]);
  const del = (type: string): number => s.apply({ new: [], deleted: [d('1.2.3.4', { type })] }, NOW).deleted;
  t.equal(del('captcha'), 1);
  t.ok(s.has('1.2.3.4', 'throttle') && s.has('1.2.3.4', 'mfa') && s.has('1.2.3.4', 'ban'), 'the records around it stay');
  t.notOk(s.has('1.2.3.4', 'captcha'));
  t.equal(del('captcha'), 0, 'not held any more: not counted');
  t.equal(s.apply({ new: [], deleted: [d('9.9.9.0/23')] }, NOW).deleted, 0, 'a length without entries: not counted');
  t.equal(del('ban'), 1);
  t.equal(s.lookup('1.2.3.4', NOW)?.type, 'throttle');
  t.equal(s.size, 2);
});

t.test('has(): ranges, absent values of a present length, the type in the bucket', async (t) => {
  const s = store([d('1.2.3.4'), d('10.0.0.0/8', { type: 'captcha' })]);
  t.ok(s.has('1.2.3.4', 'ban'));
  t.ok(s.has('10.0.0.0/8', 'captcha'));
  t.ok(s.has('10.1.2.3/8', 'captcha'), 'host bits masked');
  t.notOk(s.has('10.0.0.0/8', 'ban'));
  t.notOk(s.has('1.2.3.5', 'ban'), 'same length, another value');
  t.notOk(s.has('1.2.3.5', 'captcha'));
});

t.test('counts after a sweep that removes country and address entries', async (t) => {
  const s = store(
    [d('1.2.3.4', { duration: '1s' }), d('1.2.3.5'), { scope: 'Country', value: 'FR', type: 'ban', duration: '1s', origin: 'cscli', scenario: 'geo' }],
    { countryScope: true },
  );
  t.equal(s.size, 3);
  t.equal(s.sweep(NOW + 1000), 2);
  t.equal(s.size, 1);
  t.equal(s.stats().total, 1);
});

t.test('custom types on countries are kept with the default fallback', async (t) => {
  const s = store([{ scope: 'Country', value: 'FR', type: 'mfa', duration: '1h', origin: 'cscli', scenario: 'geo' }], { countryScope: true });
  t.equal(s.lookupCountry('FR', NOW)?.type, 'mfa');
});

t.test('a null body, and junk elements, are skipped without harm', async (t) => {
  const s = new DecisionStore();
  t.same(s.apply(null as unknown as StreamResponse, NOW), { added: 0, deleted: 0, skipped: 0, expired: 0 });
  t.same(s.apply({ new: [5, 'x'] as unknown as LapiDecision[], deleted: [true] as unknown as LapiDecision[] }, NOW), {
    added: 0,
    deleted: 0,
    skipped: 3,
    expired: 0,
  });
});

t.test('overflow records are recycled: churn does not grow memory', async (t) => {
  const s = store([d('1.2.3.4')]);
  s.apply({ new: [d('1.2.3.4', { type: 'captcha' })], deleted: [] }, NOW);
  const bytes = s.bytes;
  for (let i = 0; i < 300; i++) {
    s.apply({ new: [], deleted: [d('1.2.3.4', { type: 'captcha' })] }, NOW);
    s.apply({ new: [d('1.2.3.4', { type: `t${i}` })], deleted: [] }, NOW);
    s.apply({ new: [], deleted: [d('1.2.3.4', { type: `t${i}` })] }, NOW);
    s.apply({ new: [d('1.2.3.4', { type: 'captcha' })], deleted: [] }, NOW);
  }
  t.equal(s.bytes, bytes);
  t.equal(s.size, 2);
});

t.test('breakdown order: type, then origin, then family, whatever the insertion order', async (t) => {
  const s = store([
    d('2001:db8::9', { type: 'captcha', origin: 'z' }),
    d('2001:db8::1', { origin: 'b' }),
    d('1.1.1.1', { type: 'captcha', origin: 'z' }),
    d('1.1.1.2', { origin: 'b' }),
    d('1.1.1.3', { origin: 'a' }),
    d('2001:db8::3', { origin: 'a' }),
  ]);
  t.same(s.breakdown(), [
    { type: 'ban', origin: 'a', family: 4, count: 1 },
    { type: 'ban', origin: 'a', family: 6, count: 1 },
    { type: 'ban', origin: 'b', family: 4, count: 1 },
    { type: 'ban', origin: 'b', family: 6, count: 1 },
    { type: 'captcha', origin: 'z', family: 4, count: 1 },
    { type: 'captcha', origin: 'z', family: 6, count: 1 },
  ]);
  t.same(
    store([
      d('2001:db8::1', { origin: 'lists', scenario: 'b' }),
      d('1.1.1.1', { origin: 'lists', scenario: 'b' }),
      d('1.1.1.2', { origin: 'lists', scenario: 'a' }),
      d('1.1.1.3', { origin: 'cscli' }),
      d('1.1.1.4', { origin: 'lists', scenario: '' }),
    ]).activeByOrigin(NOW),
    [
      { origin: 'cscli', ipType: 'ipv4', count: 1 },
      { origin: 'lists', ipType: 'ipv4', count: 1 },
      { origin: 'lists:a', ipType: 'ipv4', count: 1 },
      { origin: 'lists:b', ipType: 'ipv4', count: 1 },
      { origin: 'lists:b', ipType: 'ipv6', count: 1 },
    ],
    'active decisions: by label then family; a list without a scenario is "lists"',
  );
});

t.test('more edges: overflow memory counted, country deletions without the scope, export at expiry, has() of junk', async (t) => {
  const s = store([d('1.2.3.4'), d('1.2.3.5', { type: 'captcha' })]);
  const before = s.bytes;
  s.apply({ new: [d('1.2.3.4', { type: 'captcha' })], deleted: [] }, NOW);
  t.equal(s.bytes, before + 64 * 32, 'the first overflow buffer: 64 records of 32 bytes');
  t.equal(s.apply({ new: [], deleted: [d('1.2.3.4', { type: 'throttle' })] }, NOW).deleted, 0, 'a type never seen');
  t.equal(s.apply({ new: [], deleted: [d('1.2.3.5', { type: 'ban' })] }, NOW).deleted, 0, 'a type held by another value only');
  t.notOk(s.has('bogus', 'ban'));
  const country = { scope: 'Country', value: 'FR', type: 'ban', duration: '1h', origin: 'cscli', scenario: 'geo' };
  t.same(s.apply({ new: [], deleted: [country] }, NOW), { added: 0, deleted: 0, skipped: 1, expired: 0 }, 'Country scope off: skipped');
  const e = store([d('9.9.9.9', { duration: '1s' }), d('9.9.9.9', { type: 'captcha', duration: '1s' })]);
  t.same([...e.exportDecisions(NOW + 1000)], [], 'nothing exported at its expiry millisecond');
});
