// The stream bouncer against the scripted fake LAPI: protocol, faults, backoff, logging.
import t from 'tap';
import { Writable } from 'node:stream';
import { createServer, type Socket } from 'node:net';
import pino, { type Logger } from 'pino';
import { Backoff } from '../../../../src/crowdsec/stream/backoff';
import { StreamBouncer, type StreamBouncerOptions } from '../../../../src/crowdsec/stream/bouncer';
import { defaultTimeouts, LapiClient, parseStreamBody } from '../../../../src/crowdsec/stream/lapi-client';
import { LapiError } from '../../../../src/crowdsec/stream/lapi-errors';
import type { CrowdSecSettings } from '../../../../src/crowdsec/stream/settings';
import { USER_AGENT } from '../../../../src/version';
import { bigStartupBody, startFakeLapi, type FakeLapi, type FakeMode } from '../../../harness/fake-lapi';
import { freePort } from '../../../harness/ports';
import { sleep, until } from '../../../harness/clients';

type Test = Pick<typeof t, 'teardown'>;

interface LogEntry {
  level: number;
  msg: string;
  [k: string]: unknown;
}

interface Captured {
  log: Logger;
  raw: string[];
  entries(): LogEntry[];
  msgs(): string[];
}

function captureLog(): Captured {
  const raw: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _enc, cb) {
      raw.push(chunk.toString());
      cb();
    },
  });
  const log = pino({ level: 'trace', base: undefined }, stream);
  const entries = (): LogEntry[] =>
    raw
      .join('')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as LogEntry);
  return { log, raw, entries, msgs: () => entries().map((e) => e.msg) };
}

function settings(url: string, over: Partial<CrowdSecSettings> = {}): CrowdSecSettings {
  return { apiUrl: url, apiKey: undefined, pollIntervalMs: 100, caCertPath: undefined, certPath: undefined, keyPath: undefined, ...over };
}

interface Rig {
  fake: FakeLapi;
  b: StreamBouncer;
  logs: Captured;
}

async function rig(t: Test, over: Partial<CrowdSecSettings> = {}, extra: Partial<StreamBouncerOptions> = {}): Promise<Rig> {
  const fake = await startFakeLapi({ apiKey: 'fake-secret-key-0123456789' });
  const logs = captureLog();
  const b = new StreamBouncer({
    settings: settings(fake.url, { apiKey: fake.apiKey, ...over }),
    log: logs.log,
    retry: { connectingInitialMs: 50, connectingMaxMs: 200, degradedInitialMs: 50, degradedMaxMs: 200 },
    ...extra,
  });
  t.teardown(async () => {
    await b.stop();
    await fake.close();
  });
  return { fake, b, logs };
}

const failure = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

t.test('backoff: exponential, full jitter, floor, capped', async (t) => {
  const max = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
  const seq = Array.from({ length: 7 }, () => max.next());
  t.same(seq, [100, 200, 400, 800, 1000, 1000, 1000], 'ceilings double up to the cap');
  t.equal(max.attempts, 7);
  max.reset();
  t.equal(max.next(), 100, 'reset starts over');

  const min = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0 });
  t.same(
    Array.from({ length: 5 }, () => min.next()),
    [50, 50, 50, 50, 50],
    'floor is half the initial delay',
  );

  const half = new Backoff({ initialMs: 100, maxMs: 1000, minMs: 0, random: () => 0.5 });
  t.same(
    Array.from({ length: 6 }, () => half.next()),
    [50, 100, 200, 400, 500, 500],
    'uniform under the ceiling',
  );

  const big = new Backoff({ initialMs: 1000, maxMs: 60_000, random: () => 1 });
  for (let i = 0; i < 2000; i++) big.next();
  t.equal(big.next(), 60_000, 'no overflow after many attempts');

  const real = new Backoff({ initialMs: 100, maxMs: 400 });
  const draws = Array.from({ length: 200 }, () => real.next());
  t.ok(
    draws.every((d) => d >= 50 && d <= 400),
    'Math.random draws stay within [floor, cap]',
  );
  t.ok(new Set(draws).size > 20, 'and are spread out');
  t.throws(() => new Backoff({ initialMs: 0, maxMs: 10 }), RangeError);
});

