// The admin UI in Debian's Chromium, against the real binary and the real CrowdSec LAPI.
// NBP_SCREENSHOTS=<dir> also writes event-log.png and access-control.png there (docs/ uses them).
import t from 'tap';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { startLapi, type Lapi } from '../harness/lapi';
import { startDaemon, type Daemon } from '../harness/daemon';
import { httpGet } from '../harness/clients';
import { rawGet } from '../harness/raw-http';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';
import { launchBrowser, type Browser } from '../harness/browser';
import { issueLeaf, makeCa } from '../harness/certs';
import { freePort } from '../harness/ports';

const TOKEN = 'test-admin-token-0123456789';

const CONFIG = (upstream: HttpUpstream): string => `# services for the admin UI test
services:
  # the shop blocks what CrowdSec flags
  - name: shop
    protocol: http
    domains: [shop.example.com]
    target: ${upstream.url}
    access:
      crowdsec: enforce   # keep: blocks bans
  # the blog only observes for now
  - name: blog
    protocol: http
    domains: [blog.example.com, www.blog.example.com]
    target: ${upstream.url}
    access:
      cidr:
        deny: [127.0.0.9/32]
      crowdsec: observe   # switch to enforce after the audit
`;

async function rowFor(page: Page, path: string) {
  const row = page.locator('tbody tr', { has: page.locator('td.path', { hasText: path }) }).first();
  await row.waitFor({ timeout: 10_000 });
  return row;
}

// One Chromium for the whole file: starting it is the slow part.
let browser: Browser;
t.before(async () => {
  browser = await launchBrowser();
});
t.teardown(() => browser.close());

