// The decision batches the primary relays to its workers: encoded once, decoded by each worker
// into what the store applies, with the same outcome as the batch the LAPI sent.
import t from 'tap';
import { DecisionStore } from '../../../src/crowdsec/core/store';
import type { LapiDecision } from '../../../src/crowdsec/core/types';
import { decodeBatch, encodeBatch } from '../../../src/cluster/messages';
import { DecisionMirror } from '../../../src/cluster/mirror';
import { DecisionRelay } from '../../../src/cluster/relay';
import type { ToWorker } from '../../../src/cluster/messages';

const NOW = 1_700_000_000_000;

const sample: LapiDecision[] = [
  { id: 1, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '192.0.2.1', duration: '3h59m58.5s', scenario: 'crowdsecurity/ssh-bf', uuid: 'x' },
  { id: 2, origin: 'CAPI', type: 'captcha', scope: 'Range', value: '198.51.100.0/24', duration: '1h', scenario: 'community blocklist' },
  { id: 3, origin: 'cscli', type: 'ban', scope: 'Ip', value: '2001:db8::1', duration: '5m', scenario: 'manual ban from cscli' },
  { id: 4, origin: 'crowdsec', type: 'ban', scope: 'Ip', value: '192.0.2.9', duration: '3h', scenario: 'crowdsecurity/ssh-bf' },
];

t.test('a new batch decodes to the decisions the store needs, strings sent once', async (t) => {
  const b = encodeBatch('new', sample, NOW);
  t.equal(b.count, 4);
  t.equal(b.dict.filter((s) => s === 'crowdsec').length, 1, 'repeated strings go to the dictionary once');
  t.same(
    decodeBatch(b),
    sample.map(({ origin, type, scope, value, duration, scenario }) => ({ scope, type, value, origin, scenario, duration })),
  );
  const many = Array.from({ length: 1000 }, (_, i) => ({ ...sample[i % 4], id: i, value: (sample[i % 4].value ?? '').replace(/\d+$/, String(i % 250)) }));
  t.ok(JSON.stringify(encodeBatch('new', many, NOW)).length < JSON.stringify(many).length / 3, 'a third of the JSON the LAPI sent, or less');
});

t.test('a deleted batch keeps what identifies an entry', async (t) => {
  t.same(decodeBatch(encodeBatch('del', sample.slice(0, 2), NOW)), [
    { scope: 'Ip', type: 'ban', value: '192.0.2.1' },
    { scope: 'Range', type: 'captcha', value: '198.51.100.0/24' },
  ]);
});

t.test('junk the store would skip is dropped, and a value with a separator cannot shift fields', async (t) => {
  const junk = [null, 7, { scope: 'Ip', type: 'ban' }, { scope: 'Ip', type: 'ban', value: '1.2.3.4 5', duration: '1h' }] as unknown as LapiDecision[];
  const b = encodeBatch('new', [...junk, sample[0]], NOW);
  t.equal(b.count, 1);
  t.equal(decodeBatch(b)[0].value, '192.0.2.1');
  t.same(decodeBatch(encodeBatch('new', [], NOW)), []);
});

t.test('applied at the time the primary received them, the entries expire as they would have', async (t) => {
  const direct = new DecisionStore();
  direct.applyNew(sample, NOW);
  const relayed = new DecisionStore();
  relayed.applyNew(decodeBatch(encodeBatch('new', sample, NOW)), NOW);
  for (const ip of ['192.0.2.1', '198.51.100.7', '2001:db8::1', '192.0.2.200']) {
    t.same(relayed.lookup(ip, NOW + 1000), direct.lookup(ip, NOW + 1000), ip);
  }
  t.equal(relayed.lookup('2001:db8::1', NOW + 6 * 60_000), undefined, 'the 5m ban is over after 6 minutes');
});

