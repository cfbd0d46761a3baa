// `auth` per route (issue 23) through the real binary: a /admin/ route with a password on an
// otherwise open service, a header-guarded /api/ route, and on a service with a password a route
// that is open (auth: off) and one with a password of its own. A route's sessions are its own
// (their own cookie, signed for the route), and the proxy's pages act for the route they return to.
// WebSocket upgrades take the route's login too. One process and --workers 2.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import WebSocket, { WebSocketServer } from 'ws';
import { hashSecret } from '../../src/auth/secret-hash';
import { httpGet, type HttpResult } from '../harness/clients';
import { runBinary, startDaemon } from '../harness/daemon';
import { startHttpUpstream } from '../harness/upstreams';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';
const SECRET = 'a-shared-session-secret-of-at-least-32-chars';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const LOGIN = '/.netbird-proxy/auth/login';

/** `name=value` of the one session cookie the answer sets. */
function sessionCookie(res: HttpResult): string {
  const set = res.headers['set-cookie']?.find((c) => c.startsWith('nbp_session'));
  if (set === undefined) throw new Error(`no session cookie in ${JSON.stringify(res.headers)}`);
  return set.split(';')[0] as string;
}

/** The status a WebSocket upgrade gets: 101, or the refusal's. */
function upgrade(port: number, path: string, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`, { headers });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      resolve(101);
      ws.close();
    });
    ws.on('error', () => undefined);
  });
}

for (const workers of ['1', '2']) {
  t.test(`auth per route, --workers ${workers}`, async (t) => {
    const upstream = await startHttpUpstream();
    const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((r) => wss.once('listening', r));
    const wsPort = (wss.address() as AddressInfo).port;
    const adminHash = await hashSecret('admin pass');
    const siteHash = await hashSecret('site pass');
    const daemon = await startDaemon({ config: 'services: []\n', args: ['--workers', workers], env: { NB_PROXY_SESSION_SECRET: SECRET } });
    const tokenFile = join(daemon.dir, 'bearer');
    writeFileSync(tokenFile, 'Bearer api-token\n');
    daemon.writeConfig(`services:
  - name: open
    protocol: http
    domains: [open.example.com]
    target: ${upstream.url}
    routes:
      - path: /admin/
        auth: { password: { hash: "${adminHash}" } }
      - path: /api/
        auth: { header: { name: Authorization, value_file: ${tokenFile} } }
  - name: locked
    protocol: http
    domains: [locked.example.com]
    target: ${upstream.url}
    auth: { password: { hash: "${siteHash}" } }
    routes:
      - path: /public/
        auth: off
      - path: /admin/
        auth: { password: { hash: "${adminHash}" } }
  - name: chat
    protocol: http
    domains: [chat.example.com]
    target: http://127.0.0.1:${wsPort}
    routes:
      - path: /admin/
        auth: { password: { hash: "${adminHash}" } }
`);
    daemon.signal('SIGHUP');
    await daemon.waitFor((l) => l.msg === 'config reloaded' && l.services === 3, 10_000, 'reload with three services');
    t.teardown(async () => {
      await daemon.stop();
      await upstream.close();
      wss.close();
    });
    const get = (host: string, path: string, headers: Record<string, string> = {}): Promise<HttpResult> =>
      httpGet(`${daemon.httpUrl}${path}`, { host, headers });
    const login = (host: string, rd: string, password: string): Promise<HttpResult> =>
      httpGet(`${daemon.httpUrl}${LOGIN}?rd=${encodeURIComponent(rd)}`, {
        host,
        method: 'POST',
        headers: FORM,
        body: `password=${encodeURIComponent(password)}&rd=${encodeURIComponent(rd)}`,
      });
    const reached = (path: string): boolean => upstream.requests.some((r) => r.url === path);

    await t.test('the service stays open; its /admin/ route needs the password and nothing reaches the upstream without it', async (t) => {
      t.equal((await get('open.example.com', '/home')).status, 200);
      const browser = await get('open.example.com', '/admin/users', { accept: BROWSER });
      t.equal(browser.status, 302);
      t.equal(browser.headers.location, `${LOGIN}?rd=%2Fadmin%2Fusers`);
      t.equal((await get('open.example.com', '/admin/users')).status, 401);
      t.notOk(reached('/admin/users'));
      const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/admin/users' && l.status === 401, 5000, 'the 401 logged');
      t.match(entry, { service: 'open', route: '/admin/', auth_mechanism: 'password' });
    });

    await t.test('the login page and its form act for the route it returns to', async (t) => {
      const page = await get('open.example.com', `${LOGIN}?rd=%2Fadmin%2Fusers`, { accept: BROWSER });
      t.equal(page.status, 200);
      t.match(page.body, `action="${LOGIN}?rd=%2Fadmin%2Fusers"`);
      t.equal((await login('open.example.com', '/admin/users', 'wrong')).status, 401);
      const ok = await login('open.example.com', '/admin/users', 'admin pass');
      t.equal(ok.status, 303);
      t.equal(ok.headers.location, '/admin/users');
      const cookie = sessionCookie(ok);
      t.match(cookie, /^nbp_session_[0-9a-f]{12}=v1\./, "the route's own cookie");
      const res = await get('open.example.com', '/admin/users', { cookie: `theme=dark; ${cookie}` });
      t.equal(res.status, 200);
      t.equal((JSON.parse(res.body) as { headers: Record<string, string> }).headers.cookie, 'theme=dark', 'the session cookie is not forwarded');
      t.notOk(
        upstream.requests.some((r) => r.url?.startsWith(LOGIN)),
        'the proxy answered its pages itself',
      );
    });

    await t.test("/status and netbird-proxy status show each route's login", async (t) => {
      const status = await httpGet(`${daemon.adminUrl}/status`);
      type Routes = { name: string; routes?: { route: string; auth?: { method: string; header?: string } | null }[] }[];
      const services = (JSON.parse(status.body) as { services: Routes }).services;
      const logins = (name: string): Record<string, string | null | undefined> =>
        Object.fromEntries((services.find((s) => s.name === name)?.routes ?? []).map((r) => [r.route, r.auth === null ? null : r.auth?.method]));
      t.same(logins('open'), { default: null, '/admin/': 'password', '/api/': 'header' });
      t.same(logins('locked'), { default: 'password', '/admin/': 'password', '/public/': null });
      t.notMatch(status.body, /scrypt|api-token/, 'no hash, no header value');
      const human = await runBinary(['status', '--admin-addr', `127.0.0.1:${daemon.adminPort}`]);
      t.match(human.stdout, /^ open +\/api\/ \(login header\) /m);
      t.match(human.stdout, /^ locked +\/public\/ +round/m, 'auth: off: no login');
    });

    await t.test('the /api/ route takes its header, which does not reach the upstream', async (t) => {
      t.equal((await get('open.example.com', '/api/items')).status, 401);
      t.equal((await get('open.example.com', '/api/items', { authorization: 'Bearer nope' })).status, 401);
      const ok = await get('open.example.com', '/api/items', { authorization: 'Bearer api-token' });
      t.equal(ok.status, 200);
      t.equal((JSON.parse(ok.body) as { headers: Record<string, string> }).headers.authorization, undefined);
    });

    await t.test("on a service with a password: auth: off opens a route; a route's own password and sessions are its own", async (t) => {
      t.equal((await get('locked.example.com', '/public/logo.png')).status, 200, 'auth: off');
      t.equal((await get('locked.example.com', '/app')).status, 401);
      const site = sessionCookie(await login('locked.example.com', '/app', 'site pass'));
      t.match(site, /^nbp_session=/, "the service's cookie");
      t.equal((await get('locked.example.com', '/app', { cookie: site })).status, 200);
      t.equal((await get('locked.example.com', '/admin/x', { cookie: site })).status, 401, "the service's session does not open the route");
      t.equal((await login('locked.example.com', '/admin/x', 'site pass')).status, 401, "the service's password is not the route's");
      const admin = sessionCookie(await login('locked.example.com', '/admin/x', 'admin pass'));
      t.equal((await get('locked.example.com', '/app', { cookie: admin })).status, 401, "the route's session does not open the service");
      const both = `${site}; ${admin}`;
      t.equal((await get('locked.example.com', '/app', { cookie: both })).status, 200, 'both sessions held at once');
      t.equal((await get('locked.example.com', '/admin/x', { cookie: both })).status, 200);
      const out = await httpGet(`${daemon.httpUrl}/.netbird-proxy/auth/logout?rd=%2Fadmin%2F`, { host: 'locked.example.com', headers: { cookie: both } });
      t.equal(out.status, 200);
      t.match(out.headers['set-cookie']?.[0] ?? '', /^nbp_session_[0-9a-f]{12}=; /, "logout with rd=/admin/ clears the route's cookie");
      t.match(out.body, `href="/.netbird-proxy/auth/login?rd=%2Fadmin%2F"`, "and signs in again to the route's login");
      // Revocations are per process (docs/auth.md): with workers, another worker may serve the next request.
      if (workers === '1') t.equal((await get('locked.example.com', '/admin/x', { cookie: both })).status, 401, 'the route session is revoked');
      t.equal((await get('locked.example.com', '/app', { cookie: both })).status, 200, "the service's session is not");
    });

    await t.test("a WebSocket upgrade on the route needs the route's session", async (t) => {
      const chat = { host: 'chat.example.com' };
      t.equal(await upgrade(daemon.httpPort, '/lobby', chat), 101, 'the rest of the service is open');
      t.equal(await upgrade(daemon.httpPort, '/admin/live', chat), 401);
      const admin = sessionCookie(await login('chat.example.com', '/admin/live', 'admin pass'));
      t.equal(await upgrade(daemon.httpPort, '/admin/live', { ...chat, cookie: admin }), 101);
    });

    if (workers !== '1') return;
    await t.test('validate names the field of a bad route auth', async (t) => {
      const bad = (auth: string): string => `services:
  - name: web
    protocol: http
    domains: [web.example.com]
    target: ${upstream.url}
    routes:
      - path: /admin/
        auth: ${auth}
`;
      const cases: Array<[string, RegExp]> = [
        ['{ oidc: { issuer: "https://id.example.com", client_id: x } }', /service "web": field "routes\[0\]\.auth\.oidc": is not available on a route/],
        ['maybe', /service "web": field "routes\[0\]\.auth"/],
        ['{ password: { hash: "not-a-hash" } }', /service "web": field "routes\[0\]\.auth\.password\.hash"/],
      ];
      for (const [auth, message] of cases) {
        const file = join(daemon.dir, 'bad.yaml');
        writeFileSync(file, bad(auth));
        const r = await runBinary(['validate', '--config', file, '--proxy-env', '/dev/null']);
        t.equal(r.code, 2, auth);
        t.match(r.stderr, message, auth);
      }
      const good = join(daemon.dir, 'good.yaml');
      writeFileSync(good, bad(`{ password: { hash: "${adminHash}" } }`));
      const json = await runBinary(['validate', '--json', '--config', good, '--proxy-env', '/dev/null']);
      t.equal(json.code, 0, json.stderr);
      const doc = JSON.parse(json.stdout) as { services: Array<{ routes: Array<{ auth?: unknown }> }> };
      t.same(
        doc.services[0]?.routes[0]?.auth,
        { password: { hash: adminHash }, session: '43200s', headers: { user: 'x-auth-user', email: 'x-auth-email', groups: 'x-auth-groups' } },
        'the route auth in services.yaml form',
      );
      // The written-back form loads again: a route's own auth stays its own.
      const again = join(daemon.dir, 'again.json');
      writeFileSync(again, json.stdout);
      const reloaded = await runBinary(['validate', '--json', '--config', again, '--proxy-env', '/dev/null']);
      t.equal(reloaded.code, 0, reloaded.stderr);
      t.same(JSON.parse(reloaded.stdout), doc);
    });
  });
}