t.test('admin UI against the real LAPI', async (t) => {
  const lapi: Lapi = await startLapi();
  const upstream = await startHttpUpstream();
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '10m' });
  const daemon: Daemon = await startDaemon({
    config: CONFIG(upstream),
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '500ms'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 15_000, 'initial sync');
  const get = (host: string, path: string, from = '127.0.0.1') => httpGet(`${daemon.httpUrl}${path}`, { host, from });

  await t.test('1. a ban in enforce mode shows a crowdsec_ban badge', async (t) => {
    t.equal((await get('shop.example.com', '/ban-enforce', '127.0.0.2')).status, 403);
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/');
    const row = await rowFor(page, '/ban-enforce');
    t.equal(await row.locator('td.reason .badge-deny').textContent(), 'crowdsec_ban');
    t.equal(await row.locator('td.reason .badge-observe').count(), 0);
    await page.close();
  });

  await t.test('2. the same ban on an observe service shows the observe badge with "ban"', async (t) => {
    t.equal((await get('blog.example.com', '/ban-observe', '127.0.0.2')).status, 200, 'observe lets it through');
    t.equal((await get('blog.example.com', '/clean', '127.0.0.3')).status, 200);
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/');
    const row = await rowFor(page, '/ban-observe');
    t.equal(await row.locator('td.reason .badge-observe').textContent(), 'observe');
    t.equal(await row.locator('td.reason .badge-decision').textContent(), 'ban');
    const clean = await rowFor(page, '/clean');
    t.equal(await clean.locator('td.reason').textContent(), '', 'a clean request has an empty reason cell');
    await page.close();
  });

  await t.test('3. a new request appears without a reload', async (t) => {
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/');
    await page.locator('body[data-ready="true"]').waitFor();
    await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));
    const path = `/live-${Date.now()}`;
    t.equal(await page.locator('td.path', { hasText: path }).count(), 0);
    t.equal((await get('shop.example.com', path)).status, 200);
    const row = await rowFor(page, path);
    t.equal(await row.getAttribute('data-outcome'), 'allowed');
    t.equal(await page.evaluate(() => (window as unknown as { marker?: string }).marker), 'same document', 'the page was not reloaded');
    t.equal(await page.locator('tbody tr').first().locator('td.path').textContent(), path, 'newest first');
    await page.close();
  });

  await t.test('4. the filters narrow the list and stay in the URL', async (t) => {
    t.equal((await get('blog.example.com', '/cidr-denied', '127.0.0.9')).status, 403);
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/');
    await rowFor(page, '/cidr-denied');
    await rowFor(page, '/clean');
    await page.selectOption('#f-outcome', 'denied');
    await page.waitForURL(/outcome=denied/);
    await page.locator('td.path', { hasText: '/clean' }).waitFor({ state: 'detached' });
    const outcomes = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-outcome')));
    t.ok(outcomes.length >= 2 && outcomes.every((o) => o === 'denied'), `only denied rows (${outcomes.join(',')})`);
    await page.fill('#f-ip', '127.0.0.9');
    await page.press('#f-ip', 'Enter');
    await page.waitForURL(/ip=127\.0\.0\.9/);
    await page.locator('td.path', { hasText: '/ban-enforce' }).waitFor({ state: 'detached' });
    const ips = await page.locator('tbody td.ip').allTextContents();
    t.same([...new Set(ips)], ['127.0.0.9'], 'only the filtered address');
    // The URL is shareable: opening it restores the filters.
    const url = page.url();
    const second = await browser.newPage();
    await second.goto(url);
    await rowFor(second, '/cidr-denied');
    t.equal(await second.inputValue('#f-outcome'), 'denied');
    t.equal(await second.inputValue('#f-ip'), '127.0.0.9');
    t.equal(await second.locator('td.path', { hasText: '/clean' }).count(), 0);
    await second.selectOption('#f-service', 'shop');
    await second.waitForURL(/service=shop/);
    await second.locator('td.path', { hasText: '/cidr-denied' }).waitFor({ state: 'detached' });
    await page.close();
    await second.close();
  });

  await t.test('fits 1280 px and a 390 px phone without sideways scrolling, in light and dark', async (t) => {
    for (const [width, scheme] of [
      [1280, 'light'],
      [390, 'dark'],
    ] as const) {
      const page = await browser.newPage({ width, height: 800 });
      await page.emulateMedia({ colorScheme: scheme });
      for (const path of ['/', '/services']) {
        await page.goto(daemon.adminUrl + path);
        await page.locator('body[data-ready="true"]').waitFor();
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        t.ok(overflow <= 0, `${path} at ${width} px: no horizontal overflow (${overflow})`);
      }
      const bg = await page.evaluate(() => getComputedStyle(document.body).backgroundColor);
      t.equal(bg === 'rgb(15, 18, 22)', scheme === 'dark', `${scheme} theme background (${bg})`);
      await page.close();
    }
  });

  await t.test('9. an injected <script> in a request path renders as text', async (t) => {
    const evil = `/x<script>window.__xss=1</script><img/src=x/onerror="window.__xss=2">`;
    t.equal(await rawGet(daemon.httpPort, 'shop.example.com', evil), 200, 'sent byte for byte, not percent-encoded');
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/');
    const row = await rowFor(page, '/x<script>');
    t.equal(await row.locator('td.path').textContent(), evil, 'the path is shown verbatim');
    t.equal(await row.locator('td.path script, td.path img').count(), 0, 'no element was created from it');
    t.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'nothing ran');
    await page.close();
  });

  await t.test('the bouncer card\'s "Last pull" is a 24-hour ISO-ordered time, like the table', async (t) => {
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/services');
    const dd = page.locator('.card.bouncer dt', { hasText: 'Last pull' }).locator('xpath=following-sibling::dd[1]');
    await dd.waitFor();
    t.match(await dd.textContent(), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+ s ago\)$/);
    await page.close();
  });

  if (process.env.NBP_SCREENSHOTS !== undefined) {
    for (let i = 0; i < 6; i++) await get(i % 2 === 0 ? 'shop.example.com' : 'blog.example.com', `/products/${1000 + i}?ref=mail`, `127.0.0.${10 + i}`);
    await get('blog.example.com', '/wp-login.php', '127.0.0.2');
    await get('shop.example.com', '/admin/.env', '127.0.0.2');
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/');
    await rowFor(page, '/admin/.env');
    await page.screenshot({ path: join(process.env.NBP_SCREENSHOTS, 'event-log.png') });
    await page.goto(daemon.adminUrl + '/services');
    await page.locator('select[data-service="blog"]').waitFor();
    await page.locator('.card.bouncer dl').waitFor();
    await page.screenshot({ path: join(process.env.NBP_SCREENSHOTS, 'access-control.png'), fullPage: true });
    await page.close();
    const phone = await browser.newPage({ width: 390, height: 844 });
    await phone.emulateMedia({ colorScheme: 'dark' });
    await phone.goto(daemon.adminUrl + '/?outcome=denied');
    await rowFor(phone, '/admin/.env');
    await phone.screenshot({ path: join(process.env.NBP_SCREENSHOTS, 'event-log-phone-dark.png') });
    await phone.close();
  }

  await t.test('6. switching observe → enforce in the UI makes the banned address get 403 and keeps comments', async (t) => {
    const before = readFileSync(daemon.configPath, 'utf8');
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/services');
    const select = page.locator('select[data-service="blog"]');
    t.equal(await select.inputValue(), 'observe');
    await select.selectOption('enforce');
    const message = page.locator('.service[data-service="blog"] .save-message.ok');
    await message.waitFor();
    t.match(await message.textContent(), /crowdsec: enforce/);
    t.equal((await get('blog.example.com', '/after-switch', '127.0.0.2')).status, 403, 'the next request from the banned address is refused');
    const after = readFileSync(daemon.configPath, 'utf8');
    t.equal(after, before.replace('crowdsec: observe   # switch', 'crowdsec: enforce   # switch'), 'only the value changed; comments and layout kept');
    t.match(after, /# the blog only observes for now/);
    await page.close();
  });

  await t.test('7. a concurrent edit on disk is refused', async (t) => {
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/services');
    const select = page.locator('select[data-service="shop"]');
    await select.waitFor();
    const edited = readFileSync(daemon.configPath, 'utf8') + '# edited by hand while the page was open\n';
    writeFileSync(daemon.configPath, edited);
    await select.selectOption('observe');
    const error = page.locator('.service[data-service="shop"] .save-message.error');
    await error.waitFor();
    t.match(await error.textContent(), /changed on disk since this page was loaded/);
    t.equal(await select.inputValue(), 'enforce', 'the dropdown shows what is still in force');
    t.equal(readFileSync(daemon.configPath, 'utf8'), edited, 'the hand edit was not overwritten');
    t.equal((await get('shop.example.com', '/still-enforced', '127.0.0.2')).status, 403);
    await page.close();
  });
});