t.test('request timeouts derive from the poll interval', async (t) => {
  t.same(defaultTimeouts(100), { startupMs: 30_000, deltaMs: 1000 });
  t.same(defaultTimeouts(2000), { startupMs: 30_000, deltaMs: 4000 });
  t.same(defaultTimeouts(10_000), { startupMs: 30_000, deltaMs: 10_000 });
  t.same(defaultTimeouts(600_000), { startupMs: 30_000, deltaMs: 10_000 });
});

t.test('parseStreamBody', async (t) => {
  const chunks = [Buffer.from('{"new":[{"value":"1.2.'), Buffer.from('3.4"}],"deleted":null}')];
  const r = parseStreamBody(chunks);
  t.same(r, { new: [{ value: '1.2.3.4' }], deleted: null });
  t.equal(chunks.length, 0, 'chunk list released');
  t.same(parseStreamBody([Buffer.from('{}')]), { new: null, deleted: null }, 'missing lists are null');
  t.throws(() => parseStreamBody([Buffer.from('{"new":[')]), { kind: 'malformed', message: /malformed JSON \(8 bytes/ });
  t.throws(() => parseStreamBody([]), { kind: 'malformed', message: /empty body/ });
  t.throws(() => parseStreamBody([Buffer.from('[]')]), { kind: 'malformed', message: /not a \{"new", "deleted"\} object but a list/ });
  t.throws(() => parseStreamBody([Buffer.from('{"new":"x"}')]), { kind: 'malformed', message: /"new" is a string/ });
  t.same(parseStreamBody([Buffer.from('{"new":[null, 1]}')]), { new: [null, 1], deleted: null }, 'elements are left to the store');
});

t.test('protocol: headers, startup=true then deltas, scopes, null lists', async (t) => {
  const { fake, b, logs } = await rig(t);
  fake.addDecision({ value: '192.0.2.1' });
  fake.addDecision({ value: '198.51.100.0/24', type: 'captcha' });
  t.equal(b.state, 'stopped');
  t.equal(b.synced, false);
  b.start();
  b.start(); // idempotent
  t.equal(b.state, 'connecting');
  await until('synced', () => b.synced);
  t.equal(b.state, 'synced');
  t.equal(b.lookup('192.0.2.1', Date.now())?.type, 'ban');
  t.equal(b.lookup('198.51.100.77', Date.now())?.type, 'captcha', 'range decision');
  t.equal(b.lookup('192.0.2.2', Date.now()), undefined);

  await fake.waitForRequest(() => true, 2000, 1);
  const [first, second] = fake.requests;
  t.equal(first.url, '/v1/decisions/stream?startup=true&scopes=ip,range', 'startup pull');
  t.equal(second.url, '/v1/decisions/stream?scopes=ip,range', 'delta pull');
  for (const r of [first, second]) {
    t.equal(r.method, 'GET');
    t.equal(r.headers['x-api-key'], fake.apiKey);
    t.equal(r.headers['user-agent'], USER_AGENT);
    t.match(r.headers['user-agent'], /^crowdsec-netbird-proxy-bouncer\/v\d+\.\d+\.\d+/, 'spec User-Agent');
    t.equal(r.headers.connection, 'keep-alive');
  }
  const gap = second.at - first.at;
  t.ok(gap >= 80, `deltas wait for the poll interval (${gap} ms)`);

  // Empty deltas are {"new":null,"deleted":null}.
  const okBefore = b.pullsOk;
  await until('more pulls', () => b.pullsOk >= okBefore + 2);
  t.equal(b.state, 'synced');
  t.equal(b.store.size, 2);
  t.equal(fake.requests.filter((r) => r.query.get('startup') === 'true').length, 1, 'only one startup pull');

  fake.addDecision({ value: '203.0.113.9' });
  await until('new decision', () => b.lookup('203.0.113.9', Date.now()) !== undefined);
  fake.removeDecision('192.0.2.1');
  await until('deleted decision', () => b.lookup('192.0.2.1', Date.now()) === undefined);

  const st = b.status();
  t.equal(st.state, 'synced');
  t.equal(st.decisions.total, 2);
  t.equal(st.last_error, null);
  t.type(st.last_successful_pull, 'string');
  t.ok(st.seconds_since_last_pull !== null && st.seconds_since_last_pull < 1);
  t.type(st.initial_sync_ms, 'number');
  t.equal(st.pulls_failed, 0);
  t.ok(st.pulls_ok >= 4);
  t.equal(st.skipped_decisions, 0);
  t.equal(b.pullsOk, st.pulls_ok);
  t.type(b.lastSuccessAt, 'number');
  t.type(b.initialSyncMs, 'number');

  await b.stop();
  await b.stop(); // idempotent
  t.equal(b.state, 'stopped');
  const msgs = logs.msgs();
  t.ok(msgs.includes(`connecting to CrowdSec LAPI at ${fake.url}`), 'connecting line');
  t.ok(msgs.includes('CrowdSec bouncer started'));
  t.equal(msgs.filter((m) => m === 'CrowdSec bouncer stopped').length, 1, 'stopped logged once');
  const synced = logs.entries().find((e) => e.msg === 'CrowdSec bouncer synced initial decisions');
  t.match(synced, { level: 30, decisions: 2, duration_ms: Number });
  t.ok(
    logs
      .entries()
      .filter((e) => e.level >= 30)
      .every((e) => /crowdsec/i.test(e.msg)),
    'every info+ line matches grep -i crowdsec',
  );

  const n = fake.requests.length;
  await sleep(300);
  t.equal(fake.requests.length, n, 'no pulls after stop');
});

t.test('500 before the first sync: retried quickly, stays connecting', async (t) => {
  const { fake, b, logs } = await rig(t);
  fake.setMode('500');
  b.start();
  await until('3 failures', () => b.pullsFailed >= 3);
  t.equal(b.state, 'connecting');
  t.equal(b.synced, false);
  t.match(b.status().last_error, /answered HTTP 500/);
  t.ok(
    fake.requests.every((r) => r.query.get('startup') === 'true'),
    'keeps asking for the full list',
  );
  fake.setMode('ok');
  fake.addDecision({ value: '192.0.2.1' });
  await until('synced', () => b.synced);
  t.equal(b.state, 'synced');
  t.ok(b.lookup('192.0.2.1', Date.now()));
  const warn = logs.entries().find((e) => e.level === 40);
  t.match(warn?.msg, /^CrowdSec LAPI initial pull failed.*answered HTTP 500/);
  t.ok(logs.msgs().includes('CrowdSec LAPI reachable again'));
});

t.test('500 after sync: degraded, cache kept, recovers with a full resync', async (t) => {
  const { fake, b, logs } = await rig(t);
  fake.addDecision({ value: '192.0.2.1' });
  b.start();
  await until('synced', () => b.synced);
  fake.setMode('500');
  await until('degraded', () => b.state === 'degraded');
  t.equal(b.synced, true, 'synced stays true through the outage');
  t.ok(b.lookup('192.0.2.1', Date.now()), 'cache answers while degraded');
  t.equal(b.status().decisions.total, 1);
  t.match(b.status().last_error, /CrowdSec LAPI at http:\/\/127\.0\.0\.1:\d+ answered HTTP 500 Internal Server Error/);
  const failedBefore = b.pullsFailed;
  await until('more failures', () => b.pullsFailed >= failedBefore + 2);
  const mark = fake.requests.length;
  fake.setMode('ok');
  await until('recovered', () => b.state === 'synced');
  t.equal(b.status().last_error, null);
  t.ok(logs.entries().some((e) => e.msg === 'CrowdSec LAPI reachable again' && e.level === 30 && typeof e.failed_pulls === 'number'));
  t.equal(fake.requests[mark].query.get('startup'), 'true', 'first pull after a 5xx is a full resync');
  t.ok(logs.msgs().includes('CrowdSec bouncer resynced all decisions'));
  await fake.waitForRequest(() => true, 2000, mark + 1);
  t.equal(fake.requests[mark + 1].query.get('startup'), null, 'then deltas again');
  t.ok(b.lookup('192.0.2.1', Date.now()));
});

t.test('malformed, wrong shape, truncated, reset: named errors, cache kept', async (t) => {
  const { fake, b } = await rig(t);
  fake.addDecision({ value: '192.0.2.1' });
  b.start();
  await until('synced', () => b.synced);
  const cases: Array<[FakeMode, RegExp]> = [
    ['malformed', /^CrowdSec LAPI sent malformed JSON \(\d+ bytes: /],
    ['badshape', /^CrowdSec LAPI response field "new" is a string, expected a list or null$/],
    ['truncated', /closed the connection after \d+ bytes of the body/],
    ['destroy', /^connection to CrowdSec LAPI at .* failed: socket hang up/],
  ];
  for (const [mode, re] of cases) {
    const failed = b.pullsFailed;
    fake.setMode(mode);
    await until(`${mode} failure`, () => b.pullsFailed > failed);
    t.equal(b.state, 'degraded', mode);
    t.match(b.status().last_error, re, mode);
    t.ok(b.lookup('192.0.2.1', Date.now()), `${mode}: cache kept`);
    fake.setMode('ok');
    await until(`${mode} recovery`, () => b.state === 'synced');
  }
  fake.enqueue({ status: 200, body: '<html>login</html>', headers: { 'Content-Type': 'text/html' } });
  await until('content-type failure', () => /content-type text\/html, expected application\/json/.test(b.status().last_error ?? ''));
  await until('recovered', () => b.state === 'synced');
  t.ok(b.lookup('192.0.2.1', Date.now()));
});

t.test('a hanging delta times out and does not wedge the loop', async (t) => {
  // poll 100 ms → delta timeout clamp(200 ms, 1 s, 10 s) = 1 s
  const { fake, b } = await rig(t);
  b.start();
  await until('synced', () => b.synced);
  fake.setMode('hang');
  const t0 = Date.now();
  await until('timed out', () => b.state === 'degraded', 4000);
  const took = Date.now() - t0;
  t.ok(took >= 900, `not before the 1 s delta timeout (${took} ms)`);
  t.match(b.status().last_error, /timed out: no complete response within 1000 ms/);
  fake.setMode('ok');
  fake.addDecision({ value: '192.0.2.5' });
  await until('recovered', () => b.lookup('192.0.2.5', Date.now()) !== undefined, 4000);
  t.equal(b.state, 'synced');
});

t.test('a hanging startup pull times out (injected timeout)', async (t) => {
  const { fake, b } = await rig(t, {}, { timeouts: { startupMs: 300 } });
  fake.setMode('hang');
  b.start();
  await until('failure', () => b.pullsFailed >= 1, 3000);
  t.match(b.status().last_error, /timed out: no response within 300 ms/);
  t.equal(b.state, 'connecting');
  fake.setMode('ok');
  await until('synced', () => b.synced);
});

t.test('a stalled startup body times out', async (t) => {
  const { fake, b } = await rig(t, {}, { timeouts: { startupMs: 300 } });
  fake.setStartupStream(async function* () {
    yield '{"new":[';
    await sleep(2000);
    yield ']}';
  });
  b.start();
  await until('failure', () => b.pullsFailed >= 1, 3000);
  t.match(b.status().last_error, /timed out: body stalled after 8 bytes within 300 ms/);
  fake.setStartupStream(null);
  await until('synced', () => b.synced);
});

t.test('stop() aborts an in-flight request promptly', async (t) => {
  // A startup timeout far beyond the test's own: stop() resolving at all proves it aborted the pull.
  const { fake, b, logs } = await rig(t, {}, { timeouts: { startupMs: 600_000 } });
  fake.setMode('hang');
  b.start();
  await fake.waitForRequest();
  await b.stop();
  t.equal(b.state, 'stopped');
  t.equal(b.pullsFailed, 0, 'an aborted pull is not a failure');
  t.notOk(
    logs.entries().some((e) => e.level >= 40),
    'nothing logged as failure',
  );
  const n = fake.requests.length;
  await sleep(300);
  t.equal(fake.requests.length, n);
});

t.test('stop() then start() on the same bouncer: keeps the cache, resyncs', async (t) => {
  const { fake, b } = await rig(t);
  fake.addDecision({ value: '192.0.2.1' });
  b.start();
  await until('synced', () => b.synced);
  await b.stop();
  t.equal(b.state, 'stopped');
  t.ok(b.lookup('192.0.2.1', Date.now()), 'stop keeps the store (the lifecycle clears it)');
  const mark = fake.requests.length;
  fake.addDecision({ value: '192.0.2.2' });
  b.start();
  t.equal(b.state, 'synced');
  await until('pulled again', () => b.lookup('192.0.2.2', Date.now()) !== undefined);
  t.equal(fake.requests[mark].query.get('startup'), 'true', 'a restart pulls the full list');
});

t.test('403: clear error, the API key never appears in logs or status', async (t) => {
  const secret = 'S3cr3t-key-that-must-not-leak-5f2a9c';
  const { fake, b, logs } = await rig(t, { apiKey: secret });
  b.start();
  await until('failures', () => b.pullsFailed >= 3);
  t.equal(b.state, 'connecting');
  t.equal(fake.requests[0].headers['x-api-key'], secret, 'the key is sent');
  t.equal(b.status().last_error, 'CrowdSec LAPI rejected the API key (403); check NB_PROXY_CROWDSEC_API_KEY / cscli bouncers list');
  const err = logs.entries().find((e) => e.level === 50);
  t.match(err?.msg, /rejected the API key \(403\)/, 'logged at error level');

  // Drive the other failure paths with the same key, then check everything that was written.
  fake.respond(() => ({ status: 500, body: '{"message":"db locked"}' }));
  await until('500', () => /HTTP 500/.test(b.status().last_error ?? ''));
  fake.respond(() => ({ status: 200, body: '{"new":[' }));
  await until('malformed', () => /malformed/.test(b.status().last_error ?? ''));
  fake.respond(() => ({ hang: true }));
  await fake.waitForRequest(() => true, 5000);
  await b.stop();
  const everything = logs.raw.join('') + JSON.stringify(b.status());
  t.notOk(everything.includes(secret), 'no key anywhere in logs or status');
  t.notOk(everything.includes(secret.slice(0, 12)), 'not even a prefix');
});

t.test('the key is redacted even if an error message echoes it', async (t) => {
  const secret = 'echoed-secret-abcdef0123';
  const fake = await startFakeLapi({ apiKey: secret });
  t.teardown(() => fake.close());
  fake.respond((r) => ({ status: 502, body: `upstream said: bad key ${String(r.headers['x-api-key'])}` }));
  const client = new LapiClient({ settings: settings(fake.url, { apiKey: secret }) });
  t.teardown(() => client.close());
  const err = await failure(client.pull(true));
  t.ok(err instanceof LapiError);
  t.match((err as LapiError).message, /answered HTTP 502 Bad Gateway: upstream said: bad key \[redacted\]/);
  t.notOk((err as LapiError).message.includes(secret));
});

t.test('client certificate only: no X-Api-Key header; 403 names the certificate', async (t) => {
  const fake = await startFakeLapi();
  t.teardown(() => fake.close());
  // Plain http: cert/key paths are only read for https URLs.
  const client = new LapiClient({ settings: settings(fake.url, { certPath: '/nonexistent.crt', keyPath: '/nonexistent.key' }) });
  t.teardown(() => client.close());
  const err = await failure(client.pull(true));
  t.equal(fake.requests[0].headers['x-api-key'], undefined, 'header omitted without a key');
  t.match(err, { kind: 'auth', status: 403, message: /rejected the client certificate \(403\)/ });
});

t.test('unreadable CA file: config error, logged at error, retried', async (t) => {
  const logs = captureLog();
  const b = new StreamBouncer({
    settings: settings('https://127.0.0.1:1', { apiKey: 'k', caCertPath: '/nonexistent/ca.crt' }),
    log: logs.log,
    retry: { connectingInitialMs: 50, connectingMaxMs: 100 },
  });
  t.teardown(() => b.stop());
  b.start();
  await until('failures', () => b.pullsFailed >= 2);
  t.match(b.status().last_error, /cannot read CrowdSec CA certificate \(--crowdsec-ca-cert\) \/nonexistent\/ca\.crt: ENOENT/);
  t.ok(logs.entries().some((e) => e.level === 50 && e.kind === 'config'));
});

t.test('unreachable LAPI: named as unreachable, failures not flooded', async (t) => {
  const port = await freePort();
  const logs = captureLog();
  const b = new StreamBouncer({
    settings: settings(`http://127.0.0.1:${port}`, { apiKey: 'k' }),
    log: logs.log,
    retry: { connectingInitialMs: 10, connectingMaxMs: 20 },
  });
  t.teardown(() => b.stop());
  b.start();
  await until('failures', () => b.pullsFailed >= 25);
  t.equal(b.status().last_error, `CrowdSec LAPI unreachable at http://127.0.0.1:${port} (ECONNREFUSED)`);
  const loud = logs.entries().filter((e) => e.level >= 40);
  t.ok(loud.length >= 1 && loud.length <= 3, `${loud.length} warn lines for ${b.pullsFailed} failures`);
  t.match(loud[0], { msg: /LAPI unreachable/, kind: 'unreachable', code: 'ECONNREFUSED', consecutive_failures: 1 });
  t.ok(
    loud.slice(1).every((e) => (e.consecutive_failures as number) % 10 === 0),
    'then every 10th',
  );
});

t.test('unknown host: unreachable', async (t) => {
  const client = new LapiClient({ settings: settings('http://no-such-host.invalid:8080', { apiKey: 'k' }) });
  t.teardown(() => client.close());
  const err = await failure(client.pull(false));
  t.match(err, { kind: 'unreachable', message: /^CrowdSec LAPI unreachable at http:\/\/no-such-host\.invalid:8080 \((ENOTFOUND|EAI_AGAIN)\)$/ });
});

t.test('https to a plain-TCP server: tls error, not a hang', async (t) => {
  const conns = new Set<Socket>();
  const srv = createServer((s) => {
    conns.add(s);
    s.on('error', () => undefined);
    s.end('HTTP/1.1 400 Bad Request\r\n\r\n');
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  t.teardown(() => {
    for (const s of conns) s.destroy();
    srv.close();
  });
  const addr = srv.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  const client = new LapiClient({ settings: settings(`https://127.0.0.1:${port}`, { apiKey: 'k' }) });
  t.teardown(() => client.close());
  const err = await failure(client.pull(true));
  t.match(err, { kind: 'tls', message: /^TLS error talking to CrowdSec LAPI/ });
});

t.test('decisions the store cannot use are skipped and counted, not fatal', async (t) => {
  const { fake, b, logs } = await rig(t);
  b.start();
  await until('synced', () => b.synced);
  fake.enqueue({
    status: 200,
    body: JSON.stringify({
      new: [
        { scope: 'Country', value: 'FR', type: 'ban', duration: '1h', origin: 'cscli', scenario: 'x' },
        null,
        { scope: 'Ip', value: '192.0.2.44', type: 'ban', duration: '1h', origin: 'cscli', scenario: 'x' },
      ],
      deleted: null,
    }),
  });
  await until('applied', () => b.lookup('192.0.2.44', Date.now()) !== undefined);
  t.equal(b.state, 'synced');
  t.equal(b.skippedDecisions, 2);
  t.equal(b.status().skipped_decisions, 2);
  t.ok(logs.entries().some((e) => e.level === 40 && e.skipped === 2 && /CrowdSec bouncer skipped/.test(e.msg)));
});

t.test('decisions expire locally: swept on each pull', async (t) => {
  let clock = Date.now();
  const { fake, b } = await rig(t, {}, { now: () => clock });
  fake.addDecision({ value: '192.0.2.1', duration: '2s' });
  fake.addDecision({ value: '192.0.2.2', duration: '1h' });
  b.start();
  await until('synced', () => b.synced);
  t.equal(b.store.size, 2);
  t.ok(b.lookup('192.0.2.1', clock));
  clock += 5000;
  t.equal(b.lookup('192.0.2.1', clock), undefined, 'lookup ignores an expired entry');
  const ok = b.pullsOk;
  await until('next pull', () => b.pullsOk > ok);
  t.equal(b.store.size, 1, 'expired entry swept');
  t.equal(b.status().decisions.total, 1);
});

t.test('a pooled socket the server dropped is retried once on a fresh connection', async (t) => {
  const fake = await startFakeLapi();
  t.teardown(() => fake.close());
  const client = new LapiClient({ settings: settings(fake.url, { apiKey: fake.apiKey }) });
  t.teardown(() => client.close());
  await client.pull(true);
  // The next request lands on the pooled socket and the server destroys it without answering.
  fake.enqueue({ destroy: true });
  const n = fake.requests.length;
  const r = await client.pull(false);
  t.same(r.response, { new: null, deleted: null }, 'succeeds on the retry');
  t.equal(fake.requests.length, n + 2, 'one failed attempt, one retry');
  // A fresh connection that fails is not retried.
  fake.enqueue({ destroy: true });
  await client.pull(false);
  client.close();
  const c2 = new LapiClient({ settings: settings(fake.url, { apiKey: fake.apiKey }) });
  t.teardown(() => c2.close());
  fake.enqueue({ destroy: true });
  t.match(await failure(c2.pull(false)), { kind: 'network' });
});

t.test('large startup list: 200k decisions in one pull', async (t) => {
  const { fake, b, logs } = await rig(t);
  fake.setStartupStream(() => bigStartupBody(200_000, { rangeEvery: 1000 }));
  b.start();
  await until('synced', () => b.synced, 60_000);
  t.equal(b.store.size, 200_000);
  t.ok(b.lookup('1.0.0.5', Date.now()));
  const line = logs.entries().find((e) => e.msg === 'CrowdSec bouncer synced initial decisions');
  t.comment(`200k decisions: sync ${String(line?.duration_ms)} ms, pull ${String(line?.pull_ms)} ms, ${String(line?.bytes)} bytes`);
  t.equal(line?.decisions, 200_000);
});

t.test('a full resync replaces the cache: decisions deleted during the outage are gone, kept ones never miss', async (t) => {
  const { fake, b } = await rig(t);
  fake.addDecision({ value: '192.0.2.1' });
  fake.addDecision({ value: '192.0.2.2' });
  b.start();
  await until('synced', () => b.synced);
  t.ok(b.lookup('192.0.2.2', Date.now()));
  fake.setMode('500');
  await until('degraded', () => b.state === 'degraded');
  // Deleted while the bouncer cannot see the delta that carries the deletion.
  fake.removeDecision('192.0.2.2');
  let misses = 0;
  let checks = 0;
  const watch = setInterval(() => {
    checks++;
    if (!b.lookup('192.0.2.1', Date.now())) misses++;
  }, 1);
  fake.setMode('ok');
  await until('resynced', () => b.state === 'synced');
  clearInterval(watch);
  t.equal(b.lookup('192.0.2.2', Date.now()), undefined, 'the decision deleted during the outage is gone after the resync');
  t.ok(b.lookup('192.0.2.1', Date.now()), 'the kept decision is still there');
  t.equal(misses, 0, `the kept ban answered all ${checks} lookups during the resync`);
  t.equal(b.status().decisions.total, 1);
});
