// The admin JSON API over plain HTTP against the real binary: authentication, CSRF and Origin
// checks, the services.yaml editor (validation, comments, concurrent edits), event filters.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { startDaemon, runBinary, type Daemon } from '../harness/daemon';
import { httpGet, type HttpResult } from '../harness/clients';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';
import { freePort } from '../harness/ports';

const TOKEN = 'api-test-token-abcdef0123456789';
// CrowdSec counts as configured; nothing listens on port 1, so the bouncer just keeps retrying.
// These tests are about the admin API, not about CrowdSec.
const CROWDSEC_ARGS = ['--crowdsec-api-url', 'http://127.0.0.1:1', '--crowdsec-api-key', 'unused'];

const config = (upstream: HttpUpstream): string => `# top comment
services:
  - name: app   # the app
    protocol: http
    domains: [app.example.com]
    target: ${upstream.url}
    access: { crowdsec: observe }  # flow style

  - name: api
    protocol: http
    domains: [api.example.com]
    target: ${upstream.url}
    # no access section yet
`;

function admin(d: Daemon, path: string, opts: { method?: string; headers?: Record<string, string>; body?: unknown } = {}): Promise<HttpResult> {
  return httpGet(`${d.adminUrl}${path}`, {
    method: opts.method,
    headers: { ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
}

const json = (r: HttpResult): Record<string, unknown> => JSON.parse(r.body) as Record<string, unknown>;

t.test('with --admin-token', async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({ config: config(upstream), args: ['--admin-token', TOKEN, ...CROWDSEC_ARGS] });
  t.teardown(async () => {
    await d.stop();
    await upstream.close();
  });
  const bearer = { authorization: `Bearer ${TOKEN}` };

  await t.test('probes stay open; everything else needs the token', async (t) => {
    t.equal((await admin(d, '/healthz')).status, 200);
    t.equal((await admin(d, '/metrics')).status, 200);
    t.not((await admin(d, '/readyz')).status, 401);
    for (const path of ['/api/events', '/api/services', '/api/session', '/status', '/capabilities']) {
      const res = await admin(d, path);
      t.equal(res.status, 401, `${path} without a token`);
      t.match(res.headers['www-authenticate'], /Bearer/);
    }
    t.equal((await admin(d, '/api/events', { headers: { authorization: 'Bearer wrong-token-wrong-token' } })).status, 401, 'a wrong bearer token');
    t.equal((await admin(d, '/api/events', { headers: bearer })).status, 200);
    t.equal((await admin(d, '/status', { headers: bearer })).status, 200);
    const page = await admin(d, '/');
    t.equal(page.status, 303, 'the page redirects to the login form');
    t.equal(page.headers.location, '/login');
    t.notOk(d.output().includes(TOKEN), 'the token is never logged');
  });

  await t.test('login sets an HttpOnly SameSite=Strict cookie; mutations by cookie need CSRF and Origin', async (t) => {
    const bad = await admin(d, '/login', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'token=nope' });
    t.equal(bad.status, 401);
    t.notOk(bad.headers['set-cookie']);
    const login = await admin(d, '/login', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(TOKEN)}`,
    });
    t.equal(login.status, 303);
    const setCookie = String(login.headers['set-cookie']);
    t.match(setCookie, /^nbp_session=[^;]+; Path=\/; HttpOnly; SameSite=Strict/);
    t.notOk(setCookie.includes(TOKEN), 'the cookie is not the token');
    const cookie = setCookie.split(';')[0] ?? '';
    const session = await admin(d, '/api/session', { headers: { cookie } });
    t.equal(session.status, 200);
    const csrf = String(json(session).csrf_token);
    const origin = d.adminUrl;

    const put = (headers: Record<string, string>) =>
      admin(d, '/api/services/app/crowdsec', { method: 'PUT', headers: { cookie, ...headers }, body: { mode: 'observe' } });
    const noCsrf = await put({ origin });
    t.equal(noCsrf.status, 403, 'no CSRF header');
    t.match(json(noCsrf).error, /x-csrf-token/);
    t.equal((await put({ origin, 'x-csrf-token': 'forged' })).status, 403, 'a wrong CSRF token');
    const crossOrigin = await put({ origin: 'http://evil.example', 'x-csrf-token': csrf });
    t.equal(crossOrigin.status, 403, 'another Origin');
    t.match(json(crossOrigin).error, /cross-origin/);
    t.equal((await put({ origin, 'x-csrf-token': csrf })).status, 200, 'same origin with the CSRF token');
    const crossLogin = await admin(d, '/login', {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${TOKEN}`,
    });
    t.equal(crossLogin.status, 403, 'a login form posted from another origin');
  });

  await t.test('a script with the bearer token needs no CSRF header', async (t) => {
    const res = await admin(d, '/api/services/app/crowdsec', { method: 'PUT', headers: bearer, body: { mode: 'observe' } });
    t.equal(res.status, 200);
    t.match(json(res), { service: 'app', mode: 'observe', changed: false });
  });
});

