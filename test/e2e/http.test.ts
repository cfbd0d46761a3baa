import t from 'tap';
import WebSocket, { WebSocketServer } from 'ws';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDaemon } from '../harness/daemon';
import { httpGet, until } from '../harness/clients';
import { startHttpUpstream } from '../harness/upstreams';
import { freePort } from '../harness/ports';

t.test('HTTP forwarding, routing, CIDR, client IP, errors', async (t) => {
  const upstream = await startHttpUpstream();
  const slow = await startHttpUpstream((_req, res) => {
    setTimeout(() => res.end('late'), 3000).unref();
  });
  const refusedPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [app.example.com, "*.example.org"]
    target: ${upstream.url}
    access:
      cidr: { allow: [127.0.0.0/8], deny: [127.0.0.2/32] }
  - name: down
    protocol: http
    domains: [down.example.com]
    target: http://127.0.0.1:${refusedPort}
  - name: slow
    protocol: http
    domains: [slow.example.com]
    target: ${slow.url}
`,
    args: ['--upstream-timeout', '500ms', '--trusted-proxies', '127.0.0.9/32'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await slow.close();
  });

  await t.test('routes by Host and sets X-Forwarded-* replacing what an untrusted client sent', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/hello?x=1`, {
      host: 'app.example.com:8080',
      headers: { 'x-forwarded-for': '6.6.6.6', 'x-forwarded-proto': 'https' },
    });
    t.equal(res.status, 200);
    const seen = JSON.parse(res.body) as { url: string; headers: Record<string, string> };
    t.equal(seen.url, '/hello?x=1');
    t.equal(seen.headers['x-forwarded-for'], '127.0.0.1', 'spoofed XFF from an untrusted peer is replaced');
    t.equal(seen.headers['x-forwarded-proto'], 'http');
    t.equal(seen.headers['x-forwarded-host'], 'app.example.com:8080');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/hello?x=1');
    t.match(entry, {
      service: 'web',
      protocol: 'http',
      client_ip: '127.0.0.1',
      method: 'GET',
      host: 'app.example.com:8080',
      status: 200,
      deny_reason: '',
      metadata: {},
    });
    t.ok((entry.bytes_in as number) > 60, 'bytes_in counts the request line and headers');
    t.ok((entry.bytes_out as number) > res.body.length, 'bytes_out counts the response headers and body');
    t.type(entry.duration_ms, 'number');
  });

  await t.test('a wildcard domain matches exactly one label', async (t) => {
    t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'a.example.org' })).status, 200);
    t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'a.b.example.org' })).status, 404);
    t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'example.org' })).status, 404);
  });

  await t.test('unknown host: 404 with a short body and an access entry', async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/nope`, { host: 'unknown.example.net' });
    t.equal(res.status, 404);
    t.equal(res.body, 'Not Found\n');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/nope');
    t.match(entry, { service: '', status: 404, host: 'unknown.example.net' });
  });

  await t.test('a denied source gets 403 Forbidden and ip_restricted, and the upstream sees nothing', async (t) => {
    const before = upstream.requests.length;
    const res = await httpGet(`${daemon.httpUrl}/denied`, { host: 'app.example.com', from: '127.0.0.2' });
    t.equal(res.status, 403);
    t.equal(res.body, 'Forbidden');
    t.equal(upstream.requests.length, before, 'upstream not contacted');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/denied');
    t.match(entry, { service: 'web', client_ip: '127.0.0.2', status: 403, deny_reason: 'ip_restricted' });
    t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'app.example.com', from: '127.0.0.3' })).status, 200, 'another source is allowed');
  });

  await t.test("a trusted proxy's X-Forwarded-For gives the client, and the rules apply to it", async (t) => {
    const res = await httpGet(`${daemon.httpUrl}/via-lb`, { host: 'app.example.com', from: '127.0.0.9', headers: { 'x-forwarded-for': '127.0.0.2' } });
    t.equal(res.status, 403, 'the client behind the trusted proxy is denied');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/via-lb');
    t.match(entry, { client_ip: '127.0.0.2', deny_reason: 'ip_restricted' });
    const ok = await httpGet(`${daemon.httpUrl}/via-lb-ok`, { host: 'app.example.com', from: '127.0.0.9', headers: { 'x-forwarded-for': '127.0.0.5' } });
    const seen = JSON.parse(ok.body) as { headers: Record<string, string> };
    t.equal(seen.headers['x-forwarded-for'], '127.0.0.5, 127.0.0.9', 'trusted chain is extended');
  });

  await t.test('an upstream that refuses gives 502; one that is too slow gives 504; the process survives', async (t) => {
    const refused = await httpGet(`${daemon.httpUrl}/`, { host: 'down.example.com' });
    t.equal(refused.status, 502);
    const timedOut = await httpGet(`${daemon.httpUrl}/`, { host: 'slow.example.com' });
    t.equal(timedOut.status, 504);
    const after = await httpGet(`${daemon.httpUrl}/`, { host: 'app.example.com' });
    t.equal(after.status, 200, 'still serving');
    t.equal(daemon.child.exitCode, null);
  });

  await t.test('a client that disconnects mid-request does not crash the proxy', async (t) => {
    await new Promise<void>((resolve) => {
      const req = http.request(`${daemon.httpUrl}/`, { headers: { host: 'slow.example.com' }, agent: false });
      req.on('error', () => resolve());
      req.end();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 100);
    });
    const gone = await daemon.waitFor((l) => l.msg === 'access' && l.host === 'slow.example.com' && l.status === 499, 5000, 'the aborted request logged 499');
    t.equal(gone.status, 499);
    t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'app.example.com' })).status, 200);
  });

  await t.test('/healthz answers 200', async (t) => {
    t.equal((await httpGet(`${daemon.adminUrl}/healthz`)).status, 200);
  });
});

// Its own timeout: a regression that lets a denied upgrade through fails here at once, not at tap's 300 s.
t.test('WebSocket upgrades are proxied, and denied before reaching the upstream', { timeout: 30_000 }, async (t) => {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  let upgrades = 0;
  wss.on('connection', (ws) => {
    upgrades++;
    ws.on('message', (data) => ws.send(`echo:${data.toString()}`));
  });
  await new Promise((r) => wss.once('listening', r));
  const port = (wss.address() as AddressInfo).port;
  const daemon = await startDaemon({
    config: `services:
  - name: ws
    protocol: http
    domains: [ws.example.com]
    target: http://127.0.0.1:${port}
    access:
      cidr: { deny: [127.0.0.2] }
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await new Promise((r) => wss.close(r));
  });

  const echoed = await new Promise<string>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}/chat`, { headers: { host: 'ws.example.com' } });
    ws.on('open', () => ws.send('hi'));
    ws.on('message', (d) => {
      resolve(d.toString());
      ws.close();
    });
    ws.on('error', reject);
  });
  t.equal(echoed, 'echo:hi');

  const status = await new Promise<number>((resolve) => {
    const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}/chat`, { headers: { host: 'ws.example.com' }, localAddress: '127.0.0.2' });
    ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
    ws.on('open', () => {
      ws.terminate();
      resolve(101);
    });
    ws.on('error', () => resolve(-1));
  });
  t.equal(status, 403);
  t.equal(upgrades, 1, 'the denied upgrade never reached the upstream');
  const entry = await daemon.waitFor((l) => l.msg === 'access' && l.client_ip === '127.0.0.2');
  t.match(entry, { service: 'ws', status: 403, deny_reason: 'ip_restricted' });
});

