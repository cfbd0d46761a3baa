// OpenID Connect login through a real provider (oidc-provider on loopback) in real Chromium:
// a user in allowed_groups reaches the app with identity headers, one outside gets 403, a
// replayed or mismatched callback is refused, logout revokes. Also the password form in the
// browser, at phone width.
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hashSecret } from '../../src/auth/secret-hash';
import { launchBrowser, type Browser } from '../harness/browser';
import { httpGet, until } from '../harness/clients';
import { runBinary, startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { OIDC_USERS, startOidcProvider, type OidcProviderHandle } from '../harness/oidc-provider';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const SECRET = 'oidc-test-session-secret-0123456789abcdef';

function entryFor(daemon: Daemon, match: (l: LogLine) => boolean, what: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && match(l), 5000, what);
}

t.test('OIDC and password login in Chromium', async (t) => {
  const upstream: HttpUpstream = await startHttpUpstream((req, res) => {
    const body = `<!doctype html><title>app</title><pre id="seen">${JSON.stringify({ url: req.url, headers: req.headers })}</pre>`;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(body);
  });
  const daemon = await startDaemon({ config: 'services: []\n', env: { NB_PROXY_SESSION_SECRET: SECRET } });
  const base = `http://app.test:${daemon.httpPort}`;
  const provider: OidcProviderHandle = await startOidcProvider([`${base}/.netbird-proxy/auth/callback`]);
  writeFileSync(join(daemon.dir, 'oidc-secret'), `${provider.clientSecret}\n`);
  const hash = await hashSecret('open sesame');
  const config = (groups: string): string => `services:
  - name: app
    protocol: http
    domains: [app.test]
    target: ${upstream.url}
    auth:
      oidc:
        issuer: ${provider.issuer}
        client_id: ${provider.clientId}
        client_secret_file: oidc-secret
        scopes: [openid, email, profile, groups]
        allowed_groups: [${groups}]
      session: 2h
  - name: pw
    protocol: http
    domains: [pw.test]
    target: ${upstream.url}
    auth: { password: { hash: "${hash}" } }
`;
  daemon.writeConfig(config('admins'));
  daemon.signal('SIGHUP');
  await daemon.waitFor((l) => l.msg === 'config reloaded' && l.services === 2, 10_000, 'reload with the auth services');
  const browsers: Browser[] = [];
  const open = async (): Promise<Browser> => {
    const b = await launchBrowser({ args: ['--host-resolver-rules=MAP *.test 127.0.0.1'] });
    browsers.push(b);
    return b;
  };
  t.teardown(async () => {
    for (const b of browsers) await b.close();
    await daemon.stop();
    await provider.close();
    await upstream.close();
  });

  /** Signs `user` in at the provider's login screen and consents; resolves with the callback URL the browser was sent to. */
  async function signIn(browser: Browser, user: string, path: string): Promise<{ callback: string; oidcCookie: string }> {
    const page = await browser.newPage();
    let callback = '';
    let oidcCookie = '';
    page.on('request', (req) => {
      if (req.url().includes('/.netbird-proxy/auth/callback')) {
        callback = req.url();
        oidcCookie = /nbp_oidc=[^;]+/.exec(req.headers()['cookie'] ?? '')?.[0] ?? '';
      }
    });
    await page.goto(`${base}${path}`);
    await page.waitForURL((u) => u.href.startsWith(provider.issuer));
    await page.fill('input[name=login]', user);
    await page.fill('input[name=password]', 'anything');
    await page.click('button[type=submit]');
    await page.click('button:has-text("Continue")');
    await page.waitForURL((u) => u.host === `app.test:${daemon.httpPort}` && !u.pathname.startsWith('/.netbird-proxy/auth/callback'));
    await page.close();
    return { callback, oidcCookie };
  }

  let alice: Browser;
  let aliceLogin: { callback: string; oidcCookie: string };

  await t.test('a user in allowed_groups logs in through the provider and reaches the app with identity headers', async (t) => {
    alice = await open();
    aliceLogin = await signIn(alice, 'alice', '/dashboard?tab=1');
    const page = await alice.newPage();
    await page.goto(`${base}/dashboard?tab=1`);
    const seen = JSON.parse((await page.textContent('#seen')) ?? '{}') as { url: string; headers: Record<string, string> };
    t.equal(seen.url, '/dashboard?tab=1', 'back where the user was going');
    t.equal(seen.headers['x-auth-user'], 'alice');
    t.equal(seen.headers['x-auth-email'], OIDC_USERS.alice.email);
    t.equal(seen.headers['x-auth-groups'], 'admins,staff');
    t.notMatch(seen.headers.cookie ?? '', /nbp_/, 'no proxy cookie upstream');
    const cookies = await alice.context.cookies(base);
    const session = cookies.find((c) => c.name === 'nbp_session');
    t.ok(session?.httpOnly, 'HttpOnly');
    t.equal(session?.sameSite, 'Lax');
    t.notOk(
      cookies.some((c) => c.name === 'nbp_oidc'),
      'the login state cookie is cleared',
    );
    t.match(
      await entryFor(
        daemon,
        (l) => l.path === '/.netbird-proxy/auth/callback' || (typeof l.path === 'string' && l.path.startsWith('/.netbird-proxy/auth/callback?')),
        'callback entry',
      ),
      {
        auth_mechanism: 'oidc',
        user_id: 'alice',
        auth_success: true,
        status: 303,
      },
    );
    t.match(await entryFor(daemon, (l) => l.path === '/dashboard?tab=1' && l.status === 200, 'app entry'), {
      auth_mechanism: 'oidc',
      user_id: 'alice',
      auth_success: true,
    });
    await page.close();
  });

  await t.test('the callback cannot be replayed, nor finished with another login state', async (t) => {
    t.match(aliceLogin.callback, /[?&]code=[^&]+/);
    t.match(aliceLogin.callback, /[?&]state=[^&]+/);
    const url = new URL(aliceLogin.callback);
    const target = `${daemon.httpUrl}${url.pathname}${url.search}`;
    const replayed = await httpGet(target, { host: url.host, headers: { cookie: aliceLogin.oidcCookie } });
    t.equal(replayed.status, 400, 'the same code, state and cookie again');
    t.equal(replayed.headers['set-cookie']?.some((c) => c.startsWith('nbp_session=')) ?? false, false);
    const noState = await httpGet(target, { host: url.host });
    t.equal(noState.status, 400, 'without the login state cookie');
    // A fresh login state (another state and nonce) with the old code: the state check refuses it.
    const start = await httpGet(`${daemon.httpUrl}/.netbird-proxy/auth/login`, { host: url.host });
    t.equal(start.status, 302);
    t.match(start.headers.location, new RegExp(`^${provider.issuer}/auth\\?.*code_challenge_method=S256`));
    const other = /nbp_oidc=[^;]+/.exec(start.headers['set-cookie']?.[0] ?? '')?.[0] ?? '';
    const mismatched = await httpGet(target, { host: url.host, headers: { cookie: other } });
    t.equal(mismatched.status, 400, 'state mismatch');
    t.match(mismatched.body, /Sign-in failed/);
    t.match(await entryFor(daemon, (l) => l.status === 400 && l.auth_mechanism === 'oidc', 'refused callback entry'), { auth_success: false });
  });

  await t.test('a user outside allowed_groups gets 403 and no session', async (t) => {
    const bob = await open();
    const page = await bob.newPage();
    const responses: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/.netbird-proxy/auth/callback')) responses.push(r.status());
    });
    await page.goto(`${base}/`);
    await page.fill('input[name=login]', 'bob');
    await page.fill('input[name=password]', 'anything');
    await page.click('button[type=submit]');
    await page.click('button:has-text("Continue")');
    await page.waitForSelector('h1:has-text("Not allowed")');
    t.same(responses, [403]);
    t.notOk((await bob.context.cookies(base)).some((c) => c.name === 'nbp_session'));
    t.match(await entryFor(daemon, (l) => l.status === 403 && l.user_id === 'bob', 'bob refused'), { auth_mechanism: 'oidc', auth_success: false });
  });

  await t.test('narrowing allowed_groups at a reload ends the sessions it no longer allows', async (t) => {
    const cookie = (await alice.context.cookies(base)).find((c) => c.name === 'nbp_session');
    const get = async (path: string) =>
      (await httpGet(`${daemon.httpUrl}${path}`, { host: `app.test:${daemon.httpPort}`, headers: { cookie: `nbp_session=${cookie?.value ?? ''}` } })).status;
    const reload = async (groups: string, n: number) => {
      daemon.writeConfig(config(groups));
      daemon.signal('SIGHUP');
      await until(`reload ${n}`, () => daemon.lines.filter((l) => l.msg === 'config reloaded').length === n);
    };
    await reload('auditors', 2);
    t.equal(await get('/narrowed'), 401, 'alice is no longer in an allowed group');
    await reload('admins', 3);
    t.equal(await get('/widened'), 200, 'and the same session works again when she is');
  });

  await t.test('logout revokes the session', async (t) => {
    const cookie = (await alice.context.cookies(base)).find((c) => c.name === 'nbp_session');
    const header = `nbp_session=${cookie?.value ?? ''}`;
    t.equal((await httpGet(`${daemon.httpUrl}/still`, { host: `app.test:${daemon.httpPort}`, headers: { cookie: header } })).status, 200);
    const page = await alice.newPage();
    await page.goto(`${base}/.netbird-proxy/auth/logout`);
    t.equal(await page.textContent('h1'), 'Signed out');
    t.equal(
      (await httpGet(`${daemon.httpUrl}/revoked`, { host: `app.test:${daemon.httpPort}`, headers: { cookie: header } })).status,
      401,
      'the old cookie is refused',
    );
    await page.close();
  });

  await t.test("/status, validate --json and the Access Control page show each service's auth, never a secret", async (t) => {
    const status = await httpGet(`${daemon.adminUrl}/status`);
    const services = (JSON.parse(status.body) as { services: { name: string; auth: unknown }[] }).services;
    t.same(services.find((s) => s.name === 'app')?.auth, {
      method: 'oidc',
      session_seconds: 7200,
      issuer: `${provider.issuer}/`,
      allowed_groups: ['admins'],
      allowed_emails: [],
    });
    t.same(services.find((s) => s.name === 'pw')?.auth, { method: 'password', session_seconds: 43200 });
    t.notMatch(status.body, /scrypt|a-client-secret/, 'no hash, no client secret');
    const human = await runBinary(['status', '--admin-addr', `127.0.0.1:${daemon.adminPort}`]);
    t.match(human.stdout, /^ app .*login oidc$/m);
    t.match(human.stdout, /^ pw .*login password$/m);
    const validate = await runBinary(['validate', '--json', '--config', daemon.configPath, '--proxy-env', '/dev/null']);
    t.equal(validate.code, 0, validate.stderr);
    const doc = JSON.parse(validate.stdout) as { services: { name: string; auth: Record<string, Record<string, unknown>> }[] };
    t.equal(doc.services[0]?.auth.oidc?.client_secret_file, join(daemon.dir, 'oidc-secret'), 'the file, not its contents');
    t.notMatch(validate.stdout, /a-client-secret/);
    const browser = await open();
    const page = await browser.newPage();
    await page.goto(`${daemon.adminUrl}/services`);
    t.match(await page.textContent('[data-auth="oidc"]'), /^OpenID Connect · http:\/\/127\.0\.0\.1:\d+\/ · group admins$/);
    t.equal(await page.textContent('[data-auth="password"]'), 'Password');
    await page.goto(`${daemon.adminUrl}/?service=app`);
    await page.locator('.badge-info', { hasText: 'alice' }).first().waitFor();
    t.match(
      await page.locator('.badge-warn', { hasText: 'login failed' }).first().getAttribute('title'),
      /^oidc: wrong or refused credential/,
      'the event log marks refused logins',
    );
    await page.close();
  });

  await t.test('password login in the browser, at phone width', async (t) => {
    const browser = await open();
    const page = await browser.newPage({ width: 390, height: 844 });
    const pw = `http://pw.test:${daemon.httpPort}`;
    await page.goto(`${pw}/notes`);
    t.match(page.url(), /\/\.netbird-proxy\/auth\/login\?rd=%2Fnotes$/);
    t.equal(await page.evaluate(() => document.documentElement.scrollWidth), 390, 'no horizontal scrolling at 390 px');
    if (process.env.NBP_SCREENSHOT_DIR !== undefined) await page.screenshot({ path: join(process.env.NBP_SCREENSHOT_DIR, 'login-390.png'), fullPage: true });
    await page.fill('input[name=password]', 'wrong');
    await page.click('button[type=submit]');
    t.equal(await page.textContent('[role=alert]'), 'Wrong password.');
    await page.fill('input[name=password]', 'open sesame');
    await page.click('button[type=submit]');
    await page.waitForURL(`${pw}/notes`);
    t.match(await page.textContent('#seen'), /"url":"\/notes"/);
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${pw}/.netbird-proxy/auth/logout`);
    const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    t.equal(bg, 'rgb(15, 18, 22)', 'dark scheme');
    if (process.env.NBP_SCREENSHOT_DIR !== undefined)
      await page.screenshot({ path: join(process.env.NBP_SCREENSHOT_DIR, 'signed-out-dark-390.png'), fullPage: true });
  });
});
