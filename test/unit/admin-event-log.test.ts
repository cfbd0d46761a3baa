// The event log ring: bounded, newest first, sequence numbers survive wrap-around, counters.
import t from 'tap';
import { formatAccessLine, type AccessEntry } from '../../src/access-log';
import { EventLog, outcomeOf } from '../../src/admin/event-log';
import { parseEventFilter, matches } from '../../src/admin/event-filter';

function entry(i: number, over: Partial<AccessEntry> = {}): AccessEntry {
  return { service: 'svc', protocol: 'http', client_ip: `10.0.0.${i % 250}`, path: `/${i}`, bytes_in: 0, bytes_out: 0, duration_ms: 1, deny_reason: '', metadata: {}, ...over };
}

function add(log: EventLog, e: AccessEntry, time: number): void {
  log.append(e, time, formatAccessLine(e, time));
}

t.test('ring keeps the last N, newest first', async (t) => {
  const log = new EventLog(3);
  t.same([...log.newestFirst()], []);
  for (let i = 1; i <= 7; i++) add(log, entry(i), 1000 + i);
  t.equal(log.size, 3);
  t.equal(log.newestSeq, 7);
  t.equal(log.oldestSeq, 5);
  t.same([...log.newestFirst()].map((e) => e.entry.path), ['/7', '/6', '/5']);
  t.same([...log.newestFirst(5)].map((e) => e.seq), [7, 6], 'after a sequence number');
  t.equal(log.get(4), undefined, 'overwritten');
  t.equal(log.get(6)?.time, 1006);
  t.throws(() => new EventLog(0));
});

t.test('outcomes and counters', async (t) => {
  const log = new EventLog(10);
  add(log, entry(1), 1);
  add(log, entry(2, { deny_reason: 'crowdsec_ban', metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'enforce' } }), 2);
  add(log, entry(3, { metadata: { crowdsec_verdict: 'captcha', crowdsec_mode: 'observe' } }), 3);
  add(log, entry(4, { deny_reason: 'ip_restricted' }), 4);
  add(log, entry(5, { service: '' }), 5);
  t.same([...log.newestFirst()].map((e) => outcomeOf(e.entry)), ['not_found', 'denied', 'observed', 'denied', 'allowed']);
  t.same(log.countsFor('svc'), { allowed: 1, observed: 1, denied: { crowdsec_ban: 1, ip_restricted: 1 } });
  t.same(log.countsFor('other'), { allowed: 0, observed: 0, denied: {} });

  const f = (q: string) => parseEventFilter(new URLSearchParams(q), 100, 10_000);
  const pick = (q: string) => [...log.newestFirst()].filter((e) => matches(f(q), e)).map((e) => e.seq);
  t.same(pick('outcome=observed'), [3]);
  t.same(pick('reason=crowdsec_captcha'), [3], 'reason also finds the observed verdict');
  t.same(pick('reason=crowdsec_captcha&outcome=denied'), []);
  t.same(pick('ip=10.0.0.0/31'), [1]);
  t.same(pick('since=3&until=4'.replace('3', '1970-01-01T00:00:00.003Z').replace('until=4', 'until=1970-01-01T00:00:00.004Z')), [4, 3]);
  t.equal(f('limit=1000').limit, 100, 'limit is capped by the ring size');
  t.throws(() => f('outcome=maybe'), /^outcome: "maybe" is not one of/);
  t.throws(() => f('since=yesterday'), /^since: "yesterday" is not a time/);
  t.throws(() => f('limit=0'), /^limit: "0" is not a positive integer/);
});

t.test('append is O(1): a million appends into a small ring stay fast and bounded', async (t) => {
  const log = new EventLog(1000);
  const e = entry(1);
  const line = formatAccessLine(e, 0);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) log.append(e, i, line);
  const nsPerAppend = Number(process.hrtime.bigint() - start) / 1_000_000;
  t.equal(log.size, 1000);
  t.ok(nsPerAppend < 2000, `${nsPerAppend.toFixed(0)} ns per append`);
});