t.test('services.yaml edits', async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({ config: config(upstream), args: CROWDSEC_ARGS });
  t.teardown(async () => {
    await d.stop();
    await upstream.close();
  });
  const csrf = String(json(await admin(d, '/api/session')).csrf_token);
  const put = (name: string, body: unknown, headers: Record<string, string> = {}) =>
    admin(d, `/api/services/${name}/crowdsec`, { method: 'PUT', headers: { 'x-csrf-token': csrf, ...headers }, body });
  const services = async () =>
    json(await admin(d, '/api/services')) as { version: string; supports_crowdsec: boolean; services: { name: string; access: { crowdsec: string } }[] };

  await t.test('GET /api/services', async (t) => {
    const s = await services();
    t.equal(s.supports_crowdsec, true);
    t.match(s.services, [
      { name: 'app', access: { crowdsec: 'observe' } },
      { name: 'api', access: { crowdsec: 'off' } },
    ]);
    t.match(s.version, /^[0-9a-f]{16}$/);
  });

  await t.test('a change rewrites only the value, keeps comments, and is applied', async (t) => {
    const before = readFileSync(d.configPath, 'utf8');
    const { version } = await services();
    const res = await put('app', { mode: 'enforce', version });
    t.equal(res.status, 200, res.body);
    t.equal(readFileSync(d.configPath, 'utf8'), before.replace('{ crowdsec: observe }', '{ crowdsec: enforce }'), 'byte-for-byte the same elsewhere');
    t.match(await services(), { services: [{ name: 'app', access: { crowdsec: 'enforce' } }] }, 'the running config has it');
    await d.waitFor((l) => l.msg === 'config reloaded' && l.reason === 'admin UI', 5000, 'reload line');
  });

  await t.test('a service without an access section gets one; comments stay', async (t) => {
    const { version } = await services();
    const res = await put('api', { mode: 'observe' }, { 'if-match': `"${version}"` });
    t.equal(res.status, 200, res.body);
    const text = readFileSync(d.configPath, 'utf8');
    t.match(text, /# top comment/);
    t.match(text, /- name: app {3}# the app/);
    t.match(text, /# no access section yet/);
    t.match(await services(), { services: [{}, { name: 'api', access: { crowdsec: 'observe' } }] });
  });

  await t.test('a file changed on disk since the page loaded is not overwritten', async (t) => {
    const { version } = await services();
    const edited = readFileSync(d.configPath, 'utf8').replace('# top comment', '# top comment, edited by hand');
    writeFileSync(d.configPath, edited);
    const res = await put('app', { mode: 'off', version });
    t.equal(res.status, 409);
    t.match(json(res).error, /changed on disk since this page was loaded; nothing was written/);
    t.equal(readFileSync(d.configPath, 'utf8'), edited, 'the hand edit is intact');
    const stale = await put('app', { mode: 'off' }, { 'if-match': version });
    t.equal(stale.status, 409, 'If-Match works the same');
  });

  await t.test('bad requests are refused with a clear message', async (t) => {
    t.equal((await put('nope', { mode: 'off' })).status, 404);
    const badMode = await put('app', { mode: 'block' });
    t.equal(badMode.status, 400);
    t.match(json(badMode).error, /mode must be one of off, enforce, observe/);
    t.equal((await put('app', 'not json')).status, 400);
    t.equal((await admin(d, '/api/services/app/crowdsec', { method: 'POST', headers: { 'x-csrf-token': csrf }, body: { mode: 'off' } })).status, 405);
  });

  await t.test('an invalid file on disk is reported, not made worse', async (t) => {
    const broken = readFileSync(d.configPath, 'utf8').replace('protocol: http', 'protocol: htp');
    writeFileSync(d.configPath, broken);
    const res = await put('app', { mode: 'off' });
    t.equal(res.status, 422);
    t.match(json(res).error, /services\[0\]|service app|protocol/);
    t.equal(readFileSync(d.configPath, 'utf8'), broken);
  });
});

t.test('without CrowdSec, enforce is refused with the hint', async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({ config: `services:\n  - name: app\n    protocol: http\n    domains: [app.example.com]\n    target: ${upstream.url}\n` });
  t.teardown(async () => {
    await d.stop();
    await upstream.close();
  });
  const csrf = String(json(await admin(d, '/api/session')).csrf_token);
  const res = await admin(d, '/api/services/app/crowdsec', { method: 'PUT', headers: { 'x-csrf-token': csrf }, body: { mode: 'enforce' } });
  t.equal(res.status, 422);
  t.match(json(res).error, /--crowdsec-api-url/);
  t.match(json(await admin(d, '/api/services')), { supports_crowdsec: false, crowdsec_hint: /CrowdSec is not configured/ });
  const rebinding = await httpGet(`${d.adminUrl}/api/events`, { headers: { host: `attacker.example:${d.adminPort}` } });
  t.equal(rebinding.status, 403, 'without a token, a non-loopback Host (DNS rebinding) is refused');
});

t.test('event API filters', async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({
    config: `services:\n  - name: a\n    protocol: http\n    domains: [a.example.com]\n    target: ${upstream.url}\n    access: { cidr: { deny: [127.0.0.9] } }\n  - name: b\n    protocol: http\n    domains: [b.example.com]\n    target: ${upstream.url}\n`,
    args: ['--event-log-size', '5'],
  });
  t.teardown(async () => {
    await d.stop();
    await upstream.close();
  });
  for (let i = 1; i <= 7; i++) {
    await httpGet(`${d.httpUrl}/r${i}`, { host: i % 2 === 0 ? 'b.example.com' : 'a.example.com', from: i === 7 ? '127.0.0.9' : `127.0.1.${i}` });
  }
  await d.waitFor((l) => l.msg === 'access' && l.path === '/r7', 5000, 'last access line');
  const events = async (q: string) => json(await admin(d, `/api/events${q}`)) as { held: number; capacity: number; events: { path: string; seq: number }[] };
  const all = await events('');
  t.equal(all.capacity, 5);
  t.same(
    all.events.map((e) => e.path),
    ['/r7', '/r6', '/r5', '/r4', '/r3'],
    'the ring keeps the last 5, newest first',
  );
  t.same(
    (await events('?service=b')).events.map((e) => e.path),
    ['/r6', '/r4'],
  );
  t.same(
    (await events('?outcome=denied')).events.map((e) => e.path),
    ['/r7'],
  );
  t.same(
    (await events('?reason=ip_restricted')).events.map((e) => e.path),
    ['/r7'],
  );
  t.same(
    (await events('?ip=127.0.1.0/30')).events.map((e) => e.path),
    ['/r3'],
  );
  t.same(
    (await events('?limit=2')).events.map((e) => e.path),
    ['/r7', '/r6'],
  );
  t.same((await events('?since=1h')).events.length, 5);
  t.same((await events(`?until=${encodeURIComponent(new Date(Date.now() - 3_600_000).toISOString())}`)).events.length, 0);
  const bad = await admin(d, '/api/events?ip=not-an-ip');
  t.equal(bad.status, 400);
  t.match(json(bad).error, /^ip: "not-an-ip" is not an IP address or CIDR prefix/);
  t.match(json(await admin(d, '/api/services')), {
    services: [
      { name: 'a', counters: { allowed: 3, observed: 0, denied: { ip_restricted: 1 } } },
      { name: 'b', counters: { allowed: 3 } },
    ],
  });
});

