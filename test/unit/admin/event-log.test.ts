// The event log ring: bounded by count and by bytes, newest first, sequence numbers survive
// wrap-around, filters on the typed columns, counters.
import t from 'tap';
import { formatAccessLine, type AccessEntry } from '../../../src/telemetry/access-log';
import { EventLog, BYTES_PER_ENTRY } from '../../../src/admin/event-log';
import { eventJson, parseEventFilter } from '../../../src/admin/event-filter';

function entry(i: number, over: Partial<AccessEntry> = {}): AccessEntry {
  return {
    service: 'svc',
    protocol: 'http',
    client_ip: `10.0.0.${i % 250}`,
    path: `/${i}`,
    bytes_in: 0,
    bytes_out: 0,
    duration_ms: 1,
    deny_reason: '',
    metadata: {},
    ...over,
  };
}

function add(log: EventLog, e: AccessEntry, time: number): void {
  log.append(e, time, formatAccessLine(e, time));
}

const paths = (log: EventLog, seqs: Iterable<number>): string[] => [...seqs].map((s) => String(eventJson(log.get(s)!).path));

t.test('ring keeps the last N, newest first', async (t) => {
  const log = new EventLog(3);
  t.same([...log.newestFirst()], []);
  t.equal(log.size, 0);
  for (let i = 1; i <= 7; i++) add(log, entry(i), 1000 + i);
  t.equal(log.size, 3);
  t.equal(log.newestSeq, 7);
  t.equal(log.oldestSeq, 5);
  t.same(paths(log, log.newestFirst()), ['/7', '/6', '/5']);
  t.same([...log.newestFirst(5)], [7, 6], 'after a sequence number');
  t.equal(log.get(4), undefined, 'overwritten');
  t.equal(log.get(6)?.time, 1006);
  t.equal(log.get(6)?.line, formatAccessLine(entry(6), 1006), 'the line comes back byte for byte');
  t.throws(() => new EventLog(0));
});

t.test('long lines use more of the byte ring: fewer entries, never a torn one', async (t) => {
  const log = new EventLog(200); // 200 × 512 bytes is below the 64 KiB minimum: 64 KiB of lines
  const long = 'x'.repeat(4000);
  for (let i = 1; i <= 100; i++) add(log, entry(i, { path: `/${i}/${long}` }), i);
  t.ok(log.size < 100 && log.size > 10, `${log.size} long entries held`);
  for (const seq of log.newestFirst()) t.match(eventJson(log.get(seq)!), { seq, path: new RegExp(`^/${seq}/x+$`) });
  add(log, entry(101, { path: '/é/ü' }), 101);
  t.equal(eventJson(log.get(101)!).path, '/é/ü', 'UTF-8 round trip');
  add(log, entry(102, { path: 'y'.repeat(100_000) }), 102);
  t.notOk(log.has(102), 'a line larger than the ring is counted but not kept');
  t.equal(log.countsFor('svc').allowed, 102);
  t.ok(BYTES_PER_ENTRY >= 256);
});

t.test('outcomes, filters and counters', async (t) => {
  const log = new EventLog(10);
  add(log, entry(1), 1);
  add(log, entry(2, { deny_reason: 'crowdsec_ban', metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'enforce' } }), 2);
  add(log, entry(3, { metadata: { crowdsec_verdict: 'captcha', crowdsec_mode: 'observe' } }), 3);
  add(log, entry(4, { deny_reason: 'ip_restricted' }), 4);
  add(log, entry(5, { service: '' }), 5);
  add(log, entry(6, { service: 'other' }), 6);
  t.same(
    [...log.newestFirst()].map((s) => eventJson(log.get(s)!).outcome),
    ['allowed', 'not_found', 'denied', 'observed', 'denied', 'allowed'],
  );
  t.same(log.countsFor('svc'), { allowed: 1, observed: 1, denied: { crowdsec_ban: 1, ip_restricted: 1 } });
  t.same(log.countsFor('nope'), { allowed: 0, observed: 0, denied: {} });

  const pick = (q: string): number[] => {
    const compiled = log.compile(parseEventFilter(new URLSearchParams(q), 100, 10_000));
    return [...log.newestFirst()].filter((s) => log.matches(s, compiled));
  };
  t.same(pick(''), [6, 5, 4, 3, 2, 1]);
  t.same(pick('service=other'), [6]);
  t.same(pick('service=unknown'), []);
  t.same(pick('outcome=observed'), [3]);
  t.same(pick('outcome=not_found'), [5]);
  t.same(pick('reason=crowdsec_captcha'), [3], 'reason also finds the observed verdict');
  t.same(pick('reason=crowdsec_ban'), [2]);
  t.same(pick('reason=crowdsec_captcha&outcome=denied'), []);
  t.same(pick('reason=country_restricted'), []);
  t.same(pick('ip=10.0.0.0/31'), [1]);
  t.same(pick('ip=10.0.0.4'), [4]);
  t.same(pick('since=1970-01-01T00:00:00.003Z&until=1970-01-01T00:00:00.004Z'), [4, 3]);
  const f = (q: string) => parseEventFilter(new URLSearchParams(q), 100, 10_000);
  t.equal(f('limit=1000').limit, 100, 'limit is capped by the ring size');
  t.equal(f('since=15m').since, 10_000 - 15 * 60_000, 'a duration means that long ago');
  t.throws(() => f('outcome=maybe'), /^outcome: "maybe" is not one of/);
  t.throws(() => f('since=yesterday'), /^since: "yesterday" is not a time/);
  t.throws(() => f('limit=0'), /^limit: "0" is not a positive integer/);
  t.throws(() => f('ip=10.0.0.300'), /^ip: "10.0.0.300" is not an IP address or CIDR prefix/);
});

t.test('append is O(1): a million appends into a small ring stay fast and bounded', async (t) => {
  const log = new EventLog(1000);
  const e = entry(1);
  const line = formatAccessLine(e, 0);
  const start = process.hrtime.bigint();
  for (let i = 0; i < 1_000_000; i++) log.append(e, i, line);
  const nsPerAppend = Number(process.hrtime.bigint() - start) / 1_000_000;
  t.equal(log.size, 1000);
  t.ok(nsPerAppend < 5000, `${nsPerAppend.toFixed(0)} ns per append`);
});
