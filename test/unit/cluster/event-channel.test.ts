// The workers' event channel: entries sent as binary records arrive in the primary's event log exactly
// as if appended there (lines, filter fields, counters), however the pipe splits the bytes; a dropped
// window is counted and its names are sent again.
import t from 'tap';
import { EventLog } from '../../../src/admin/event-log';
import { eventJson, parseEventFilter } from '../../../src/admin/event-filter';
import { EventReceiver, EventSender } from '../../../src/cluster/event-channel';
import { formatAccessLine, type AccessEntry } from '../../../src/telemetry/access-log';

function entry(i: number): AccessEntry {
  const kinds: Array<Partial<AccessEntry>> = [
    { service: 'shop' },
    { service: 'shop', deny_reason: 'crowdsec_ban', metadata: { crowdsec_mode: 'enforce', crowdsec_verdict: 'ban' } },
    { service: 'wiki', metadata: { crowdsec_mode: 'observe', crowdsec_verdict: 'captcha' } },
    { service: '' },
    { service: 'ünïcode-☃', deny_reason: 'ip_restricted' },
  ];
  return {
    service: 'x',
    protocol: 'http',
    client_ip: `10.0.${i % 7}.${i % 250}`,
    path: `/p${i}?q=${'é'.repeat(i % 5)}`,
    bytes_in: i,
    bytes_out: 2 * i,
    duration_ms: 1,
    deny_reason: '',
    metadata: {},
    ...kinds[i % kinds.length],
  };
}

class Pipe {
  chunks: Buffer[] = [];
  writableLength = 0;
  destroyed = false;
  write(chunk: Buffer): boolean {
    this.chunks.push(Buffer.from(chunk));
    return true;
  }
}

function snapshot(log: EventLog): unknown {
  const filters = ['', 'service=shop', 'outcome=observed', 'reason=crowdsec_ban', 'reason=crowdsec_captcha', 'outcome=not_found', 'ip=10.0.3.0/24'];
  const views = filters.map((f) => {
    const q = log.compile(parseEventFilter(new URLSearchParams(f), 100_000, 0));
    return [...log.newestFirst()].filter((s) => log.matches(s, q)).map((s) => eventJson(log.get(s)!));
  });
  return { views, counts: ['shop', 'wiki', 'ünïcode-☃', ''].map((s) => log.countsFor(s)) };
}

t.test('records arrive as if appended in the primary, whatever the chunking', async (t) => {
  const direct = new EventLog(5000);
  const pipe = new Pipe();
  const sender = new EventSender(pipe);
  for (let i = 0; i < 3000; i++) {
    const e = entry(i);
    const time = 1_700_000_000_000 + i;
    const line = formatAccessLine(e, time, '{"level":30,"worker":2');
    direct.append(e, time, line);
    sender.append(e, time, line);
  }
  sender.flush();
  t.ok(pipe.chunks.length > 1, 'a full window is sent at once, before the timer');
  const bytes = Buffer.concat(pipe.chunks);
  for (const size of [bytes.length, 65536, 1000, 7, 1]) {
    const log = new EventLog(5000);
    const receiver = new EventReceiver(log);
    for (let at = 0; at < bytes.length; at += size) receiver.take(bytes.subarray(at, at + size));
    t.same(snapshot(log), snapshot(direct), `chunks of ${size} bytes`);
  }
  t.equal(sender.dropped, 0);
});

t.test('a primary that falls behind: windows dropped and counted, names sent again', async (t) => {
  const pipe = new Pipe();
  const sender = new EventSender(pipe);
  const line = (e: AccessEntry): string => formatAccessLine(e, 1, '{"level":30');
  sender.append(entry(1), 1, line(entry(1)));
  sender.flush();
  pipe.writableLength = 5 * 1024 * 1024;
  sender.append(entry(6), 2, line(entry(6)));
  sender.append(entry(2), 3, line(entry(2)));
  sender.flush();
  t.equal(sender.dropped, 2, 'the window of two entries is dropped');
  t.equal(pipe.chunks.length, 1, 'and not written');
  pipe.writableLength = 0;
  sender.append(entry(11), 4, line(entry(11)));
  sender.append(entry(12), 5, line(entry(12))); // "wiki" was first named in the dropped window
  sender.flush();
  const log = new EventLog(10);
  const receiver = new EventReceiver(log);
  for (const c of pipe.chunks) receiver.take(c);
  t.same(
    [...log.newestFirst()].map((s) => eventJson(log.get(s)!)).map((e) => [e.service, e.deny_reason]),
    [
      ['wiki', ''],
      ['shop', 'crowdsec_ban'],
      ['shop', 'crowdsec_ban'],
    ],
  );
  t.equal(log.countsFor('wiki').observed, 1);
  t.same(log.countsFor('shop').denied, { crowdsec_ban: 2 }, "the names after the drop are the primary's");
});

t.test('a line larger than a window is counted, not sent', async (t) => {
  const pipe = new Pipe();
  const sender = new EventSender(pipe);
  const e = { ...entry(0), path: `/${'a'.repeat(300_000)}` };
  sender.append(e, 1, formatAccessLine(e, 1));
  sender.flush();
  t.equal(sender.dropped, 1);
});

t.test('a window dropped by the entry that names a new service: the name still reaches the primary', async (t) => {
  const pipe = new Pipe();
  const sender = new EventSender(pipe);
  const base = entry(0); // "shop", no reason, no decision
  const line = formatAccessLine(base, 1, '{"level":30');
  const appendUntilSent = (): number => {
    const sent = pipe.chunks.length;
    let n = 0;
    while (pipe.chunks.length === sent) {
      sender.append(base, 1, line);
      n++;
    }
    return n; // the n-th append sent the window and starts the next one
  };
  appendUntilSent();
  const perWindow = appendUntilSent();
  for (let i = 0; i < perWindow - 1; i++) sender.append(base, 1, line); // a full window: the next entry sends it
  pipe.writableLength = 5 * 1024 * 1024; // the primary falls behind
  const fresh = { ...base, service: 'fresh' };
  sender.append(fresh, 2, formatAccessLine(fresh, 2, '{"level":30')); // sends the window, which is dropped
  t.equal(sender.dropped, perWindow, 'the full window was dropped, not the new entry');
  pipe.writableLength = 0;
  sender.flush();
  const log = new EventLog(100_000);
  const receiver = new EventReceiver(log);
  for (const c of pipe.chunks) receiver.take(c);
  t.equal(log.countsFor('fresh').allowed, 1, 'the entry after the drop is counted under its own name');
  t.equal(log.countsFor('other').allowed, 0, 'not as an unknown one');
});
