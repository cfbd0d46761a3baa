// AppSec end to end: the real binary in front of a real upstream, the protocol-faithful engine
// double (test/harness/appsec-engine.ts), whose API-key check goes to a real CrowdSec LAPI 1.4.6.
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import { startAppSecEngine, type AppSecEngine } from '../harness/appsec-engine';
import { httpGet, until } from '../harness/clients';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { startLapi, type Lapi } from '../harness/lapi';
import { freePort } from '../harness/ports';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const BROWSER = 'text/html,application/xhtml+xml,*/*;q=0.8';
const CAP = 1024;

interface Upstreamed {
  sha256: string;
  length: number;
  headers: http.IncomingHttpHeaders;
}

/** Sends `body` with an exact Content-Length, or in several chunks (Transfer-Encoding: chunked). */
function send(
  daemon: Daemon,
  path: string,
  opts: { host: string; body?: Buffer; chunked?: boolean; from?: string; headers?: Record<string, string> },
): Promise<{ status: number; body: string; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { host: opts.host, ...opts.headers };
    if (opts.body !== undefined && opts.chunked !== true) headers['content-length'] = opts.body.length;
    const req = http.request(
      `${daemon.httpUrl}${path}`,
      { method: opts.body === undefined ? 'GET' : 'POST', headers, agent: false, localAddress: opts.from },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (text += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    const body = opts.body;
    if (body === undefined) return void req.end();
    if (opts.chunked !== true) return void req.end(body);
    const step = Math.max(1, Math.ceil(body.length / 5));
    for (let i = 0; i < body.length; i += step) req.write(body.subarray(i, i + step));
    req.end();
  });
}

function sha(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

function service(name: string, upstream: HttpUpstream, access: string): string {
  return `  - name: ${name}
    protocol: http
    domains: [${name}.example.com]
    target: ${upstream.url}
    access: ${access}
`;
}

async function entryFor(daemon: Daemon, path: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && l.path === path, 5000, `access entry of ${path}`);
}

let lapi: Lapi;
let engine: AppSecEngine;
let upstream: HttpUpstream;
let daemon: Daemon;

t.before(async () => {
  lapi = await startLapi();
  engine = await startAppSecEngine({ lapiUrl: lapi.url });
  upstream = await startHttpUpstream((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const answer: Upstreamed = { sha256: sha(body), length: body.length, headers: req.headers };
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(answer));
    });
  });
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m', reason: 'appsec test' });
  daemon = await startDaemon({
    config: `services:
${service('shop', upstream, '{ crowdsec: enforce, appsec: enforce }')}${service('blog', upstream, '{ appsec: observe }')}${service(
      'files',
      upstream,
      '{ appsec: { mode: enforce, skip_paths: [/upload/] } }',
    )}${service('plain', upstream, '{ appsec: off }')}`,
    args: [
      '--crowdsec-api-url',
      lapi.url,
      '--crowdsec-api-key',
      lapi.apiKey,
      '--crowdsec-poll-interval',
      '500ms',
      '--appsec-url',
      engine.url,
      '--appsec-max-body',
      String(CAP),
      '--appsec-timeout',
      '1s',
    ],
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 15_000, 'initial sync');
});

t.teardown(async () => {
  await daemon?.stop();
  await engine?.close();
  await upstream?.close();
  await lapi?.close();
});

t.beforeEach(() => {
  engine.fault = 'none';
  engine.delayMs = 0;
});

