// What a denied client gets (deny: page, template, redirect), the request id shared by the page,
// the access log and the upstream, and client-forged upstream hints being stripped: the real
// binary, real HTTP clients. The CrowdSec half (observe + forward_verdict) is in deny-verdict.test.ts.
import t from 'tap';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGet } from '../harness/clients';
import { runBinary, startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { freePort } from '../harness/ports';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const BROWSER = 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8';

function access(daemon: Daemon, path: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && l.path === path, 5000, `access entry for ${path}`);
}

function upstreamHeaders(body: string): Record<string, string | undefined> {
  return (JSON.parse(body) as { headers: Record<string, string | undefined> }).headers;
}

function service(name: string, upstream: HttpUpstream, extra: string): string {
  return `  - name: ${name}
    protocol: http
    domains: [${name}.example.com]
    target: ${upstream.url}
    access: { cidr: { deny: [127.0.0.2] } }
${extra}`;
}

t.test('deny pages, redirects and request ids', async (t) => {
  const upstream = await startHttpUpstream();
  // The template lives next to services.yaml: written into the daemon's dir before the reload below.
  const daemon = await startDaemon({
    config: `services:\n${service('web', upstream, '    deny: { status: 451, contact_url: "mailto:admin@example.com" }\n')}`,
    args: ['--trusted-proxies', '127.0.0.3/32'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  writeFileSync(join(daemon.dir, 'page.html'), '<p>{{reason}} | {{reason_code}} | {{client_ip}} | {{request_id}} | {{status}}</p>\n');
  daemon.writeConfig(
    `services:\n${service('web', upstream, '    deny: { status: 451, contact_url: "mailto:admin@example.com" }\n')}${service(
      'custom',
      upstream,
      '    deny: { template: page.html }\n',
    )}${service('moved', upstream, '    deny: { redirect: "https://status.example.com/blocked", status: 303 }\n')}`,
  );
  daemon.signal('SIGHUP');
  await daemon.waitFor((l) => l.msg === 'config reloaded' && l.services === 3, 10_000, 'reload with three services');

  await t.test("a browser gets the HTML page with the configured status; its request id is the access entry's", async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/browser`, { host: 'web.example.com', from: '127.0.0.2', headers: { accept: BROWSER } });
    t.equal(res.status, 451);
    t.match(res.headers['content-type'], /^text\/html; charset=utf-8$/);
    t.match(res.body, /<h1>Access denied<\/h1>/);
    t.match(res.body, /refused: blocked by network policy\./);
    t.match(res.body, /<a href="mailto:admin@example.com">/, 'the contact link');
    t.notMatch(res.body, /127\.0\.0\.2|ip_restricted/, 'no address, no rule');
    const id = /<code id="request-id">([^<]+)<\/code>/.exec(res.body)?.[1];
    const entry = await access(daemon, '/browser');
    t.ok(id);
    t.equal(entry.request_id, id, 'the access entry has the same request_id');
    t.equal(res.headers['x-request-id'], id);
    t.match(entry, { status: 451, deny_reason: 'ip_restricted', client_ip: '127.0.0.2' });
  });

  await t.test('a curl-like client gets text/plain Forbidden with the configured status', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/curl`, { host: 'web.example.com', from: '127.0.0.2', headers: { accept: '*/*' } });
    t.equal(res.status, 451);
    t.equal(res.body, 'Forbidden');
    t.match(res.headers['content-type'], /^text\/plain/);
    t.equal(res.headers['x-request-id'], (await access(daemon, '/curl')).request_id);
  });

  await t.test('a template gets every variable, HTML-escaped, read at load', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/custom`, { host: 'custom.example.com', from: '127.0.0.2', headers: { accept: 'text/html' } });
    const entry = await access(daemon, '/custom');
    t.equal(res.status, 403, 'default status');
    t.equal(res.body, `<p>blocked by network policy | ip_restricted | 127.0.0.2 | ${String(entry.request_id)} | 403</p>\n`);
  });

  await t.test('a redirect sends every denied client to the Location, with the chosen status', async (t) => {
    for (const accept of [BROWSER, '*/*']) {
      const res = await httpGet(`${daemon.httpUrl}/moved`, { host: 'moved.example.com', from: '127.0.0.2', headers: { accept } });
      t.equal(res.status, 303);
      t.equal(res.headers.location, 'https://status.example.com/blocked');
      t.equal(res.body, '');
    }
  });

  await t.test('a denied WebSocket upgrade gets the configured status (plain) or the redirect, then the close', { timeout: 20_000 }, async (t) => {
    const upgrade = { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==' };
    const res = await httpGet(`${daemon.httpUrl}/ws`, { host: 'web.example.com', from: '127.0.0.2', headers: { ...upgrade, accept: BROWSER } });
    t.equal(res.status, 451);
    t.equal(res.body, 'Forbidden');
    const entry = await access(daemon, '/ws');
    t.equal(res.headers['x-request-id'], entry.request_id);
    t.equal(entry.status, 451);
    const moved = await httpGet(`${daemon.httpUrl}/ws-moved`, { host: 'moved.example.com', from: '127.0.0.2', headers: upgrade });
    t.equal(moved.status, 303);
    t.equal(moved.headers.location, 'https://status.example.com/blocked');
  });

  await t.test('allowed browsers reach the upstream, never the page', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/allowed`, { host: 'web.example.com', from: '127.0.0.1', headers: { accept: BROWSER } });
    t.equal(res.status, 200);
    t.equal(upstreamHeaders(res.body).host, 'web.example.com');
  });

  await t.test("X-Request-Id upstream: generated, or the trusted proxy's own, never an untrusted client's", async (t) => {
    const plain = await httpGet(`${daemon.httpUrl}/gen`, { host: 'web.example.com', from: '127.0.0.1' });
    const generated = upstreamHeaders(plain.body)['x-request-id'];
    t.match(generated, /^[0-9a-f]{12}-[0-9a-z]+$/);
    t.equal((await access(daemon, '/gen')).request_id, generated);

    const spoofed = await httpGet(`${daemon.httpUrl}/spoof`, { host: 'web.example.com', from: '127.0.0.1', headers: { 'x-request-id': 'chosen-by-client' } });
    const replaced = upstreamHeaders(spoofed.body)['x-request-id'];
    t.not(replaced, 'chosen-by-client');
    t.match(replaced, /^[0-9a-f]{12}-/);
    t.equal((await access(daemon, '/spoof')).request_id, replaced);

    const proxied = await httpGet(`${daemon.httpUrl}/trusted`, { host: 'web.example.com', from: '127.0.0.3', headers: { 'x-request-id': 'edge-42.a_b' } });
    t.equal(upstreamHeaders(proxied.body)['x-request-id'], 'edge-42.a_b');
    t.equal((await access(daemon, '/trusted')).request_id, 'edge-42.a_b');

    const insane = await httpGet(`${daemon.httpUrl}/insane`, { host: 'web.example.com', from: '127.0.0.3', headers: { 'x-request-id': 'a b<c>' } });
    t.not(upstreamHeaders(insane.body)['x-request-id'], 'a b<c>', "a trusted peer's id must still be plain");
  });

  await t.test('a 404 has a request_id too', async (t) => {
    t.equal((await httpGet(`${daemon.httpUrl}/nohost`, { host: 'nobody.example.com' })).status, 404);
    t.match((await access(daemon, '/nohost')).request_id, /^[0-9a-f]{12}-/);
  });

  await t.test('X-Crowdsec-Remediation and X-Country-Code from a client never reach the upstream', async (t) => {
    for (const from of ['127.0.0.1', '127.0.0.3']) {
      const res = await httpGet(`${daemon.httpUrl}/forged`, {
        host: 'web.example.com',
        from,
        headers: { 'x-crowdsec-remediation': 'none', 'x-country-code': 'DE' },
      });
      const h = upstreamHeaders(res.body);
      t.equal(h['x-crowdsec-remediation'], undefined, `from ${from}`);
      t.equal(h['x-country-code'], undefined, `from ${from}`);
    }
  });
});