t.test('5. with CrowdSec unconfigured the dropdown is absent', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({ config: `services:\n  - name: app\n    protocol: http\n    domains: [app.example.com]\n    target: ${upstream.url}\n` });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(daemon.adminUrl + '/services');
  const card = page.locator('.service[data-service="app"]');
  await card.waitFor();
  t.equal(await page.locator('select[name="crowdsec"]').count(), 0, 'no CrowdSec IP Reputation dropdown');
  t.equal(await card.locator('[data-hint="crowdsec"]').count(), 0, 'the how-to is not repeated on each card');
  t.match(await page.locator('.card.bouncer [data-hint="crowdsec"]').textContent(), /--crowdsec-api-url/, 'it is in the bouncer card');
});

t.test('8. with a token set, the UI and API refuse a visitor without it', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:\n  - name: app\n    protocol: http\n    domains: [app.example.com]\n    target: ${upstream.url}\n`,
    env: { NB_PROXY_ADMIN_TOKEN: TOKEN },
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(daemon.adminUrl + '/');
  t.match(page.url(), /\/login$/, 'the page sends the visitor to the login form');
  t.equal(await page.locator('table.events').count(), 0);
  const api = await page.evaluate(async () => (await fetch('/api/events')).status);
  t.equal(api, 401, 'the API refuses the browser too');

  await page.fill('#token', 'wrong-token-wrong-token');
  await page.click('button[type="submit"]');
  t.match(await page.locator('.login-error').textContent(), /Wrong token/);

  await page.fill('#token', TOKEN);
  await page.click('button[type="submit"]');
  await page.locator('table.events').waitFor();
  t.equal(await page.evaluate(() => document.cookie), '', 'the session cookie is HttpOnly');
  const [cookie] = await browser.context.cookies(daemon.adminUrl);
  t.match(cookie, { name: 'nbp_session', httpOnly: true, sameSite: 'Strict' });
  t.notOk(cookie?.value.includes(TOKEN), 'the cookie does not carry the token itself');
});

t.test('the Certificates card: empty without HTTPS, then a certificate file with its expiry, refreshed without a reload', async (t) => {
  const upstream = await startHttpUpstream();
  const plain = `services:\n  - name: app\n    protocol: http\n    domains: [app.example.com]\n    target: ${upstream.url}\n`;
  const daemon = await startDaemon({ config: plain, args: ['--https-addr', `127.0.0.1:${await freePort()}`] });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(daemon.adminUrl + '/services');
  const card = page.locator('.card.certificates');

  await t.test('no HTTPS services: the empty state', async (t) => {
    const empty = card.locator('.empty');
    await empty.waitFor();
    t.match(await empty.textContent(), /^No HTTPS services/);
    t.equal(await card.locator('.cert').count(), 0);
  });

  const ca = await makeCa(mkdtempSync(join(tmpdir(), 'nbp-certcard-')));
  const leaf = await issueLeaf(ca, 'secure', ['secure.example.com', 'www.secure.example.com']);
  const notAfter = new Date(new X509Certificate(readFileSync(leaf.cert)).validTo);
  const utc = `${notAfter.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  await page.evaluate(() => ((window as unknown as { marker: string }).marker = 'same document'));
  daemon.writeConfig(`${plain}  - name: secure
    protocol: http
    domains: [secure.example.com, www.secure.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
`);
  await daemon.waitFor((l) => l.msg === 'https listener bound', 10_000, 'https listener bound');

  await t.test('a file certificate: its hosts, valid, file, not-after and days left', async (t) => {
    const cert = card.locator('.cert[data-host="secure.example.com"]');
    await cert.waitFor({ timeout: 10_000 });
    t.equal(await page.evaluate(() => (window as unknown as { marker?: string }).marker), 'same document', 'the status polling refreshed it');
    t.equal(await card.locator('.empty').count(), 0, 'the empty state is gone');
    t.same(
      await cert.locator('.cert-hosts .chip').allTextContents(),
      ['secure.example.com', 'www.secure.example.com'],
      'one entry for both hosts of the certificate',
    );
    t.equal(await cert.getAttribute('data-state'), 'valid');
    t.equal(await cert.locator('header .badge-ok').textContent(), 'valid');
    t.equal(await cert.locator('header .badge-info').textContent(), 'file');
    const expiry = cert.locator('.cert-expiry');
    t.equal(await expiry.locator('time').getAttribute('datetime'), notAfter.toISOString(), 'the not-after of the file');
    t.equal(await expiry.locator('time').textContent(), utc);
    const days = Math.floor((notAfter.getTime() - Date.now()) / 86_400_000);
    t.equal(await expiry.locator('.days-left').textContent(), days === 1 ? '1 day left' : `${days} days left`);
    t.equal(await expiry.locator('.badge-warn').count(), 0, 'far from the renewal threshold: no warning');
    t.equal(await cert.locator('.cert-issuer').textContent(), 'nbp test intermediate', 'the issuer (its CN)');
    t.equal(await cert.locator('.cert-error').textContent(), 'none');
  });

  await t.test('under the renewal threshold (a third of the lifetime) the days left turn into a warning', async (t) => {
    const late = await browser.newPage({ width: 390, height: 800 });
    t.teardown(() => late.close());
    // The browser's clock only: 10 hours before not-after, the daemon still says valid.
    await late.clock.setFixedTime(new Date(notAfter.getTime() - 10 * 3_600_000));
    await late.goto(daemon.adminUrl + '/services');
    const expiry = late.locator('.card.certificates .cert[data-host="secure.example.com"] .cert-expiry');
    await expiry.waitFor();
    t.equal(await expiry.locator('.badge-warn').textContent(), 'less than a day left (10 h)');
    t.equal(await late.locator('.card.certificates .cert header .badge-ok').textContent(), 'valid', 'a file is not renewed by the proxy: still valid');
    const overflow = await late.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    t.ok(overflow <= 0, `the card fits a 390 px phone (${overflow})`);
  });
});