t.test('enforce: a /.env probe gets the deny page with appsec_ban; the upstream never sees it', async (t) => {
  const before = upstream.requests.length;
  const res = await httpGet(`${daemon.httpUrl}/.env`, { host: 'shop.example.com', headers: { accept: BROWSER } });
  t.equal(res.status, 403, "the engine's http_status");
  t.match(res.body, /refused: blocked by security policy\./);
  const entry = await entryFor(daemon, '/.env');
  t.match(entry, { service: 'shop', status: 403, deny_reason: 'appsec_ban', metadata: { appsec_verdict: 'ban', appsec_mode: 'enforce' } });
  t.match(res.body, new RegExp(`<code id="request-id">${String(entry.request_id)}</code>`));
  t.equal(upstream.requests.length, before, 'not forwarded');
  const seen = engine.seen.at(-1);
  t.equal(seen?.method, 'GET', 'no body: GET');
  t.equal(seen?.headers['x-crowdsec-appsec-transaction-id'], entry.request_id, "the engine's transaction id is our request id");
  t.match(seen?.headers, {
    'x-crowdsec-appsec-ip': '127.0.0.1',
    'x-crowdsec-appsec-uri': '/.env',
    'x-crowdsec-appsec-verb': 'GET',
    'x-crowdsec-appsec-host': 'shop.example.com',
    'x-crowdsec-appsec-http-version': '11',
    'x-crowdsec-appsec-api-key': lapi.apiKey,
  });
});

t.test("enforce: ' OR 1=1 in the query and a virtual patch are refused; a clean request passes", async (t) => {
  t.equal((await httpGet(`${daemon.httpUrl}/items?id=1'%20OR%201=1`, { host: 'shop.example.com' })).status, 403);
  t.equal((await httpGet(`${daemon.httpUrl}/vendor/phpunit/phpunit/src/Util/PHP/eval-stdin.php`, { host: 'shop.example.com' })).status, 403);
  const ok = await httpGet(`${daemon.httpUrl}/items?id=1`, { host: 'shop.example.com' });
  t.equal(ok.status, 200);
  const entry = await entryFor(daemon, '/items?id=1');
  t.equal(entry.deny_reason, '');
  t.same(entry.metadata, {}, 'an allowed request carries no AppSec metadata');
});

t.test('enforce: a captcha action denies with appsec_captcha', async (t) => {
  const res = await httpGet(`${daemon.httpUrl}/captcha-me`, { host: 'shop.example.com' });
  t.equal(res.status, 403);
  t.match(await entryFor(daemon, '/captcha-me'), { deny_reason: 'appsec_captcha', metadata: { appsec_verdict: 'captcha' } });
});

t.test('observe: 200, the verdict in metadata, the observe badge in the event log', async (t) => {
  const res = await httpGet(`${daemon.httpUrl}/.git/config`, { host: 'blog.example.com' });
  t.equal(res.status, 200);
  const entry = await entryFor(daemon, '/.git/config');
  t.match(entry, { service: 'blog', deny_reason: '', metadata: { appsec_verdict: 'ban', appsec_mode: 'observe' } });
  const events = JSON.parse((await httpGet(`${daemon.adminUrl}/api/events?reason=appsec_ban&service=blog`)).body) as {
    events: { path: string; outcome: string; appsec_verdict: string; appsec_mode: string }[];
  };
  t.match(events.events, [{ path: '/.git/config', outcome: 'observed', appsec_verdict: 'ban', appsec_mode: 'observe' }], 'filed as observed under appsec_ban');
});

t.test('a client banned by CrowdSec never reaches the engine', async (t) => {
  const before = engine.seen.length;
  const res = await httpGet(`${daemon.httpUrl}/banned-probe`, { host: 'shop.example.com', from: '127.0.0.2' });
  t.equal(res.status, 403);
  t.match(await entryFor(daemon, '/banned-probe'), { deny_reason: 'crowdsec_ban' });
  t.equal(engine.seen.length, before, 'no engine call');
});