t.test('a bad template on reload keeps the running config; a bad one at start is one line and exit 2', async (t) => {
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({ config: `services:\n${service('web', upstream, '')}` });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  daemon.writeConfig(`services:\n${service('web', upstream, '    deny: { template: missing.html }\n')}`);
  daemon.signal('SIGHUP');
  const failed = await daemon.waitFor((l) => l.msg === 'config reload failed; keeping the running config', 10_000, 'reload failure');
  t.equal(failed.err, `${daemon.configPath}: service "web": field "deny.template": cannot read ${join(daemon.dir, 'missing.html')} (ENOENT)`);
  const res = await httpGet(`${daemon.httpUrl}/still`, { host: 'web.example.com', from: '127.0.0.2', headers: { accept: 'text/html' } });
  t.equal(res.status, 403);
  t.match(res.body, /Access denied/, 'the running config (built-in page) still answers');
});

t.test('a missing template at start: one stderr line naming file, service and field (or the flag), exit 2', async (t) => {
  const upstream = await startHttpUpstream();
  t.teardown(() => upstream.close());
  const dir = mkdtempSync(join(tmpdir(), 'nbp-deny-start-'));
  const config = join(dir, 'services.yaml');
  // The config is refused before anything is bound; the ports only have to be valid.
  const addr = `127.0.0.1:${await freePort()}`;
  writeFileSync(config, `services:\n${service('web', upstream, '    deny: { template: gone.html }\n')}`);
  const r = await runBinary(['--config', config, '--proxy-env', '/dev/null', '--http-addr', addr, '--admin-addr', addr], {}, 20_000);
  t.equal(r.stderr, `netbird-proxy: ${config}: service "web": field "deny.template": cannot read ${join(dir, 'gone.html')} (ENOENT)\n`);
  t.equal(r.code, 2);
  writeFileSync(config, `services:\n${service('web', upstream, '')}`);
  const g = await runBinary(['--config', config, '--proxy-env', '/dev/null', '--deny-template', join(dir, 'nope.html'), '--admin-addr', addr], {}, 20_000);
  t.equal(g.stderr, `netbird-proxy: ${config}: --deny-template / NB_PROXY_DENY_TEMPLATE: cannot read ${join(dir, 'nope.html')} (ENOENT)\n`);
  t.equal(g.code, 2);
});

