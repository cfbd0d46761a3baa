// access.challenge with an AppSec captcha action (the engine double, its key checked against the
// real LAPI): the challenge page instead of the denial, the verification on the reserved path
// (before AppSec), then the pass lets the same request through; a replayed solution gives no pass.
import t from 'tap';
import { createRequire } from 'node:module';
import { startAppSecEngine } from '../harness/appsec-engine';
import { httpGet } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { startLapi } from '../harness/lapi';
import { startHttpUpstream } from '../harness/upstreams';

const PREFIX = '/.netbird-proxy/challenge/';
const HTML = 'text/html,application/xhtml+xml';
const load = createRequire(__filename);
const altcha = load('altcha-lib') as { solveChallenge(o: { challenge: unknown; deriveKey: unknown }): Promise<unknown> };
const { deriveKey } = load('altcha-lib/algorithms/pbkdf2') as { deriveKey: unknown };

t.test('an AppSec captcha is answered by the challenge', async (t) => {
  const lapi = await startLapi({ logLevel: 'warning' });
  const engine = await startAppSecEngine({ lapiUrl: lapi.url });
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:
  - name: shop
    protocol: http
    domains: [shop.example.com]
    target: ${upstream.url}
    access: { appsec: enforce, challenge: pow }
  - name: plain
    protocol: http
    domains: [plain.example.com]
    target: ${upstream.url}
    access: { appsec: enforce }
  - name: watch
    protocol: http
    domains: [watch.example.com]
    target: ${upstream.url}
    access: { appsec: observe, challenge: pow }
`,
    args: ['--appsec-url', engine.url, '--appsec-api-key', lapi.apiKey, '--challenge-pow-difficulty', '2000'],
    env: { NB_PROXY_SESSION_SECRET: 'appsec-challenge-session-secret-0123456789' },
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await engine.close();
    await lapi.close();
  });
  const get = (path: string, headers: Record<string, string> = {}, host = 'shop.example.com') =>
    httpGet(`${daemon.httpUrl}${path}`, { host, from: '127.0.0.5', headers });

  const page = await get('/captcha-me', { accept: HTML });
  t.equal(page.status, 403);
  t.match(page.body, /<altcha-widget challenge="\/\.netbird-proxy\/challenge\/new"/);
  const issued = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/captcha-me', 5000);
  t.match(issued, { deny_reason: 'appsec_captcha', challenge: 'issued', metadata: { appsec_verdict: 'captcha' } });
  const plain = await get('/captcha-me', { accept: HTML }, 'plain.example.com');
  t.equal(plain.status, 403, 'without a challenge: the denial');
  t.match(plain.body, /Access denied/);
  t.match((await get('/captcha-me')).body, /a browser challenge is required/, 'no browser: the plain denial');
  t.equal((await get('/captcha-me?watch', { accept: HTML }, 'watch.example.com')).status, 200, 'observe: let through');
  const observed = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/captcha-me?watch', 5000);
  t.match(
    observed,
    { deny_reason: '', metadata: { appsec_verdict: 'captcha', appsec_mode: 'observe', challenge: 'would_issue' } },
    'observe: what a challenge would do',
  );

  const seenBefore = engine.seen.length;
  const challenge = JSON.parse((await get(`${PREFIX}new`)).body) as unknown;
  const solution = await altcha.solveChallenge({ challenge, deriveKey });
  const payload = encodeURIComponent(Buffer.from(JSON.stringify({ challenge, solution })).toString('base64'));
  const verify = () =>
    httpGet(`${daemon.httpUrl}${PREFIX}verify`, {
      host: 'shop.example.com',
      from: '127.0.0.5',
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `altcha=${payload}&rd=%2Fcaptcha-me`,
    });
  const ok = await verify();
  t.equal(ok.status, 303);
  t.equal(ok.headers.location, '/captcha-me');
  t.equal(engine.seen.length, seenBefore, 'the reserved path never reaches the engine');
  const cookie = String(ok.headers['set-cookie']).split(';')[0] ?? '';
  t.match(cookie, /^nbp_challenge=v1\./);

  const passed = await get('/captcha-me', { accept: HTML, cookie });
  t.equal(passed.status, 200, 'the pass lets the captcha action through');
  t.equal((JSON.parse(passed.body) as { headers: Record<string, string> }).headers.cookie, undefined, 'the pass cookie is not forwarded');
  const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/captcha-me' && l.status === 200, 5000);
  t.match(entry, { deny_reason: '', challenge: 'passed', metadata: { appsec_verdict: 'captcha', challenge: 'passed' } });
  t.equal((await get('/captcha-me', { accept: HTML, cookie }, 'plain.example.com')).status, 403, 'a pass of another service does nothing');

  const replay = await verify();
  t.equal(replay.status, 303, 'an admitted client goes back to its page');
  t.equal(replay.headers['set-cookie'], undefined, 'but gets no pass');
  const failed = await daemon.waitFor((l) => l.msg === 'access' && l.path === `${PREFIX}verify` && l.challenge === 'failed', 5000);
  t.match(failed, { metadata: { challenge: 'failed', challenge_failure: 'solution already used' } });
});