for (const chunked of [false, true]) {
  const how = chunked ? 'chunked' : 'Content-Length';
  t.test(`${how} body within the cap: the engine gets it exactly, the upstream intact`, async (t) => {
    const body = randomBytes(CAP - 24);
    const res = await send(daemon, `/post-${how}`, { host: 'shop.example.com', body, chunked });
    t.equal(res.status, 200);
    const got = JSON.parse(res.body) as Upstreamed;
    t.equal(got.sha256, sha(body), 'upstream body intact');
    if (chunked) t.equal(got.headers['transfer-encoding'], 'chunked', 'forwarded as it came');
    const seen = engine.seen.at(-1);
    t.equal(seen?.method, 'POST');
    t.equal(seen?.chunked, false, 'never chunked to the engine');
    t.equal(seen?.headers['content-length'], String(body.length), 'exact Content-Length');
    t.equal(seen?.bodySha256, sha(body), 'the engine read the whole body');
    t.same((await entryFor(daemon, `/post-${how}`)).metadata, {}, 'not marked skipped');
  });

  t.test(`${how} body over the cap: headers only to the engine, the upstream gets every byte`, async (t) => {
    const body = randomBytes(CAP * 5 + 7);
    const res = await send(daemon, `/big-${how}`, { host: 'shop.example.com', body, chunked });
    t.equal(res.status, 200);
    const got = JSON.parse(res.body) as Upstreamed;
    t.equal(got.length, body.length);
    t.equal(got.sha256, sha(body), 'upstream body intact');
    const seen = engine.seen.at(-1);
    t.equal(seen?.headers['x-crowdsec-appsec-uri'], `/big-${how}`);
    t.equal(seen?.method, 'GET', 'headers only');
    t.equal(seen?.body.length, 0, 'never a truncated body');
    t.equal(seen?.headers['x-crowdsec-appsec-verb'], 'POST');
    t.match(await entryFor(daemon, `/big-${how}`), { metadata: { appsec_body: 'skipped' } });
  });
}

t.test('a refused request with a body over the cap: the answer comes, the connection is not stuck', async (t) => {
  const body = randomBytes(CAP * 20);
  const res = await send(daemon, '/.env?big=1', { host: 'shop.example.com', body, chunked: true });
  t.equal(res.status, 403);
  t.match(await entryFor(daemon, '/.env?big=1'), { deny_reason: 'appsec_ban', metadata: { appsec_body: 'skipped' } });
  t.equal((await httpGet(`${daemon.httpUrl}/after-refusal`, { host: 'shop.example.com' })).status, 200, 'the proxy goes on');
});

t.test('a <script> body is refused', async (t) => {
  const res = await send(daemon, '/comment', { host: 'shop.example.com', body: Buffer.from('text=<script>alert(1)</script>'), chunked: true });
  t.equal(res.status, 403);
  t.match(await entryFor(daemon, '/comment'), { deny_reason: 'appsec_ban' });
});

t.test('skip_paths: the prefix is never sent to the engine, a dot-segment path is judged anyway', async (t) => {
  const before = engine.seen.length;
  const res = await send(daemon, '/upload/photo', { host: 'files.example.com', body: Buffer.from('<script>not judged</script>') });
  t.equal(res.status, 200);
  t.equal(engine.seen.length, before, 'no engine call');
  t.same((await entryFor(daemon, '/upload/photo')).metadata, {});
  const sneaky = await httpGet(`${daemon.httpUrl}/upload/../.env`, { host: 'files.example.com' });
  t.equal(sneaky.status, 403);
  t.equal(engine.seen.length, before + 1);
});

t.test('one keep-alive connection to the engine for requests one after another', async (t) => {
  const before = engine.connections;
  const seen = engine.seen.length;
  for (let i = 0; i < 20; i++) t.equal((await httpGet(`${daemon.httpUrl}/ka-${i}`, { host: 'shop.example.com' })).status, 200);
  t.equal(engine.seen.length, seen + 20);
  t.ok(engine.connections - before <= 1, `${engine.connections - before} new connection(s) for 20 requests`);
});

t.test('off: no engine call', async (t) => {
  const before = engine.seen.length;
  t.equal((await httpGet(`${daemon.httpUrl}/.env`, { host: 'plain.example.com' })).status, 200);
  t.equal(engine.seen.length, before);
});

