// access.challenge: pow end to end in Debian's Chromium, against the real binary and the real
// LAPI: a captcha decision for the browser's address → the proof-of-work page → solved by the
// ALTCHA widget without user action → the app. The pass cookie is refused from another address,
// a replayed solution is refused, a ban added afterwards wins, an observe service records and lets
// through, a client that is no browser gets the plain denial, and the page works at phone width in
// dark mode. Prints the measured solve time of the default difficulty.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startBackend } from '../harness/backends';
import { launchBrowser } from '../harness/browser';
import { issueLeaf, makeCa } from '../harness/certs';
import { httpGet, until } from '../harness/clients';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { startLapi } from '../harness/lapi';
import { freePort } from '../harness/ports';

const PREFIX = '/.netbird-proxy/challenge/';
const HTML = 'text/html,application/xhtml+xml';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

// The test solves challenges itself with altcha-lib (its types need ESM resolution; see src/challenge/altcha.ts).
interface Challenge {
  parameters: Record<string, unknown>;
  signature: string;
}
const load = createRequire(__filename);
const altcha = load('altcha-lib') as {
  solveChallenge(o: { challenge: Challenge; deriveKey: unknown }): Promise<{ counter: number; derivedKey: string } | null>;
};
const { deriveKey } = load('altcha-lib/algorithms/pbkdf2') as { deriveKey: unknown };

async function solvedPayload(daemon: Daemon, host: string): Promise<{ challenge: Challenge; payload: string }> {
  const r = await httpGet(`${daemon.httpUrl}${PREFIX}new`, { host });
  const challenge = JSON.parse(r.body) as Challenge;
  const solution = await altcha.solveChallenge({ challenge, deriveKey });
  if (solution === null) throw new Error('no solution');
  return { challenge, payload: Buffer.from(JSON.stringify({ challenge, solution })).toString('base64') };
}

function accessFor(daemon: Daemon, match: (l: LogLine) => boolean): LogLine[] {
  return daemon.access().filter(match);
}

