// The Access Control page (Debian's Chromium) shows each route of a routed service with its
// targets, their health and its login, and follows a target going down without a reload.
import t from 'tap';
import { hashSecret } from '../../src/auth/secret-hash';
import { startDaemon } from '../harness/daemon';
import { launchBrowser } from '../harness/browser';
import { startBackend } from '../harness/backends';

t.test('routes and target health on the Access Control page', async (t) => {
  const x = await startBackend('x', '127.0.30.1');
  const y = await startBackend('y', '127.0.31.1');
  const daemon = await startDaemon({
    config: `services:
  - name: shop
    protocol: http
    domains: [shop.test]
    target: ${x.url}
    routes:
      - path: /api/
        targets: [${x.url}, { url: ${y.url}, backup: true }]
        balance: least_conn
        health: { path: /healthz, interval: 500ms, timeout: 500ms, healthy: 1, unhealthy: 2 }
      - path: /admin/
        auth: { pin: { hash: "${await hashSecret('2468')}" } }
`,
    env: { NB_PROXY_SESSION_SECRET: 'routes-ui-browser-session-secret-0123456789' },
  });
  const browser = await launchBrowser();
  t.teardown(async () => {
    await browser.close();
    await daemon.stop();
    await x.stop();
    await y.stop();
  });
  const page = await browser.newPage();
  await page.goto(daemon.adminUrl + '/services');
  const card = page.locator('.service[data-service="shop"]');
  await card.waitFor();
  const api = card.locator('li[data-route="/api/"]');
  await api.waitFor();
  t.match(await card.locator('li[data-route="default"]').textContent(), /default round robin: .*127\.0\.30\.1.*up/);
  t.match(await api.textContent(), /least conn: .*127\.0\.30\.1.*up.*127\.0\.31\.1.*\(backup\).*up/);
  t.match(await card.locator('li[data-route="/admin/"]').textContent(), /^\/admin\/ login: PIN round robin: /, "a route's own login");
  t.notMatch(await api.textContent(), /login/, 'a route without one');
  x.health = 503;
  await api.locator('.badge', { hasText: 'down' }).first().waitFor({ timeout: 10_000 });
  t.match(await api.textContent(), /127\.0\.30\.1.*down/, 'the probed-down target turns down without a reload');
  t.match(await api.locator('.badge', { hasText: 'down' }).first().getAttribute('title'), /health check failed: (status 503|no answer)/);
});