t.test('client-sent X-Crowdsec-Appsec-* reach neither the engine nor the upstream; the admin cookie stays home', async (t) => {
  const res = await httpGet(`${daemon.httpUrl}/headers`, {
    host: 'shop.example.com',
    headers: {
      'x-crowdsec-appsec-ip': '203.0.113.9',
      'x-crowdsec-appsec-uri': '/innocent',
      'x-crowdsec-appsec-api-key': 'stolen',
      'x-crowdsec-appsec-extra': '1',
      cookie: 'theme=dark; nbp_session=secret-session; lang=en',
    },
  });
  t.equal(res.status, 200);
  const seen = engine.seen.at(-1);
  t.equal(seen?.headers['x-crowdsec-appsec-ip'], '127.0.0.1');
  t.equal(seen?.headers['x-crowdsec-appsec-uri'], '/headers');
  t.equal(seen?.headers['x-crowdsec-appsec-api-key'], lapi.apiKey);
  t.equal(seen?.headers['x-crowdsec-appsec-extra'], undefined);
  t.equal(seen?.headers.cookie, 'theme=dark; lang=en');
  const up = (JSON.parse(res.body) as Upstreamed).headers;
  t.same(
    Object.keys(up).filter((h) => h.startsWith('x-crowdsec-appsec-')),
    [],
    'none upstream',
  );
});

t.test('engine slow, 500 or garbage: enforce applies the failure action (deny) with appsec_unavailable', async (t) => {
  for (const [fault, path, error] of [
    ['slow', '/slow', 'timeout'],
    ['status500', '/five-hundred', 'bad_status'],
    ['garbage', '/garbage', 'bad_answer'],
  ] as const) {
    if (fault === 'slow') engine.delayMs = 2500;
    else engine.fault = fault;
    const res = await httpGet(`${daemon.httpUrl}${path}`, { host: 'shop.example.com' });
    t.equal(res.status, 403, fault);
    t.match(await entryFor(daemon, path), { deny_reason: 'appsec_unavailable', metadata: { appsec_verdict: 'unavailable', appsec_error: error } }, fault);
    engine.fault = 'none';
    engine.delayMs = 0;
  }
  t.test('observe only annotates a failure', async (t) => {
    engine.fault = 'garbage';
    t.equal((await httpGet(`${daemon.httpUrl}/observed-garbage`, { host: 'blog.example.com' })).status, 200);
    t.match(await entryFor(daemon, '/observed-garbage'), { deny_reason: '', metadata: { appsec_verdict: 'unavailable', appsec_mode: 'observe' } });
  });
});

t.test('in-flight cap: over it, enforce applies the failure action without calling the engine', async (t) => {
  const d = await startDaemon({
    config: `services:\n${service('shop', upstream, '{ appsec: enforce }')}`,
    args: ['--appsec-url', engine.url, '--appsec-api-key', lapi.apiKey, '--appsec-max-inflight', '1', '--appsec-timeout', '5s'],
  });
  t.teardown(() => d.stop());
  engine.fault = 'hold';
  const first = httpGet(`${d.httpUrl}/held`, { host: 'shop.example.com' });
  await until('the engine holds one request', () => engine.held() === 1);
  const count = engine.seen.length;
  const second = await httpGet(`${d.httpUrl}/second`, { host: 'shop.example.com' });
  t.equal(second.status, 403);
  t.match(await entryFor(d, '/second'), { deny_reason: 'appsec_unavailable', metadata: { appsec_error: 'overloaded' } });
  t.equal(engine.seen.length, count, 'not sent');
  engine.fault = 'none';
  engine.release();
  t.equal((await first).status, 200, 'the held one is answered');
  t.equal((await httpGet(`${d.httpUrl}/after`, { host: 'shop.example.com' })).status, 200, 'the slot is free again');
});

