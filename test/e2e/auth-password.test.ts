// Per-service login with a password, a PIN or a static header (docs/auth.md), through the real
// binary with real HTTP and WebSocket clients: the auth layer comes after the restriction chain,
// sessions are signed cookies any instance with the secret accepts, logout revokes, failures are
// limited per client and logged with auth_success: false, identity headers never come from clients.
import t from 'tap';
import { execFile } from 'node:child_process';
import { statSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import type { AddressInfo } from 'node:net';
import { hashSecret } from '../../src/auth/secret-hash';
import { compileAuth, sessionScope } from '../../src/auth/service';
import { signSession } from '../../src/auth/token';
import { DEFAULT_IDENTITY_HEADERS } from '../../src/auth/types';
import { httpGet, until, type HttpResult } from '../harness/clients';
import { runBinary, startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { freePort } from '../harness/ports';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const SECRET = 'a-shared-session-secret-of-at-least-32-chars';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const LOGIN = '/.netbird-proxy/auth/login';

function config(upstream: HttpUpstream, wsPort: number, passwordHash: string, pinHash: string, tokenFile: string): string {
  return `services:
  - name: web
    protocol: http
    domains: [web.example.com]
    target: ${upstream.url}
    access: { cidr: { deny: [127.0.0.2] } }
    auth:
      password: { hash: "${passwordHash}" }
      session: 1h
  - name: pin
    protocol: http
    domains: [pin.example.com]
    target: ${upstream.url}
    auth: { pin: { hash: "${pinHash}", length: 4 } }
  - name: api
    protocol: http
    domains: [api.example.com]
    target: ${upstream.url}
    auth: { header: { name: Authorization, value_file: ${tokenFile} } }
  - name: chat
    protocol: http
    domains: [chat.example.com]
    target: http://127.0.0.1:${wsPort}
    auth: { password: { hash: "${passwordHash}" } }
  - name: open
    protocol: http
    domains: [open.example.com]
    target: ${upstream.url}
`;
}

function cookieOf(res: HttpResult): string {
  const set = res.headers['set-cookie']?.find((c) => c.startsWith('nbp_session='));
  if (set === undefined) throw new Error(`no session cookie in ${JSON.stringify(res.headers)}`);
  return set.split(';')[0];
}

function seen(body: string): Record<string, string | undefined> {
  return (JSON.parse(body) as { headers: Record<string, string | undefined> }).headers;
}

function entryFor(daemon: Daemon, path: string, from?: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && l.path === path && (from === undefined || l.client_ip === from), 5000, `access entry for ${path}`);
}

function login(daemon: Daemon, host: string, body: string, from?: string): Promise<HttpResult> {
  return httpGet(`${daemon.httpUrl}${LOGIN}`, { host, method: 'POST', headers: FORM, body, from });
}

t.test('password, PIN and header auth', async (t) => {
  const upstream = await startHttpUpstream();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws, req) => ws.send(JSON.stringify({ cookie: req.headers.cookie ?? null })));
  await new Promise((r) => wss.once('listening', r));
  const wsPort = (wss.address() as AddressInfo).port;
  const passwordHash = await hashSecret('correct horse');
  const pinHash = await hashSecret('4321');
  const daemon = await startDaemon({ config: 'services: []\n', env: { NB_PROXY_SESSION_SECRET: SECRET } });
  const tokenFile = join(daemon.dir, 'bearer');
  writeFileSync(tokenFile, 'Bearer s3cr3t-machine-token\n');
  daemon.writeConfig(config(upstream, wsPort, passwordHash, pinHash, tokenFile));
  daemon.signal('SIGHUP');
  await daemon.waitFor((l) => l.msg === 'config reloaded' && l.services === 5, 10_000, 'reload with five services');
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    wss.close();
  });
  const web = { host: 'web.example.com' };
  let session = '';
  // What the proxy signs this configuration's sessions for (the service and its credential).
  const headers = DEFAULT_IDENTITY_HEADERS;
  const webScope = sessionScope('web', compileAuth({ credential: { method: 'password', hash: passwordHash }, sessionMs: 3600_000, headers }));
  const pinScope = sessionScope('pin', compileAuth({ credential: { method: 'pin', hash: pinHash, length: 4 }, sessionMs: 3600_000, headers }));

  await t.test('a browser without a session is sent to the login page; other clients get 401; nothing reaches the upstream', async (t) => {
    const before = upstream.requests.length;
    const nav = await httpGet(`${daemon.httpUrl}/app?x=1`, { ...web, headers: { accept: BROWSER } });
    t.equal(nav.status, 302);
    t.equal(nav.headers.location, `${LOGIN}?rd=%2Fapp%3Fx%3D1`);
    const api = await httpGet(`${daemon.httpUrl}/data`, web);
    t.equal(api.status, 401);
    t.equal(upstream.requests.length, before, 'the upstream saw neither');
    const entry = await entryFor(daemon, '/data');
    t.equal(entry.auth_mechanism, 'password');
    t.notOk('auth_success' in entry, 'no credential presented: no auth_success');
    const page = await httpGet(`${daemon.httpUrl}${LOGIN}?rd=%2Fapp`, { ...web, headers: { accept: BROWSER } });
    t.equal(page.status, 200);
    // The return path rides in the action too: the proxy picks the login (the service's or a route's) before reading the form.
    t.match(page.body, /<form method="post" action="\/\.netbird-proxy\/auth\/login\?rd=%2Fapp">/);
    t.match(page.body, /name="password" type="password"/);
    t.match(page.body, /name="rd" value="\/app"/);
  });

  await t.test('a client the CIDR rules refuse never gets the login page', async (t) => {
    const page = await httpGet(`${daemon.httpUrl}${LOGIN}`, { ...web, from: '127.0.0.2', headers: { accept: BROWSER } });
    t.equal(page.status, 403);
    t.match(page.body, /Access denied/);
    t.notMatch(page.body, /<form/);
    const post = await login(daemon, 'web.example.com', 'password=correct+horse', '127.0.0.2');
    t.equal(post.status, 403);
    t.equal(post.headers['set-cookie'], undefined, 'no session for a refused client, even with the right password');
  });

  await t.test('a wrong password is refused and logged with auth_success: false', async (t) => {
    const res = await login(daemon, 'web.example.com', 'password=wrong&rd=%2F', '127.0.0.4');
    t.equal(res.status, 401);
    t.match(res.body, /Wrong password/);
    t.equal(res.headers['set-cookie'], undefined);
    const entry = await entryFor(daemon, LOGIN, '127.0.0.4');
    t.match(entry, { auth_mechanism: 'password', auth_success: false, status: 401 });
  });

  await t.test('the right password gives a signed HttpOnly SameSite=Lax cookie and back to where the user was going', async (t) => {
    const res = await login(daemon, 'web.example.com', 'password=correct+horse&rd=%2Fapp%3Fx%3D1');
    t.equal(res.status, 303);
    t.equal(res.headers.location, '/app?x=1');
    const set = res.headers['set-cookie']?.[0] ?? '';
    t.match(set, /^nbp_session=v1\.[^;]+; Path=\/; Max-Age=3600; HttpOnly; SameSite=Lax$/, 'no Secure on plain http');
    session = cookieOf(res);
    const ok = await httpGet(`${daemon.httpUrl}/app`, { ...web, headers: { cookie: `theme=dark; ${session}`, 'x-auth-user': 'admin' } });
    t.equal(ok.status, 200);
    const headers = seen(ok.body);
    t.equal(headers.cookie, 'theme=dark', "the session cookie is not forwarded, the app's own cookies are");
    t.equal(headers['x-auth-user'], undefined, 'a client-sent X-Auth-User is stripped');
    t.match(await entryFor(daemon, '/app'), { auth_mechanism: 'password', auth_success: true, status: 200 });
  });

  await t.test('an open redirect through rd is not possible', async (t) => {
    for (const rd of ['https://evil.example', '//evil.example/x', '/\\evil.example']) {
      const res = await login(daemon, 'web.example.com', `password=correct+horse&rd=${encodeURIComponent(rd)}`, '127.0.0.5');
      t.equal(res.headers.location, '/', rd);
    }
  });

  await t.test('tampered, expired, foreign-service and other-secret cookies are refused', async (t) => {
    const value = session.slice('nbp_session='.length);
    const parts = value.split('.');
    const forgedIdentity = Buffer.from(JSON.stringify({ u: 'admin', e: '', g: ['admins'] })).toString('base64url');
    const tampered = [parts[0], parts[1], parts[2], forgedIdentity, parts[4]].join('.');
    const longer = [parts[0], parts[1], String(Number(parts[2]) + 86400), parts[3], parts[4]].join('.');
    const expired = signSession(Buffer.from(SECRET), webScope, { id: 'x', expiresMs: Date.now() - 1000, identity: { user: '', email: '', groups: [] } });
    const otherService = signSession(Buffer.from(SECRET), pinScope, { id: 'y', expiresMs: Date.now() + 60_000, identity: { user: '', email: '', groups: [] } });
    const otherSecret = signSession(Buffer.from('another-secret-another-secret-another'), webScope, {
      id: 'z',
      expiresMs: Date.now() + 60_000,
      identity: { user: '', email: '', groups: [] },
    });
    for (const [what, v] of Object.entries({ tampered, longer, expired, otherService, otherSecret })) {
      const res = await httpGet(`${daemon.httpUrl}/t-${what}`, { ...web, headers: { cookie: `nbp_session=${v}` } });
      t.equal(res.status, 401, what);
      t.match(await entryFor(daemon, `/t-${what}`), { auth_mechanism: 'password', auth_success: false });
    }
    const good = signSession(Buffer.from(SECRET), webScope, { id: 'w', expiresMs: Date.now() + 60_000, identity: { user: '', email: '', groups: [] } });
    t.equal(
      (await httpGet(`${daemon.httpUrl}/t-good`, { ...web, headers: { cookie: `nbp_session=${good}` } })).status,
      200,
      'the same secret signs valid ones',
    );
  });

  await t.test('bad input on the auth path gets a clear answer and the proxy carries on', async (t) => {
    t.equal((await login(daemon, 'web.example.com', `password=${'x'.repeat(9000)}`, '127.0.0.12')).status, 413, 'an oversized form');
    for (const cookie of [`nbp_session=${'A'.repeat(9000)}`, 'nbp_session=v1.%%%.x.y.z', 'nbp_session=v1....', 'nbp_session', 'nbp_session=;;;=']) {
      t.equal((await httpGet(`${daemon.httpUrl}/odd`, { ...web, headers: { cookie } })).status, 401, cookie.slice(0, 30));
    }
    const odd = await httpGet(`${daemon.httpUrl}${LOGIN}?rd=%E0%A4%A&rd=x`, { ...web, headers: { accept: BROWSER } });
    t.equal(odd.status, 200);
    t.match(odd.body, /name="rd" value="\/"/, 'an undecodable return path becomes /');
    t.equal((await httpGet(`${daemon.httpUrl}${LOGIN}`, { ...web, method: 'PUT' })).status, 405);
    t.equal(daemon.child.exitCode, null, 'still running');
  });

  await t.test('the reserved path is never forwarded', async (t) => {
    const before = upstream.requests.length;
    const res = await httpGet(`${daemon.httpUrl}/.netbird-proxy/auth/anything`, { ...web, headers: { cookie: session } });
    t.equal(res.status, 404);
    t.equal(upstream.requests.length, before);
  });

  await t.test('WebSocket upgrades need the session; the cookie does not reach the upstream', async (t) => {
    const refused = await new Promise<number>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}/ws`, { headers: { host: 'chat.example.com' } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => undefined);
    });
    t.equal(refused, 401);
    const chat = await login(daemon, 'chat.example.com', 'password=correct+horse');
    const cookie = cookieOf(chat);
    const message = await new Promise<string>((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}/ws`, { headers: { host: 'chat.example.com', cookie: `${cookie}; app=1` } });
      ws.on('message', (data: Buffer) => {
        resolve(data.toString());
        ws.close();
      });
      ws.on('error', reject);
    });
    t.same(JSON.parse(message), { cookie: 'app=1' });
  });

  await t.test('logout revokes the session', async (t) => {
    t.equal((await httpGet(`${daemon.httpUrl}/before-logout`, { ...web, headers: { cookie: session } })).status, 200);
    const out = await httpGet(`${daemon.httpUrl}/.netbird-proxy/auth/logout`, { ...web, method: 'POST', headers: { cookie: session, accept: BROWSER } });
    t.equal(out.status, 200);
    t.match(out.body, /Signed out/);
    t.match(out.headers['set-cookie']?.[0] ?? '', /^nbp_session=; Path=\/; Max-Age=0/);
    t.equal((await httpGet(`${daemon.httpUrl}/after-logout`, { ...web, headers: { cookie: session } })).status, 401, 'the old cookie no longer works');
  });

  await t.test('curl: log in with a cookie jar, reach the app, log out', async (t) => {
    const jar = join(daemon.dir, 'curl-jar');
    const base = `http://pin.example.com:${daemon.httpPort}`;
    // Asynchronous: the upstream answers from this process.
    const curl = (...args: string[]): Promise<string> =>
      new Promise((resolve, reject) => {
        const argv = [
          '-sS',
          '-m',
          '10',
          '-o',
          '/dev/null',
          '-w',
          '%{http_code}',
          '-b',
          jar,
          '-c',
          jar,
          '--resolve',
          `pin.example.com:${daemon.httpPort}:127.0.0.1`,
          ...args,
        ];
        execFile('curl', argv, { encoding: 'utf8' }, (err, stdout, stderr) => (err ? reject(new Error(`curl failed: ${stderr}`)) : resolve(stdout)));
      });
    t.equal(await curl(`${base}/curl`), '401');
    t.equal(await curl('-d', 'pin=4321&rd=/curl', `${base}${LOGIN}`), '303');
    t.equal(await curl(`${base}/curl`), '200');
    t.equal(await curl('-X', 'POST', `${base}/.netbird-proxy/auth/logout`), '200');
    t.equal(await curl(`${base}/curl`), '401', 'the jar holds no session any more');
  });

  await t.test('PIN login', async (t) => {
    const page = await httpGet(`${daemon.httpUrl}${LOGIN}`, { host: 'pin.example.com', headers: { accept: BROWSER } });
    t.match(page.body, /name="pin" type="password" inputmode="numeric" pattern="\[0-9\]\*" maxlength="4"/);
    t.equal((await login(daemon, 'pin.example.com', 'pin=1234', '127.0.0.6')).status, 401);
    const res = await login(daemon, 'pin.example.com', 'pin=4321');
    t.equal(res.status, 303);
    const ok = await httpGet(`${daemon.httpUrl}/p`, { host: 'pin.example.com', headers: { cookie: cookieOf(res) } });
    t.equal(ok.status, 200);
    t.match(await entryFor(daemon, '/p'), { auth_mechanism: 'pin', auth_success: true });
    t.equal((await httpGet(`${daemon.httpUrl}/p2`, { ...web, headers: { cookie: cookieOf(res) } })).status, 401, "a PIN session is not the password service's");
  });

  await t.test('header auth: compared to the file, removed before the upstream', async (t) => {
    const api = { host: 'api.example.com' };
    t.equal((await httpGet(`${daemon.httpUrl}/h0`, { ...api, headers: { accept: BROWSER } })).status, 401, 'no login page for machines');
    t.notOk('auth_success' in (await entryFor(daemon, '/h0')));
    t.equal((await httpGet(`${daemon.httpUrl}/h1`, { ...api, from: '127.0.0.7', headers: { authorization: 'Bearer nope' } })).status, 401);
    t.match(await entryFor(daemon, '/h1'), { auth_mechanism: 'header', auth_success: false });
    const ok = await httpGet(`${daemon.httpUrl}/h2`, { ...api, headers: { authorization: 'Bearer s3cr3t-machine-token' } });
    t.equal(ok.status, 200);
    t.equal(seen(ok.body).authorization, undefined, 'the credential stays at the proxy');
    t.match(await entryFor(daemon, '/h2'), { auth_mechanism: 'header', auth_success: true });
  });

  await t.test('identity headers from clients are stripped on services without auth too', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/o`, {
      host: 'open.example.com',
      headers: { 'x-auth-user': 'admin', 'x-auth-email': 'a@example.com', 'x-auth-groups': 'admins' },
    });
    const headers = seen(res.body);
    t.equal(headers['x-auth-user'], undefined);
    t.equal(headers['x-auth-email'], undefined);
    t.equal(headers['x-auth-groups'], undefined);
    t.notOk('auth_mechanism' in (await entryFor(daemon, '/o')), 'no auth fields for a service without auth');
  });

  await t.test('brute force: after 5 failures a client gets 429, even with the right password; others are unaffected', async (t) => {
    const from = '127.0.0.9';
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await login(daemon, 'web.example.com', `password=guess${i}`, from)).status);
    t.same(statuses, [401, 401, 401, 401, 429]);
    const blocked = await login(daemon, 'web.example.com', 'password=correct+horse', from);
    t.equal(blocked.status, 429);
    t.ok(Number(blocked.headers['retry-after']) > 0, 'Retry-After');
    t.equal(blocked.headers['set-cookie'], undefined);
    await until(
      'six access entries with auth_success: false',
      () => daemon.access().filter((l) => l.client_ip === from && l.auth_success === false).length === 6,
    );
    t.pass('each failure (and the refused attempt) is an access entry with auth_success: false');
    t.equal((await login(daemon, 'web.example.com', 'password=correct+horse', '127.0.0.10')).status, 303, 'another client logs in');
  });

  await t.test('a new password signs everyone out', async (t) => {
    const before = cookieOf(await login(daemon, 'web.example.com', 'password=correct+horse'));
    t.equal((await httpGet(`${daemon.httpUrl}/before-change`, { ...web, headers: { cookie: before } })).status, 200);
    daemon.writeConfig(config(upstream, wsPort, await hashSecret('battery staple'), pinHash, tokenFile));
    daemon.signal('SIGHUP');
    await until('the second reload', () => daemon.lines.filter((l) => l.msg === 'config reloaded').length === 2);
    t.equal((await httpGet(`${daemon.httpUrl}/after-change`, { ...web, headers: { cookie: before } })).status, 401, 'the old session is gone');
    t.equal((await login(daemon, 'web.example.com', 'password=battery+staple', '127.0.0.11')).status, 303, 'the new password works');
    t.equal((await login(daemon, 'web.example.com', 'password=correct+horse', '127.0.0.11')).status, 401, 'the old one does not');
  });

  await t.test('the admin event log carries the auth fields', async (t) => {
    const res = await httpGet(`${daemon.adminUrl}/api/events?service=web&ip=127.0.0.9`);
    t.equal(res.status, 200, res.body);
    const events = (JSON.parse(res.body) as { events: Record<string, unknown>[] }).events;
    t.ok(events.length >= 6);
    t.ok(events.every((e) => e.auth_mechanism === 'password' && e.auth_success === false));
  });
});

t.test('sessions from instance A are valid on instance B sharing the secret; a generated secret is 0600 in --cert-dir', async (t) => {
  const upstream = await startHttpUpstream();
  const hash = await hashSecret('pw');
  const yaml = `services:\n  - name: web\n    protocol: http\n    domains: [web.example.com]\n    target: ${upstream.url}\n    auth: { password: { hash: "${hash}" } }\n`;
  const a = await startDaemon({ config: yaml, env: { NB_PROXY_SESSION_SECRET: SECRET } });
  const secretFile = join(a.dir, 'shared-secret');
  writeFileSync(secretFile, `${SECRET}\n`);
  const b = await startDaemon({ config: yaml, args: ['--session-secret-file', secretFile] });
  const c = await startDaemon({ config: yaml });
  t.teardown(async () => {
    await Promise.all([a.stop(), b.stop(), c.stop()]);
    await upstream.close();
  });
  const res = await login(a, 'web.example.com', 'password=pw');
  const cookie = cookieOf(res);
  t.equal((await httpGet(`${b.httpUrl}/x`, { host: 'web.example.com', headers: { cookie } })).status, 200, 'B accepts A');
  t.equal((await httpGet(`${c.httpUrl}/x`, { host: 'web.example.com', headers: { cookie } })).status, 401, 'C (its own secret) does not');
  const generated = join(c.dir, 'certs', 'session-secret');
  t.equal(statSync(generated).mode & 0o777, 0o600);
  t.match(readFileSync(generated, 'utf8'), /^[0-9a-f]{64}\n$/);
  t.notOk(c.output().includes(readFileSync(generated, 'utf8').trim()), 'the secret is never logged');
  writeFileSync(join(a.dir, 'services.yaml'), yaml);
  const short = await runBinary(
    [
      '--config',
      join(a.dir, 'services.yaml'),
      '--http-addr',
      `127.0.0.1:${await freePort()}`,
      '--admin-addr',
      `127.0.0.1:${await freePort()}`,
      '--proxy-env',
      '/dev/null',
    ],
    {
      NB_PROXY_SESSION_SECRET: 'too-short-a-secret',
    },
  );
  t.equal(short.code, 2);
  t.match(
    short.stderr,
    /services\.yaml: a service has auth, but --session-secret \/ NB_PROXY_SESSION_SECRET: the session secret must be at least 32 characters/,
  );
  t.notMatch(short.stderr + short.stdout, /too-short-a-secret/, 'not even a bad secret is shown');
});