t.test('--event-log-size 0 turns the event log off', async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({ config: `services: []\n`, args: ['--event-log-size', '0'] });
  t.teardown(async () => {
    await d.stop();
    await upstream.close();
  });
  const res = await admin(d, '/api/events');
  t.equal(res.status, 404);
  t.match(json(res).error, /disabled/);
});

t.test('a non-loopback admin address without a token refuses to start', async (t) => {
  const port = await freePort();
  const r = await runBinary(['--config', '/nonexistent.yaml', '--admin-addr', `0.0.0.0:${port}`, '--env-file', '/dev/null']);
  t.equal(r.code, 2);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, 'one line');
  t.match(lines[0], /--admin-addr 0\.0\.0\.0:\d+ is not a loopback address: set --admin-token \/ NB_PROXY_ADMIN_TOKEN/);
  const short = await runBinary(['--config', '/nonexistent.yaml', '--admin-token', 'short', '--env-file', '/dev/null']);
  t.equal(short.code, 2);
  t.match(short.stderr, /--admin-token \/ NB_PROXY_ADMIN_TOKEN: must be at least 16 characters/);
});

t.test('the event stream: batched SSE, filtered, carrying the access-log lines', async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({
    config: `services:\n  - name: a\n    protocol: http\n    domains: [a.example.com]\n    target: ${upstream.url}\n    access: { cidr: { deny: [127.0.0.9] } }\n`,
  });
  const http = await import('node:http');
  let text = '';
  const req = http.get(`${d.adminUrl}/api/events/stream?outcome=denied`, (res) => {
    t.equal(res.headers['content-type'], 'text/event-stream; charset=utf-8');
    res.setEncoding('utf8').on('data', (c: string) => (text += c));
  });
  t.teardown(async () => {
    req.destroy();
    await d.stop();
    await upstream.close();
  });
  const deadline = Date.now() + 5000;
  while (!text.includes('retry:') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await httpGet(`${d.httpUrl}/allowed`, { host: 'a.example.com' });
  await httpGet(`${d.httpUrl}/denied-1`, { host: 'a.example.com', from: '127.0.0.9' });
  await httpGet(`${d.httpUrl}/denied-2`, { host: 'a.example.com', from: '127.0.0.9' });
  const line2 = await d.waitFor((l) => l.msg === 'access' && l.path === '/denied-2', 5000, 'access line');
  while (!text.includes('/denied-2') && Date.now() < deadline + 5000) await new Promise((r) => setTimeout(r, 20));
  const data = text.split('\n').filter((l) => l.startsWith('data: '));
  t.equal(data.length, 2, 'only the denied requests');
  t.match(text, /\nid: 3\nevent: events\ndata: 2 \{/, 'one message for the batch, id = newest sequence');
  const [seq, json] = [data[1]!.slice(6, data[1]!.indexOf(' ', 6)), data[1]!.slice(data[1]!.indexOf(' ', 6) + 1)];
  t.equal(seq, '3');
  t.same(JSON.parse(json), line2, 'the data is the access-log line as written');
  t.notOk(text.includes('/allowed'));

  // A reconnecting browser sends Last-Event-ID and gets what it missed.
  const replay = await new Promise<string>((resolve) => {
    let got = '';
    const r = http.get(`${d.adminUrl}/api/events/stream`, { headers: { 'last-event-id': '1' } }, (res) => {
      res.setEncoding('utf8').on('data', (c: string) => {
        got += c;
        if (got.includes('/denied-2')) {
          r.destroy();
          resolve(got);
        }
      });
    });
  });
  t.same(
    replay
      .split('\n')
      .filter((l) => l.startsWith('data: '))
      .map((l) => l.split(' ')[1]),
    ['2', '3'],
    'replays after seq 1, oldest first',
  );
});