t.test('SIGTERM lets an in-flight request finish, then exits 0', async (t) => {
  const slow = await startHttpUpstream((_req, res) => {
    setTimeout(() => res.end('finished'), 700).unref();
  });
  const daemon = await startDaemon({
    config: `services:
  - name: slow
    protocol: http
    domains: [slow.example.com]
    target: ${slow.url}
`,
  });
  t.teardown(() => slow.close());
  const inflight = httpGet(`${daemon.httpUrl}/`, { host: 'slow.example.com' });
  await until('the request reached the upstream', () => slow.requests.length === 1);
  daemon.signal('SIGTERM');
  const res = await inflight;
  t.equal(res.status, 200);
  t.equal(res.body, 'finished', 'the request in flight completed');
  t.equal(await daemon.stop(), 0);
  await t.rejects(httpGet(`${daemon.httpUrl}/`, { host: 'slow.example.com' }), 'no longer accepting');
  t.ok(
    daemon.lines.some((l) => l.msg === 'netbird-proxy stopped'),
    'logs were flushed before exit',
  );
});

t.test('WebSocket: the access entry records what the client got when the upgrade fails', async (t) => {
  const refusing = await startHttpUpstream((_req, res) => {
    res.writeHead(400, { 'content-type': 'text/plain' });
    res.end('no upgrade here');
  });
  const downPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: refusing
    protocol: http
    domains: [refusing.example.com]
    target: ${refusing.url}
  - name: down
    protocol: http
    domains: [down.example.com]
    target: http://127.0.0.1:${downPort}
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await refusing.close();
  });
  const upgrade = (host: string, path: string): Promise<number> =>
    new Promise((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}${path}`, { headers: { host } });
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
      ws.on('error', () => resolve(-1));
    });
  t.equal(await upgrade('refusing.example.com', '/r'), 400, 'the upstream refusal reaches the client');
  t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/r'), { service: 'refusing', status: 400 });
  t.equal(await upgrade('down.example.com', '/d'), 502, 'an unreachable upstream gives 502');
  t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/d'), { service: 'down', status: 502 });
  t.equal(daemon.child.exitCode, null);
});