t.test('pow challenge against the real LAPI', async (t) => {
  // HTTPS: the widget's WebCrypto exists in secure contexts only (https://, or localhost).
  const dir = mkdtempSync(join(tmpdir(), 'nbp-challenge-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'web', ['web.example.com', 'secure.example.com']);
  const httpsPort = await freePort();
  const lapi = await startLapi({ logLevel: 'warning' });
  const upstream = await startBackend('app', '127.0.0.1');
  upstream.handler = (req, res) => {
    const body = `<!doctype html><title>app</title><p id="app">the app at ${req.url ?? ''}</p><p id="cookie">${req.headers.cookie ?? ''}</p>`;
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(body);
    return true;
  };
  // The browser connects from 127.0.0.1; 127.0.0.3 is another captcha'd client.
  await lapi.addDecision({ ip: '127.0.0.1', type: 'captcha', duration: '10m' });
  await lapi.addDecision({ ip: '127.0.0.3', type: 'captcha', duration: '10m' });
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [web.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
    redirect_https: false
    access: { crowdsec: enforce, challenge: pow }
    routes:
      - path: /open/
        access: { challenge: off }
  - name: secure
    protocol: http
    domains: [secure.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
    redirect_https: true
    access: { crowdsec: enforce, challenge: pow }
  - name: watch
    protocol: http
    domains: [watch.example.com]
    target: ${upstream.url}
    access: { crowdsec: observe, challenge: pow }
  - name: plain
    protocol: http
    domains: [plain.example.com]
    target: ${upstream.url}
    access: { crowdsec: enforce }
`,
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '300ms', '--https-addr', `127.0.0.1:${httpsPort}`],
    env: { NB_PROXY_SESSION_SECRET: 'challenge-test-session-secret-0123456789' },
  });
  const browser = await launchBrowser({ args: ['--host-resolver-rules=MAP *.example.com 127.0.0.1'], ignoreHTTPSErrors: true });
  t.teardown(async () => {
    await browser.close();
    await daemon.stop();
    await upstream.stop();
    await lapi.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
  const webUrl = `https://web.example.com:${httpsPort}`;

  await t.test('the browser gets the page, the widget solves it by itself, then the app', async (t) => {
    const page = await browser.newPage();
    let posted = '';
    page.on('request', (r) => {
      if (r.url().endsWith(`${PREFIX}verify`)) posted = r.postData() ?? '';
    });
    const first = await page.goto(`${webUrl}/hello?x=1`);
    t.equal(first?.status(), 403, 'the page carries the deny status');
    t.match(await page.title(), /^Check · web\.example\.com/);
    await page.locator('#app').waitFor({ timeout: 60_000 });
    t.equal(await page.locator('#app').textContent(), 'the app at /hello?x=1', 'back at the page asked for');
    t.equal(await page.locator('#cookie').textContent(), '', 'the pass cookie is not forwarded');
    const form = new URLSearchParams(posted);
    const payload = JSON.parse(Buffer.from(form.get('altcha') ?? '', 'base64').toString('utf8')) as { solution: { counter: number; time?: number } };
    t.ok(payload.solution.counter > 0, 'the widget posted a solution');
    t.comment(`solve time of the default difficulty in headless Chromium: ${String(payload.solution.time)} ms (counter ${payload.solution.counter})`);
    const issued = accessFor(daemon, (l) => l.service === 'web' && l.path === '/hello?x=1' && l.challenge === 'issued');
    t.equal(issued.length, 1);
    t.match(issued[0], { status: 403, deny_reason: 'crowdsec_captcha' });
    const passed = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/hello?x=1' && l.status === 200, 5000, 'the app request');
    t.match(passed, { challenge: 'passed', deny_reason: '', metadata: { crowdsec_verdict: 'captcha', challenge: 'passed' } });
    const verified = await daemon.waitFor((l) => l.msg === 'access' && l.path === `${PREFIX}verify`, 5000, 'the verification');
    t.match(verified, { challenge: 'passed', deny_reason: '', metadata: { crowdsec_verdict: 'captcha', challenge: 'passed' } });
    // HTTP/2: Chromium may reset the stream once it holds the 303 (then logged 499, client closed).
    t.ok(verified.status === 303 || (verified.status === 499 && verified.http_version === '2.0'), `the 303 (${String(verified.status)})`);
    await page.close();
  });

  const cookies = await browser.context.cookies(webUrl);
  const pass = cookies.find((c) => c.name === 'nbp_challenge');

  await t.test('the cookie is bound to the address', async (t) => {
    t.ok(pass, 'the browser holds the pass cookie');
    t.equal(pass?.httpOnly, true);
    t.equal(pass?.secure, true, 'set over HTTPS: Secure');
    const cookie = `nbp_challenge=${pass?.value ?? ''}`;
    const same = await httpGet(`${daemon.httpUrl}/api`, { host: 'web.example.com', from: '127.0.0.1', headers: { cookie } });
    t.equal(same.status, 200, 'from the address it was issued to');
    const other = await httpGet(`${daemon.httpUrl}/api`, { host: 'web.example.com', from: '127.0.0.3', headers: { cookie } });
    t.equal(other.status, 403, 'refused from another address');
    t.match(other.body, /browser challenge is required/);
    const upgrade = (headers: Record<string, string>): Promise<string | number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}/ws`, { headers: { host: 'web.example.com', ...headers }, localAddress: '127.0.0.1' });
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => ws.send('hi'));
        ws.on('message', (m: Buffer) => {
          resolve(m.toString());
          ws.close();
        });
        ws.on('error', () => resolve(-1));
      });
    t.equal(await upgrade({ cookie }), 'app:hi', 'a WebSocket with the pass is relayed');
    t.equal(await upgrade({}), 403, 'without it, refused');
    const elsewhere = await httpGet(`${daemon.httpUrl}/api`, { host: 'plain.example.com', from: '127.0.0.1', headers: { cookie } });
    t.equal(elsewhere.status, 403, 'a service without a challenge still denies captcha');
    t.equal(elsewhere.body, 'Forbidden');
  });

  await t.test('a client that is no browser gets the plain denial', async (t) => {
    const r = await httpGet(`${daemon.httpUrl}/data.json`, { host: 'web.example.com', from: '127.0.0.3', headers: { accept: 'application/json' } });
    t.equal(r.status, 403);
    t.match(r.headers['content-type'], /^text\/plain/);
    t.match(r.body, /a browser challenge is required/);
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/data.json', 5000);
    t.match(entry, { deny_reason: 'crowdsec_captcha' });
    t.equal(entry.challenge, undefined, 'no page was issued');
  });

  await t.test('a route without a challenge keeps the denial', async (t) => {
    const r = await httpGet(`${daemon.httpUrl}/open/x`, { host: 'web.example.com', from: '127.0.0.3', headers: { accept: HTML } });
    t.equal(r.status, 403);
    t.match(r.body, /<title>Access denied<\/title>/);
    t.notMatch(r.body, /altcha-widget/);
  });

  await t.test('redirect_https: the challenge is solved over HTTPS', async (t) => {
    const r = await httpGet(`${daemon.httpUrl}/x?y=1`, { host: 'secure.example.com', from: '127.0.0.3', headers: { accept: HTML } });
    t.equal(r.status, 308);
    t.equal(r.headers.location, 'https://secure.example.com/x?y=1', 'to https:// before any challenge page');
  });

  await t.test('a replayed or forged solution is refused', async (t) => {
    const { challenge, payload } = await solvedPayload(daemon, 'web.example.com');
    const post = (body: string) =>
      httpGet(`${daemon.httpUrl}${PREFIX}verify`, { host: 'web.example.com', from: '127.0.0.3', method: 'POST', headers: FORM, body });
    const first = await post(`altcha=${encodeURIComponent(payload)}&rd=%2Fdone`);
    t.equal(first.status, 303);
    t.equal(first.headers.location, '/done');
    t.match(String(first.headers['set-cookie']), /^nbp_challenge=v1\.\d+\.[\w-]+; Path=\/; Max-Age=1800; HttpOnly; SameSite=Lax$/, 'plain HTTP: not Secure');
    const again = await post(`altcha=${encodeURIComponent(payload)}&rd=%2Fdone`);
    t.equal(again.status, 403, 'the same solution a second time');
    t.equal(again.headers['set-cookie'], undefined);
    const forged = Buffer.from(
      JSON.stringify({ challenge: { ...challenge, parameters: { ...challenge.parameters, cost: 1 } }, solution: { counter: 1, derivedKey: '00' } }),
    ).toString('base64');
    t.equal((await post(`altcha=${encodeURIComponent(forged)}`)).status, 403, 'a forged challenge');
    t.equal((await post('altcha=')).status, 403, 'no solution');
    await until('the failures are logged', () => accessFor(daemon, (l) => l.path === `${PREFIX}verify` && l.challenge === 'failed').length === 3);
    const failed = accessFor(daemon, (l) => l.path === `${PREFIX}verify` && l.challenge === 'failed');
    t.match(
      failed.map((l) => l.metadata),
      [
        { crowdsec_verdict: 'captcha', challenge: 'failed', challenge_failure: 'solution already used' },
        { challenge: 'failed', challenge_failure: 'forged challenge' },
        { challenge: 'failed', challenge_failure: 'no solution' },
      ],
    );
    t.ok(failed.every((l) => l.deny_reason === 'crowdsec_captcha' && l.status === 403));
  });

  await t.test('an observe service records what would have happened and lets the client through', async (t) => {
    const r = await httpGet(`${daemon.httpUrl}/watched`, { host: 'watch.example.com', from: '127.0.0.3', headers: { accept: HTML } });
    t.equal(r.status, 200);
    t.match(r.body, /the app at \/watched/);
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/watched', 5000);
    t.match(entry, { deny_reason: '', metadata: { crowdsec_verdict: 'captcha', crowdsec_mode: 'observe', challenge: 'would_issue' } });
    t.equal(entry.challenge, undefined);
  });

  await t.test('at phone width in dark mode the page fits and still solves', async (t) => {
    await browser.context.clearCookies();
    const page = await browser.newPage({ width: 360, height: 740 });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.goto(`${webUrl}/phone`);
    const layout = await page.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      bg: getComputedStyle(document.body).backgroundColor,
      widget: document.querySelector('altcha-widget')?.getBoundingClientRect().width ?? 0,
    }));
    t.ok(layout.overflow <= 0, `no horizontal scrolling (${layout.overflow})`);
    t.equal(layout.bg, 'rgb(15, 18, 22)', 'dark background');
    t.ok(layout.widget > 0 && layout.widget <= 360, 'the widget fits');
    await page.locator('#app').waitFor({ timeout: 60_000 });
    t.equal(await page.locator('#app').textContent(), 'the app at /phone');
    await page.close();
  });

  await t.test('the event log shows the challenge badges', async (t) => {
    const page = await browser.newPage();
    await page.goto(`${daemon.adminUrl}/`);
    const badges = async (path: string, status: string): Promise<string[]> => {
      const row = page
        .locator('tbody tr', { has: page.locator('td.path', { hasText: path }) })
        .filter({ hasText: status })
        .first();
      await row.waitFor({ timeout: 10_000 });
      return row.locator('td.reason .badge').allTextContents();
    };
    t.same(await badges('/hello?x=1', '403'), ['crowdsec_captcha', 'challenge issued']);
    t.same(await badges('/hello?x=1', '200'), ['challenge passed']);
    t.same(await badges(`${PREFIX}verify`, '403'), ['crowdsec_captcha', 'challenge failed']);
    await page.close();
  });

  await t.test('a ban added afterwards wins over the pass', async (t) => {
    const cookie = `nbp_challenge=${pass?.value ?? ''}`;
    await lapi.addDecision({ ip: '127.0.0.1', type: 'ban', duration: '10m' });
    await until(
      'the ban reaches the proxy',
      async () => (await httpGet(`${daemon.httpUrl}/api`, { host: 'web.example.com', from: '127.0.0.1', headers: { cookie } })).status === 403,
      20_000,
      100,
    );
    const page = await browser.newPage();
    const r = await page.goto(`${webUrl}/after-ban`);
    t.equal(r?.status(), 403);
    t.equal(await page.title(), 'Access denied', 'the deny page, not the challenge');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/after-ban', 5000);
    t.match(entry, { deny_reason: 'crowdsec_ban' });
    await page.close();
  });
});
