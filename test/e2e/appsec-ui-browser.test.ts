// The admin UI's AppSec dropdown in Debian's Chromium, against the real binary, the engine double
// and the real LAPI it checks keys against: it edits services.yaml like the CrowdSec one, the event
// log shows AppSec badges, and without --appsec-url the dropdown is absent.
import t from 'tap';
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { startAppSecEngine } from '../harness/appsec-engine';
import { launchBrowser, type Browser } from '../harness/browser';
import { httpGet } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { startLapi } from '../harness/lapi';
import { startHttpUpstream } from '../harness/upstreams';

async function rowFor(page: Page, path: string) {
  const row = page.locator('tbody tr', { has: page.locator('td.path', { hasText: path }) }).first();
  await row.waitFor({ timeout: 10_000 });
  return row;
}

let browser: Browser;
t.before(async () => {
  browser = await launchBrowser();
});
t.teardown(() => browser.close());

t.test('the AppSec dropdown edits access.appsec and the event log shows the verdicts', async (t) => {
  const lapi = await startLapi();
  const engine = await startAppSecEngine({ lapiUrl: lapi.url });
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:
  # the blog: WAF to be tried
  - name: blog
    protocol: http
    domains: [blog.example.com]
    target: ${upstream.url}
    access:
      cidr: { deny: [127.0.0.9] }
  # uploads exempted
  - name: cloud
    protocol: http
    domains: [cloud.example.com]
    target: ${upstream.url}
    access:
      appsec: { mode: observe, skip_paths: [/upload/] }   # keep the exemption
`,
    args: ['--appsec-url', engine.url, '--appsec-api-key', lapi.apiKey],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await engine.close();
    await lapi.close();
  });
  const get = (host: string, path: string) => httpGet(`${daemon.httpUrl}${path}`, { host });
  t.match(JSON.parse((await httpGet(`${daemon.adminUrl}/capabilities`)).body), { supports_appsec: true });

  await t.test('off → observe: services.yaml gains the field, comments kept; a probe is observed with its badge', async (t) => {
    const before = readFileSync(daemon.configPath, 'utf8');
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/services');
    const select = page.locator('select[name="appsec"][data-service="blog"]');
    t.equal(await select.inputValue(), 'off');
    await select.selectOption('observe');
    const message = page.locator('.service[data-service="blog"] .appsec .save-message.ok');
    await message.waitFor();
    t.match(await message.textContent(), /appsec: observe/);
    t.equal(readFileSync(daemon.configPath, 'utf8'), before.replace('cidr: { deny: [127.0.0.9] }', 'appsec: observe\n      cidr: { deny: [127.0.0.9] }'));
    t.equal((await get('blog.example.com', '/.env')).status, 200, 'observe lets it through');
    await page.goto(daemon.adminUrl + '/');
    const row = await rowFor(page, '/.env');
    t.equal(await row.getAttribute('data-outcome'), 'observed');
    t.equal(await row.locator('td.reason .badge-observe').textContent(), 'observe');
    t.equal(await row.locator('td.reason .badge-decision').textContent(), 'appsec ban');
    await page.close();
  });

  await t.test('observe → enforce: the probe gets 403 and an appsec_ban badge', async (t) => {
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/services');
    await page.locator('select[name="appsec"][data-service="blog"]').selectOption('enforce');
    await page.locator('.service[data-service="blog"] .appsec .save-message.ok').waitFor();
    t.equal((await get('blog.example.com', '/.git/config')).status, 403);
    await page.goto(daemon.adminUrl + '/');
    const row = await rowFor(page, '/.git/config');
    t.equal(await row.locator('td.reason .badge-deny').textContent(), 'appsec_ban');
    await page.close();
  });

  await t.test('the long form: only the mode inside changes, skip_paths and the comment stay', async (t) => {
    const before = readFileSync(daemon.configPath, 'utf8');
    const page = await browser.newPage();
    await page.goto(daemon.adminUrl + '/services');
    const select = page.locator('select[name="appsec"][data-service="cloud"]');
    t.equal(await select.inputValue(), 'observe');
    t.match(await page.locator('#appsec-help-cloud').textContent(), /Skipped paths: \/upload\//);
    await select.selectOption('enforce');
    await page.locator('.service[data-service="cloud"] .appsec .save-message.ok').waitFor();
    t.equal(readFileSync(daemon.configPath, 'utf8'), before.replace('{ mode: observe, skip_paths', '{ mode: enforce, skip_paths'));
    t.equal((await get('cloud.example.com', '/.env')).status, 403);
    await page.close();
  });
});

t.test('without --appsec-url the AppSec dropdown is absent and the hint says how to enable it', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({ config: `services:\n  - name: app\n    protocol: http\n    domains: [app.example.com]\n    target: ${upstream.url}\n` });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  t.match(JSON.parse((await httpGet(`${daemon.adminUrl}/capabilities`)).body), { supports_appsec: false });
  const page = await browser.newPage();
  t.teardown(() => page.close());
  await page.goto(daemon.adminUrl + '/services');
  const card = page.locator('.service[data-service="app"]');
  await card.waitFor();
  t.equal(await page.locator('select[name="appsec"]').count(), 0, 'no AppSec dropdown');
  t.match(await card.locator('[data-hint="appsec"]').textContent(), /--appsec-url/);
  const put = await page.evaluate(async () => {
    const session = (await (await fetch('/api/session')).json()) as { csrf_token: string };
    const res = await fetch('/api/services/app/appsec', {
      method: 'PUT',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrf_token },
      body: JSON.stringify({ mode: 'enforce' }),
    });
    return res.status;
  });
  t.equal(put, 422, 'the API refuses it too');
});