t.test('forward_verdict with a country rule: the upstream gets X-Country-Code; a country denial shows its category', async (t) => {
  const upstream = await startHttpUpstream();
  const geo = (name: string, extra: string): string => `  - name: ${name}
    protocol: http
    domains: [${name}.example.com]
    target: ${upstream.url}
    access: { countries: { deny: [CN] } }
${extra}`;
  const daemon = await startDaemon({
    config: `services:\n${geo('hinted', '    forward_verdict: true\n')}${geo('plain', '')}  - name: no-us\n    protocol: http\n    domains: [no-us.example.com]\n    target: ${upstream.url}\n    access: { countries: { deny: [US] } }\n`,
    args: ['--trusted-proxies', '127.0.0.1'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  await daemon.waitFor((l) => l.msg === 'country database loaded');
  const hinted = await httpGet(`${daemon.httpUrl}/hinted`, { host: 'hinted.example.com', headers: { 'x-forwarded-for': '8.8.8.8', 'x-country-code': 'CN' } });
  t.equal(upstreamHeaders(hinted.body)['x-country-code'], 'US');
  t.equal(upstreamHeaders(hinted.body)['x-crowdsec-remediation'], undefined, 'CrowdSec off: no remediation header');
  const plain = await httpGet(`${daemon.httpUrl}/plain`, { host: 'plain.example.com', headers: { 'x-forwarded-for': '8.8.8.8', 'x-country-code': 'CN' } });
  t.equal(upstreamHeaders(plain.body)['x-country-code'], undefined, 'without forward_verdict: stripped, not set');
  const denied = await httpGet(`${daemon.httpUrl}/us`, { host: 'no-us.example.com', headers: { 'x-forwarded-for': '8.8.8.8', accept: 'text/html' } });
  t.equal(denied.status, 403);
  t.match(denied.body, /refused: not available in your country\./);
});