t.test('WebSocket: the upgrade request is judged (headers only) before the upstream sees it', async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  let upgrades = 0;
  wss.on('connection', (ws) => {
    upgrades++;
    ws.on('message', (d) => ws.send(`echo:${d.toString()}`));
  });
  await new Promise((r) => wss.once('listening', r));
  const wsUpstream = { url: `http://127.0.0.1:${(wss.address() as AddressInfo).port}` } as HttpUpstream;
  const d = await startDaemon({
    config: `services:\n${service('chat', wsUpstream, '{ appsec: enforce }')}`,
    args: ['--appsec-url', engine.url, '--appsec-api-key', lapi.apiKey],
  });
  t.teardown(async () => {
    await d.stop();
    await new Promise((r) => wss.close(r));
  });
  const echoed = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${d.httpPort}/chat`, { headers: { host: 'chat.example.com' } });
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (m) => {
      resolve(m.toString());
      ws.close();
    });
    ws.on('error', reject);
  });
  t.equal(echoed, 'echo:hi');
  t.match(engine.seen.at(-1)?.headers, { 'x-crowdsec-appsec-uri': '/chat', 'x-crowdsec-appsec-verb': 'GET', upgrade: undefined });
  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${d.httpPort}/.env`, { headers: { host: 'chat.example.com' } });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('error', () => resolve(-1));
  });
  t.equal(status, 403);
  t.equal(upgrades, 1, 'the refused upgrade never reached the upstream');
  t.match(await d.waitFor((l) => l.msg === 'access' && l.path === '/.env'), { status: 403, deny_reason: 'appsec_ban' });
});

t.test('a key the LAPI refuses: the engine answers 401, the proxy logs the fix and denies (failure action deny)', async (t) => {
  const d = await startDaemon({
    config: `services:\n${service('shop', upstream, '{ appsec: enforce }')}`,
    args: ['--appsec-url', engine.url, '--appsec-api-key', 'not-a-bouncer-key'],
  });
  t.teardown(() => d.stop());
  const before = engine.unauthorized;
  const res = await httpGet(`${d.httpUrl}/page`, { host: 'shop.example.com' });
  t.equal(res.status, 403);
  t.equal(engine.unauthorized, before + 1, 'refused by the engine after asking the LAPI');
  t.match(await entryFor(d, '/page'), { deny_reason: 'appsec_unavailable', metadata: { appsec_error: 'unauthorized' } });
  const line = await d.waitFor((l) => typeof l.msg === 'string' && l.msg.includes('refused the API key'), 5000, '401 log line');
  t.match(line.msg, /--appsec-api-key/);
  t.notMatch(d.output(), /not-a-bouncer-key/, 'the key is never logged');
  await httpGet(`${d.httpUrl}/again`, { host: 'shop.example.com' });
  await entryFor(d, '/again');
  t.equal(d.lines.filter((l) => typeof l.msg === 'string' && l.msg.includes('refused the API key')).length, 1, 'logged once per minute');
});

t.test('engine down: deny by default, allow with --appsec-failure-action allow', async (t) => {
  const dead = `http://127.0.0.1:${await freePort()}/`;
  for (const action of ['deny', 'allow'] as const) {
    const d = await startDaemon({
      config: `services:\n${service('shop', upstream, '{ appsec: enforce }')}`,
      args: ['--appsec-url', dead, '--appsec-api-key', lapi.apiKey, '--appsec-failure-action', action],
    });
    const res = await httpGet(`${d.httpUrl}/down`, { host: 'shop.example.com' });
    t.equal(res.status, action === 'deny' ? 403 : 200, action);
    t.match(
      await entryFor(d, '/down'),
      { deny_reason: action === 'deny' ? 'appsec_unavailable' : '', metadata: { appsec_verdict: 'unavailable', appsec_error: 'unreachable' } },
      action,
    );
    await d.stop();
  }
});

t.test('the engine caches a valid key for a minute, like the real one', async (t) => {
  t.ok(engine.lapiChecks >= 1);
  t.ok(engine.lapiChecks < engine.seen.length, 'not one LAPI call per request');
});

