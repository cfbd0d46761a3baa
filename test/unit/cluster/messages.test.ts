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

t.test('the relay replays the current set to a late worker, which ends with what the others hold', async (t) => {
  const live = new DecisionMirror('ban');
  const deliver =
    (m: DecisionMirror) =>
    (msg: ToWorker): void => {
      if (msg.t === 'pull-begin') m.begin(msg.full);
      else if (msg.t === 'batch') m.apply(msg.batch);
      else if (msg.t === 'pull-end') m.end(msg.ok, NOW);
    };
  let resyncs = 0;
  const relay = new DecisionRelay(deliver(live), () => resyncs++);
  relay.begin(true);
  relay.applyNew(sample, NOW);
  relay.end(true);
  relay.begin(false);
  relay.applyDeleted([sample[3]], NOW);
  relay.applyNew([{ ...sample[0], value: '203.0.113.5' }], NOW);
  relay.end(true);
  // A pull in progress when the late worker arrives: it gets that pull's batches so far, then the rest live.
  relay.begin(false);
  relay.applyNew([{ ...sample[0], value: '203.0.113.6' }], NOW);
  const late = new DecisionMirror('ban');
  relay.replay(deliver(late));
  t.equal(late.synced, true, 'synced from the replay alone');
  deliver(late)({ t: 'pull-end', ok: true });
  relay.end(true);
  for (const ip of ['192.0.2.1', '192.0.2.9', '203.0.113.5', '203.0.113.6', '198.51.100.1', '2001:db8::1']) {
    t.same(late.lookup(ip, NOW), live.lookup(ip, NOW), ip);
  }
  t.equal(resyncs, 0);
});

t.test('a relay without a completed full pull replays nothing: the late worker stays fail-closed', async (t) => {
  const relay = new DecisionRelay(
    () => undefined,
    () => undefined,
  );
  const sent: ToWorker[] = [];
  relay.replay((m) => sent.push(m));
  t.same(sent, []);
});
