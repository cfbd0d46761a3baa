// access.challenge with Turnstile, hCaptcha and reCAPTCHA against a local verifier that follows
// their documented siteverify protocol (POST form secret, response, remoteip; JSON {success,
// "error-codes"}), since the real services are not reachable here: success lets the client in,
// a refusal, a bad secret, a verifier that is down or too slow never does.
import t from 'tap';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGet, until } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { startLapi } from '../harness/lapi';
import { startHttpUpstream } from '../harness/upstreams';

const VERIFY = '/.netbird-proxy/challenge/verify';
const HTML = 'text/html,application/xhtml+xml';
const SECRET = 'the-right-provider-secret';

interface Seen {
  secret: string;
  response: string;
  remoteip: string;
}

/** The siteverify protocol: tokens "good" pass, "slow" never get an answer, the rest fail; a wrong secret is refused. */
async function startVerifier(): Promise<{ url: string; seen: Seen[]; close(): Promise<void> }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      const s = { secret: form.get('secret') ?? '', response: form.get('response') ?? '', remoteip: form.get('remoteip') ?? '' };
      seen.push(s);
      if (req.method !== 'POST' || req.headers['content-type'] !== 'application/x-www-form-urlencoded') res.writeHead(405).end();
      else if (s.response === 'slow')
        return; // never answers
      else if (s.secret !== SECRET) res.end(JSON.stringify({ success: false, 'error-codes': ['invalid-input-secret'] }));
      else if (s.response === 'good') res.end(JSON.stringify({ success: true, challenge_ts: new Date().toISOString(), hostname: 'x' }));
      else res.end(JSON.stringify({ success: false, 'error-codes': ['invalid-input-response'] }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/siteverify`,
    seen,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

t.test('provider modes against a local siteverify', async (t) => {
  const lapi = await startLapi({ logLevel: 'warning' });
  const verifier = await startVerifier();
  const upstream = await startHttpUpstream();
  await lapi.addDecision({ ip: '127.0.0.4', type: 'captcha', duration: '10m' });
  const dir = mkdtempSync(join(tmpdir(), 'nbp-challenge-providers-'));
  writeFileSync(join(dir, 'right.secret'), `${SECRET}\n`);
  writeFileSync(join(dir, 'wrong.secret'), 'not-the-secret\n');
  const service = (name: string, mode: string, secretFile: string) => `  - name: ${name}
    protocol: http
    domains: [${name}.example.com]
    target: ${upstream.url}
    access:
      crowdsec: enforce
      challenge: { mode: ${mode}, site_key: site-${name}, secret_file: ${secretFile} }
`;
  const daemon = await startDaemon({
    config: `services:\n${service('turn', 'turnstile', join(dir, 'right.secret'))}${service('hcap', 'hcaptcha', join(dir, 'right.secret'))}${service('reca', 'recaptcha', join(dir, 'right.secret'))}${service('wrong', 'turnstile', join(dir, 'wrong.secret'))}`,
    args: [
      '--crowdsec-api-url',
      lapi.url,
      '--crowdsec-api-key',
      lapi.apiKey,
      '--crowdsec-poll-interval',
      '300ms',
      '--challenge-verify-url',
      verifier.url,
      '--log-level',
      'debug',
    ],
    env: { NB_PROXY_SESSION_SECRET: 'provider-test-session-secret-0123456789' },
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await verifier.close();
    await lapi.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');
  const from = '127.0.0.4';

  for (const [name, script, field] of [
    ['turn', 'https://challenges.cloudflare.com/turnstile/v0/api.js', 'cf-turnstile-response'],
    ['hcap', 'https://js.hcaptcha.com/1/api.js', 'h-captcha-response'],
    ['reca', 'https://www.google.com/recaptcha/api.js', 'g-recaptcha-response'],
  ] as const) {
    await t.test(`${name}: the page, then success and failure`, async (t) => {
      const host = `${name}.example.com`;
      const page = await httpGet(`${daemon.httpUrl}/start`, { host, from, headers: { accept: HTML } });
      t.equal(page.status, 403);
      t.match(page.body, `<script src="${script}"`);
      t.match(page.body, `data-sitekey="site-${name}"`);
      t.match(page.headers['content-security-policy'], /form-action 'self'/);
      const post = (token: string) =>
        httpGet(`${daemon.httpUrl}${VERIFY}`, {
          host,
          from,
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded', accept: HTML },
          body: `${field}=${token}&rd=%2Fstart`,
        });
      const ok = await post('good');
      t.equal(ok.status, 303);
      t.equal(ok.headers.location, '/start');
      t.match(verifier.seen.at(-1), { secret: SECRET, response: 'good', remoteip: from }, 'the documented form, with the client address');
      const cookie = String(ok.headers['set-cookie']).split(';')[0] ?? '';
      t.equal((await httpGet(`${daemon.httpUrl}/start`, { host, from, headers: { cookie } })).status, 200, 'the pass lets the client in');
      const refused = await post('forged');
      t.equal(refused.status, 403);
      t.match(refused.body, /Access denied/);
      t.equal(refused.headers['set-cookie'], undefined);
    });
  }

  await t.test('a bad secret, a slow verifier and a missing token are denials', async (t) => {
    const post = (host: string, body: string) =>
      httpGet(`${daemon.httpUrl}${VERIFY}`, { host, from, method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    t.equal((await post('wrong.example.com', 'cf-turnstile-response=good')).status, 403, 'bad secret');
    t.equal((await post('turn.example.com', 'cf-turnstile-response=slow')).status, 403, 'timeout: denied, never open');
    t.equal((await post('turn.example.com', 'h-captcha-response=good')).status, 403, "another provider's field");
    await until('the failures are logged', () => daemon.access().filter((l) => l.path === VERIFY && l.challenge === 'failed').length === 6);
    const why = daemon
      .access()
      .filter((l) => l.path === VERIFY && l.challenge === 'failed')
      .map((l) => (l.metadata as Record<string, string>).challenge_failure);
    t.same(why, [
      'provider refused: invalid-input-response',
      'provider refused: invalid-input-response',
      'provider refused: invalid-input-response',
      'provider refused: invalid-input-secret',
      'provider timed out',
      'no token',
    ]);
    t.notMatch(daemon.output(), SECRET, 'the secret is never logged');
  });

  await t.test('a verifier that is down is a denial', async (t) => {
    await verifier.close();
    const r = await httpGet(`${daemon.httpUrl}${VERIFY}`, {
      host: 'hcap.example.com',
      from,
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'h-captcha-response=good',
    });
    t.equal(r.status, 403);
    const entry = await daemon.waitFor(
      (l) =>
        l.msg === 'access' &&
        l.service === 'hcap' &&
        l.path === VERIFY &&
        l.status === 403 &&
        l.challenge === 'failed' &&
        (l.metadata as Record<string, string>).challenge_failure === 'provider unreachable',
      5000,
    );
    t.match(entry, { deny_reason: 'crowdsec_captcha' });
  });
});
