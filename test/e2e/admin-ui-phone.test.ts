// The admin UI's first-hour fixes in Debian's Chromium against the real binary: the CrowdSec hint
// said once with unbroken flag names, 502 rows with their upstream error, human durations, the
// 390 px layout (one-line top bar, compact request cards), and /favicon.ico from the proxy.
// NBP_SCREENSHOTS=<dir> writes event-log-phone.png (390 px) there.
import http from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { httpGet } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { launchBrowser, type Browser } from '../harness/browser';
import { freePort } from '../harness/ports';
import { startHttpUpstream } from '../harness/upstreams';
import { FAVICON } from '../../src/forward/favicon';

let browser: Browser;
t.before(async () => {
  browser = await launchBrowser();
});
t.teardown(() => browser.close());

function getBytes(url: string, opts: { host?: string; from?: string } = {}): Promise<{ status: number; type: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    http
      .get(url, { headers: opts.host === undefined ? {} : { host: opts.host }, localAddress: opts.from, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body: Buffer.concat(chunks) }));
      })
      .on('error', reject);
  });
}

t.test('admin UI without CrowdSec, at 1280 and 390 px', async (t) => {
  // /slow answers after 1.2 s (the upstream's own timer), so its duration reads in seconds.
  const upstream = await startHttpUpstream((req, res) => {
    if (req.url === '/slow') setTimeout(() => res.end('slow\n'), 1200);
    else res.end('ok\n');
  });
  const closed = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [app.example.com]
    target: ${upstream.url}
    access: { cidr: { deny: [127.0.0.2] } }
  - name: down
    protocol: http
    domains: [down.example.com]
    target: http://127.0.0.1:${closed}
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });

  await t.test('the CrowdSec hint is said once, its flag names never broken', async (t) => {
    const page = await browser.newPage({ width: 390, height: 844 });
    t.teardown(() => page.close());
    await page.goto(`${daemon.adminUrl}/services`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('[data-hint="crowdsec"]').waitFor();
    t.equal(await page.locator('[data-hint="crowdsec"]').count(), 1, 'one hint on the page');
    t.equal(await page.locator('.service [data-hint="crowdsec"]').count(), 0, 'not on the service cards');
    t.equal(await page.locator('.bouncer [data-hint="crowdsec"]').count(), 1, 'in the bouncer card');
    t.equal(await page.locator('select[name="crowdsec"]').count(), 0, 'no dropdown');
    t.match(await page.locator('.service[data-service="web"]').textContent(), /CrowdSec\s*not configured/);
    const codes = await page
      .locator('[data-hint="crowdsec"] code')
      .evaluateAll((els) => els.map((e) => ({ text: e.textContent, lines: e.getClientRects().length })));
    t.same(
      codes.map((c) => c.text),
      ['--crowdsec-api-url', '--crowdsec-api-key', 'NB_PROXY_CROWDSEC_API_URL', 'NB_PROXY_CROWDSEC_API_KEY'],
    );
    t.ok(
      codes.every((c) => c.lines === 1),
      `each name on one line at 390 px (${codes.map((c) => c.lines).join(',')})`,
    );
  });

  await t.test('a 502 row shows its upstream error; a slow request reads in seconds', async (t) => {
    t.equal((await httpGet(`${daemon.httpUrl}/gone`, { host: 'down.example.com' })).status, 502);
    t.equal((await httpGet(`${daemon.httpUrl}/slow`, { host: 'app.example.com' })).status, 200);
    const page = await browser.newPage();
    t.teardown(() => page.close());
    await page.goto(`${daemon.adminUrl}/`);
    const row = page.locator('tbody tr', { has: page.locator('td.path', { hasText: '/gone' }) });
    await row.waitFor();
    t.equal(await row.locator('td.status').textContent(), '502');
    t.equal(await row.locator('td.reason .badge-warn').textContent(), 'refused', 'upstream_error');
    const slow = page.locator('tbody tr', { has: page.locator('td.path', { hasText: '/slow' }) });
    t.match(await slow.locator('td.duration').textContent(), /^1\.\d s$/, 'seconds, not "1203 ms"');
    t.match(await slow.locator('td.time').textContent(), /^\d\d:\d\d:\d\d\.\d{3}$/, '24-hour time');
  });

  await t.test('390 px: the top bar is one line and a request is a compact card', async (t) => {
    for (let i = 0; i < 8; i++) await httpGet(`${daemon.httpUrl}/page-${i}?q=${i}`, { host: 'app.example.com' });
    await httpGet(`${daemon.httpUrl}/denied`, { host: 'app.example.com', from: '127.0.0.2' });
    const page = await browser.newPage({ width: 390, height: 844 });
    t.teardown(() => page.close());
    await page.goto(`${daemon.adminUrl}/`);
    await page.locator('body[data-ready="true"]').waitFor();
    await page.locator('tbody tr', { has: page.locator('td.path', { hasText: '/page-7' }) }).waitFor();
    const box = async (sel: string) => (await page.locator(sel).first().boundingBox()) ?? { x: 0, y: 0, width: 0, height: 0 };
    const nav = await box('nav');
    const theme = await box('#theme');
    t.ok(Math.abs(theme.y + theme.height / 2 - (nav.y + nav.height / 2)) < 8, `theme button on the nav's line (${theme.y} vs ${nav.y})`);
    const heights = await page.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.getBoundingClientRect().height));
    const tallest = Math.max(...heights);
    t.ok(tallest <= 844 / 6, `every request card at most a sixth of an 844 px screen (tallest ${tallest} px)`);
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    t.ok(overflow <= 0, `no sideways scrolling (${overflow})`);
    if (process.env.NBP_SCREENSHOTS !== undefined) {
      await page.screenshot({ path: join(process.env.NBP_SCREENSHOTS, 'event-log-phone.png') });
    }
  });

  await t.test('/favicon.ico: the proxy answers a denied client itself, forwards an allowed one, and the admin listener has it', async (t) => {
    const before = upstream.requests.length;
    const denied = await getBytes(`${daemon.httpUrl}/favicon.ico`, { host: 'app.example.com', from: '127.0.0.2' });
    t.equal(denied.status, 200);
    t.equal(denied.type, 'image/png');
    t.ok(denied.body.equals(FAVICON), "the proxy's icon");
    t.equal(upstream.requests.length, before, 'never forwarded');
    const page = await httpGet(`${daemon.httpUrl}/after-icon`, { host: 'app.example.com', from: '127.0.0.2' });
    t.equal(page.status, 403, 'other paths stay denied');
    await daemon.waitFor((l) => l.msg === 'access' && l.path === '/after-icon');
    t.notOk(
      daemon.access().some((l) => l.path === '/favicon.ico'),
      'the icon is not logged as a second denial',
    );
    const allowed = await getBytes(`${daemon.httpUrl}/favicon.ico`, { host: 'app.example.com' });
    t.equal(allowed.body.toString(), 'ok\n', "an allowed client gets the application's own");
    const admin = await getBytes(`${daemon.adminUrl}/favicon.ico`);
    t.equal(admin.status, 200);
    t.ok(admin.body.equals(FAVICON), 'the admin listener serves it');
  });
});