t.test('/capabilities says supports_appsec; /status shows the engine and the services using it', async (t) => {
  t.match(JSON.parse((await httpGet(`${daemon.adminUrl}/capabilities`)).body), { supports_crowdsec: true, supports_appsec: true });
  const status = JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as { appsec: Record<string, unknown> };
  t.same(status.appsec, {
    configured: true,
    url: new URL(engine.url).origin,
    failure_action: 'deny',
    timeout_ms: 1000,
    max_body: CAP,
    in_flight: 0,
    max_inflight: 256,
    services: [
      { service: 'shop', mode: 'enforce', skip_paths: [] },
      { service: 'blog', mode: 'observe', skip_paths: [] },
      { service: 'files', mode: 'enforce', skip_paths: ['/upload/'] },
    ],
  });
  t.notMatch(JSON.stringify(status), lapi.apiKey, 'never the key');
});

t.test('--workers 2: every worker asks the engine; observed AppSec entries reach the primary event log under appsec_ban', async (t) => {
  const d = await startDaemon({
    config: `services:\n${service('blog', upstream, '{ appsec: observe }')}`,
    args: ['--workers', '2', '--appsec-url', engine.url, '--appsec-api-key', lapi.apiKey],
    waitReady: false,
  });
  await d.waitFor((l) => l.msg === 'netbird-proxy listening', 90_000, 'the group listening');
  t.teardown(async () => {
    d.child.kill('SIGTERM');
    await d.exited;
  });
  const workers = new Set<unknown>();
  let n = 0;
  await until(
    'observed entries from both workers',
    async () => {
      const path = `/.env?try=${++n}`;
      t.equal((await httpGet(`${d.httpUrl}${path}`, { host: 'blog.example.com' })).status, 200);
      const entry = await entryFor(d, path);
      t.match(entry, { metadata: { appsec_verdict: 'ban', appsec_mode: 'observe' } });
      workers.add(entry.worker);
      return workers.size === 2;
    },
    60_000,
    50,
  );
  type Row = { outcome: string; appsec_verdict: string };
  let rows: Row[] = [];
  // The workers' entries reach the primary's event log in batches.
  await until('every entry in the event log', async () => {
    rows = (JSON.parse((await httpGet(`${d.adminUrl}/api/events?reason=appsec_ban`)).body) as { events: Row[] }).events;
    return rows.length === n;
  });
  t.equal(rows.length, n, 'every one filed under appsec_ban');
  t.ok(
    rows.every((e) => e.outcome === 'observed' && e.appsec_verdict === 'ban'),
    'as observed',
  );
});

t.test("the action decides, not the status code; the page shows the engine's http_status; a redirect stays a redirect", async (t) => {
  // An engine configured with bouncer_blocked_http_code 200 and user_blocked_http_code 451.
  const odd = await startAppSecEngine({ lapiUrl: lapi.url, blockedStatus: 200, userBlockedStatus: 451 });
  const d = await startDaemon({
    config: `services:\n${service('shop', upstream, '{ appsec: enforce }')}${service('away', upstream, '{ appsec: enforce }\n    deny: { redirect: "https://example.com/blocked" }')}`,
    args: ['--appsec-url', odd.url, '--appsec-api-key', lapi.apiKey],
  });
  t.teardown(async () => {
    await d.stop();
    await odd.close();
  });
  const res = await httpGet(`${d.httpUrl}/.env`, { host: 'shop.example.com', headers: { accept: BROWSER } });
  t.equal(res.status, 451, 'a 200 from the engine with action ban is a denial, shown with its http_status');
  t.match(res.body, /Access denied/);
  t.match(await entryFor(d, '/.env'), { status: 451, deny_reason: 'appsec_ban' });
  const away = await httpGet(`${d.httpUrl}/.git/config`, { host: 'away.example.com' });
  t.equal(away.status, 302);
  t.equal(away.headers.location, 'https://example.com/blocked');
});