t.test('a worker is not synced until a full pull ended well; a failed full pull is discarded', async (t) => {
  const m = new DecisionMirror('ban');
  m.begin(true);
  m.apply(encodeBatch('new', sample, NOW));
  t.equal(m.synced, false, 'a full pull in progress does not count');
  t.equal(m.lookup('192.0.2.1', NOW), undefined, 'nor is it visible');
  m.end(false, NOW);
  t.equal(m.synced, false);
  m.begin(true);
  m.apply(encodeBatch('new', sample, NOW));
  t.same(m.end(true, NOW), { full: true }, 'a full pull re-judges everything');
  t.equal(m.synced, true);
  t.equal(m.lookup('192.0.2.1', NOW)?.type, 'ban');
  m.begin(false);
  m.apply(encodeBatch('del', [sample[0]], NOW));
  m.apply(encodeBatch('new', [{ ...sample[0], value: '203.0.113.5' }], NOW));
  t.same(m.end(true, NOW), { full: false, ips: ['203.0.113.5'], wide: false }, 'a delta names what it added');
  t.equal(m.lookup('192.0.2.1', NOW), undefined, 'deleted');
  t.equal(m.lookup('203.0.113.5', NOW)?.type, 'ban', 'added');
});

t.test('the relay passes each pull on as it comes, says whether it was full, and keeps nothing', async (t) => {
  const live = new DecisionMirror('ban');
  const sent: ToWorker[] = [];
  const relay = new DecisionRelay((msg) => {
    sent.push(msg);
    if (msg.t === 'pull-begin') live.begin(msg.full);
    else if (msg.t === 'batch') live.apply(msg.batch);
    else if (msg.t === 'pull-end') live.end(msg.ok, NOW);
  });
  relay.begin(true);
  t.equal(relay.pulling, true);
  relay.applyNew(sample, NOW);
  relay.end(true);
  t.equal(relay.pulling, false);
  t.equal(live.synced, true);
  t.same(
    sent.map((m) => m.t),
    ['pull-begin', 'batch', 'pull-end'],
  );
  t.match(sent.at(-1), { t: 'pull-end', ok: true, full: true });
  t.equal(relay.backpressure(), undefined, 'no channel behind');
});

t.test("a new worker built from another's exported set holds what it holds: ranges, IPv6, two types on one value, countries", async (t) => {
  const donor = new DecisionMirror('ban', true);
  donor.begin(true);
  const all: LapiDecision[] = [
    ...sample,
    { ...sample[0], value: '192.0.2.1', type: 'captcha', duration: '1h' },
    { scope: 'Country', value: 'FR', type: 'ban', origin: 'cscli', scenario: 'manual', duration: '2h' },
    { scope: 'Range', value: '2001:db8:1::/48', type: 'ban', origin: 'CAPI', scenario: 'x', duration: '30m' },
  ];
  donor.apply(encodeBatch('new', all, NOW));
  donor.end(true, NOW);
  const later = NOW + 60_000;
  const exported = [...donor.store.exportDecisions(later)];
  t.equal(exported.length, donor.size, 'every entry once');
  const copy = new DecisionMirror('ban', true);
  copy.begin(true);
  copy.apply(encodeBatch('new', exported, later));
  copy.end(true, later);
  t.equal(copy.synced, true);
  t.equal(copy.size, donor.size);
  for (const ip of ['192.0.2.1', '192.0.2.9', '198.51.100.1', '2001:db8::1', '2001:db8:1::5', '203.0.113.9']) {
    t.same(copy.lookup(ip, later), donor.lookup(ip, later), ip);
  }
  t.same(copy.lookupCountry('FR', later), donor.lookupCountry('FR', later), 'country');
  t.same(copy.store.stats(later), donor.store.stats(later), 'same counts by type, origin, family');
  const exp = (m: DecisionMirror, ip: string): number => m.lookup(ip, later)?.expiresAt ?? 0;
  t.ok(Math.abs(exp(copy, '192.0.2.1') - exp(donor, '192.0.2.1')) < 1, 'the same expiry');
});
