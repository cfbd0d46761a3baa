// The canonical request at the edge (docs/request-hygiene.md), replayed against the real binary
// with raw sockets: every finding of issue 21 that concerns the HTTP/HTTPS/upgrade path.
import t, { type Test } from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type http from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { makeCa, issueLeaf } from '../harness/certs';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { httpGet, openTcp, until } from '../harness/clients';
import { freePort } from '../harness/ports';
import { firstStatus, hasHead, rawExchange } from '../harness/raw-http';
import { startHttpUpstream, type HttpUpstream } from '../harness/upstreams';

const DENIED = '127.0.0.2';

function upstreamHandler(req: http.IncomingMessage, res: http.ServerResponse): void {
  if (req.url === '/hop-response') {
    res.writeHead(200, { connection: 'X-Upstream-Private', 'x-upstream-private': 'secret', 'proxy-connection': 'keep-alive', 'x-kept': '1' });
    res.end('ok');
    return;
  }
  let size = 0;
  req.on('data', (c: Buffer) => (size += c.length));
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, size }));
  });
}

async function fixture(t: Test): Promise<{ daemon: Daemon; upstream: HttpUpstream; httpsPort: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-hygiene-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'secure', ['secure.example.com']);
  const upstream = await startHttpUpstream(upstreamHandler);
  const httpsPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [app.example.com]
    target: ${upstream.url}
  - name: admin
    protocol: http
    domains: [admin.example.com]
    target: ${upstream.url}
    access:
      cidr: { deny: [${DENIED}/32] }
  - name: secure
    protocol: http
    domains: [secure.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
`,
    args: ['--https-addr', `127.0.0.1:${httpsPort}`],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  return { daemon, upstream, httpsPort };
}

function accessWith(daemon: Daemon, match: (l: LogLine) => boolean, what: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && match(l), 5000, what);
}

function seen(upstream: HttpUpstream, marker: string): http.IncomingMessage[] {
  // Not X-Request-Id: a random id holds a marker like "f1" now and then (a flake seen in CI).
  return upstream.requests.filter((r) => (r.url ?? '').includes(marker) || JSON.stringify({ ...r.headers, 'x-request-id': undefined }).includes(marker));
}

async function stillServes(t: Test, daemon: Daemon): Promise<void> {
  t.equal(daemon.child.exitCode, null, 'the proxy is still running');
  t.equal((await httpGet(`${daemon.httpUrl}/alive`, { host: 'app.example.com', from: '127.0.0.3' })).status, 200, 'and serves a clean client');
}

t.test('finding 1: a broken absolute-form target is a 400, on HTTP, HTTPS and upgrades', async (t) => {
  const { daemon, upstream, httpsPort } = await fixture(t);
  const line = 'GET http://[::1/f1 HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n';
  t.equal(firstStatus((await rawExchange(daemon.httpPort, line)).text), 400, 'HTTP');
  await stillServes(t, daemon);
  const tlsLine = 'GET http://[::1/f1 HTTP/1.1\r\nHost: secure.example.com\r\nConnection: close\r\n\r\n';
  t.equal(firstStatus((await rawExchange(httpsPort, tlsLine, { servername: 'secure.example.com' })).text), 400, 'HTTPS');
  await stillServes(t, daemon);
  const ws =
    'GET http://[::1/f1 HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n';
  t.equal(firstStatus((await rawExchange(daemon.httpPort, ws)).text), 400, 'WebSocket upgrade');
  await stillServes(t, daemon);
  const entry = await accessWith(daemon, (l) => l.status === 400 && l.path === 'http://[::1/f1', 'access entry of the 400');
  t.equal(entry.client_ip, '127.0.0.1', 'the refusal is logged with the client');
  t.equal(seen(upstream, 'f1').length, 0, 'nothing reached the upstream');

  const abs = await rawExchange(daemon.httpPort, 'GET http://APP.example.com/f1-abs?q=1 HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n');
  t.equal(firstStatus(abs.text), 200, 'a valid absolute-form target is served');
  const got = seen(upstream, 'f1-abs')[0];
  t.equal(got?.url, '/f1-abs?q=1', 'rewritten to origin-form for the upstream');
  t.equal(got?.headers.host, 'app.example.com');
  const other = await rawExchange(daemon.httpPort, 'GET http://admin.example.com/f1-other HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n', {
    from: DENIED,
  });
  t.equal(firstStatus(other.text), 403, "the target's authority wins over the Host (RFC 9112 §3.2.2): routed to admin, which denies this client");
  t.equal(seen(upstream, 'f1-other').length, 0);
});

t.test('an HTTP/1 request line claiming HTTP/2.0 is a 505, not an HTTP/2 request (found by the fuzzer after the HTTP/2 merge)', async (t) => {
  const { daemon, upstream } = await fixture(t);
  const line = 'GET /h2-claim HTTP/2.0\r\nHost: app.example.com\r\nConnection: close\r\n\r\n';
  t.equal(firstStatus((await rawExchange(daemon.httpPort, line)).text), 505);
  await stillServes(t, daemon);
  await accessWith(daemon, (l) => l.status === 505 && l.path === '/h2-claim', 'access entry of the 505');
  t.equal(seen(upstream, 'h2-claim').length, 0, 'nothing reached the upstream');
  const errors = daemon.lines.filter((l) => l.msg === 'request handler failed');
  t.same(errors, [], 'no handler threw');
});

t.test('finding 2: the Host is canonical or refused, and the upstream gets the one routed on', async (t) => {
  const { daemon, upstream } = await fixture(t);
  for (const host of [
    'app.example.com:x@admin.example.com',
    'app.example.com@admin.example.com',
    'app.example.com admin.example.com',
    'app.example.com:99999',
  ]) {
    const r = await rawExchange(daemon.httpPort, `GET /f2 HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`, { from: DENIED });
    t.equal(firstStatus(r.text), 400, `Host: ${host} is a 400`);
  }
  t.equal(seen(upstream, 'f2').length, 0, 'none reached the upstream');
  await accessWith(daemon, (l) => l.status === 400 && l.path === '/f2', 'access entry of a bad Host');
  const r = await rawExchange(daemon.httpPort, 'GET /f2-ok HTTP/1.1\r\nHost: APP.Example.COM.:080\r\nConnection: close\r\n\r\n');
  t.equal(firstStatus(r.text), 200);
  t.equal(seen(upstream, 'f2-ok')[0]?.headers.host, 'app.example.com:80', 'the upstream gets the normalised Host');
  t.equal(seen(upstream, 'f2-ok')[0]?.headers['x-forwarded-host'], 'app.example.com:80');
  const redirect = await rawExchange(daemon.httpPort, 'GET /f2-redirect HTTP/1.1\r\nHost: SECURE.example.com.\r\nConnection: close\r\n\r\n');
  t.equal(firstStatus(redirect.text), 308, 'redirect_https applies to the canonical Host');
  t.match(redirect.text, /\r\nLocation: https:\/\/secure\.example\.com\/f2-redirect\r\n/i);
});

t.test('finding 4: hop-by-hop headers are removed both ways', async (t) => {
  const { daemon, upstream } = await fixture(t);
  const r = await rawExchange(
    daemon.httpPort,
    'GET /f4 HTTP/1.1\r\nHost: app.example.com\r\nConnection: X-Forwarded-For, X-Request-Id, X-Private, close\r\nX-Private: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nTE: trailers, gzip\r\nTrailer: X-T\r\nUpgrade: h2c\r\n\r\n',
  );
  t.equal(firstStatus(r.text), 200);
  const got = seen(upstream, 'f4')[0];
  t.ok(got !== undefined, 'the request was forwarded');
  const h = got?.headers ?? {};
  t.equal(h['x-forwarded-for'], '127.0.0.1', 'the proxy-set X-Forwarded-For arrives');
  t.type(h['x-request-id'], 'string', 'and X-Request-Id');
  t.equal(h['x-private'], undefined, 'a header named by Connection is dropped');
  t.equal(h['keep-alive'], undefined, 'Keep-Alive is dropped');
  t.equal(h['proxy-connection'], undefined, 'Proxy-Connection is dropped');
  t.equal(h.trailer, undefined, 'Trailer is dropped');
  t.equal(h.upgrade, undefined, 'a non-WebSocket Upgrade is dropped');
  t.equal(h.te, 'trailers', 'TE keeps only trailers');
  t.not(String(h.connection ?? ''), /x-forwarded-for|x-private/i, "the client's Connection list is not forwarded");

  const res = await rawExchange(daemon.httpPort, 'GET /hop-response HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n');
  t.equal(firstStatus(res.text), 200);
  t.match(res.text, /\r\nx-kept: 1\r\n/i);
  t.notMatch(res.text, /x-upstream-private/i, 'a header the upstream named in Connection does not reach the client');
  t.notMatch(res.text, /proxy-connection/i, 'nor Proxy-Connection');
});

t.test('finding 5: a denied body is discarded for at most 64 KiB, then the connection is closed', async (t) => {
  const { daemon, upstream } = await fixture(t);
  const { socket, closed } = await openTcp(daemon.httpPort, DENIED);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (c: string) => (text += c));
  socket.on('error', () => undefined);
  socket.write('POST /f5 HTTP/1.1\r\nHost: admin.example.com\r\nContent-Length: 100000000\r\n\r\n');
  await until('the 403', () => hasHead(text));
  t.equal(firstStatus(text), 403);
  const chunk = Buffer.alloc(8192, 120);
  let sent = 0;
  while (!closed() && sent < 64 * 1024 * 1024) {
    if (!socket.write(chunk)) await new Promise((r) => (socket.once('drain', r), socket.once('close', r)));
    sent += chunk.length;
    if (sent % (64 * 1024) === 0) await new Promise((r) => setImmediate(r));
  }
  await until('the connection closed', closed, 10_000).catch(() => undefined);
  t.ok(closed() && sent < 64 * 1024 * 1024, `the proxy closed the connection (after ${sent} bytes sent, of 100,000,000 announced)`);
  socket.destroy();
  t.equal(seen(upstream, 'f5').length, 0);
});

t.test('finding 5: a denied client trickling its body is cut within the lingering time', async (t) => {
  const { daemon } = await fixture(t);
  const { socket, closed } = await openTcp(daemon.httpPort, DENIED);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (c: string) => (text += c));
  socket.on('error', () => undefined);
  socket.write('POST /f5-trickle HTTP/1.1\r\nHost: admin.example.com\r\nTransfer-Encoding: chunked\r\n\r\n');
  await until('the 403', () => hasHead(text));
  t.equal(firstStatus(text), 403);
  const timer = setInterval(() => socket.writable && socket.write('1\r\nx\r\n'), 2000);
  await until('the connection closed', closed, 60_000).catch(() => undefined);
  clearInterval(timer);
  t.ok(closed(), 'the trickling connection was closed');
  socket.destroy();
});

t.test('finding 6: Transfer-Encoding, Expect, CONNECT and upgrades', async (t) => {
  const { daemon, upstream } = await fixture(t);
  const te = await rawExchange(
    daemon.httpPort,
    'POST /f6-te HTTP/1.1\r\nHost: app.example.com\r\nTransfer-Encoding: identity, chunked\r\nConnection: close\r\n\r\n1\r\nx\r\n0\r\n\r\n',
  );
  t.equal(firstStatus(te.text), 501, 'Transfer-Encoding other than a lone final chunked is 501');
  const te10 = await rawExchange(daemon.httpPort, 'POST /f6-te10 HTTP/1.0\r\nHost: app.example.com\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nx\r\n0\r\n\r\n');
  t.equal(firstStatus(te10.text), 400, 'Transfer-Encoding with HTTP/1.0 is 400');
  t.equal(seen(upstream, 'f6-te').length, 0, 'neither reached the upstream');

  const denied = await rawExchange(
    daemon.httpPort,
    'POST /f6-expect HTTP/1.1\r\nHost: admin.example.com\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
    {
      from: DENIED,
      until: hasHead,
    },
  );
  t.equal(firstStatus(denied.text), 403, 'a denied client gets its 403 without a 100 Continue first');
  const allowed = await rawExchange(
    daemon.httpPort,
    'POST /f6-continue HTTP/1.1\r\nHost: app.example.com\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n',
    {
      until: hasHead,
    },
  );
  t.equal(firstStatus(allowed.text), 100, 'an admitted client gets its 100 Continue');
  const odd = await rawExchange(daemon.httpPort, 'GET /f6-odd HTTP/1.1\r\nHost: app.example.com\r\nExpect: something-else\r\nConnection: close\r\n\r\n');
  t.equal(firstStatus(odd.text), 417, 'an unknown expectation is 417');
  await accessWith(daemon, (l) => l.status === 417 && l.path === '/f6-odd', 'access entry of the 417');

  const connect = await rawExchange(daemon.httpPort, 'CONNECT app.example.com:443 HTTP/1.1\r\nHost: app.example.com:443\r\n\r\n');
  t.equal(firstStatus(connect.text), 405, 'CONNECT is answered 405');
  await accessWith(daemon, (l) => l.status === 405 && l.method === 'CONNECT', 'access entry of the CONNECT');

  const h2c = await rawExchange(
    daemon.httpPort,
    'GET /f6-h2c HTTP/1.1\r\nHost: app.example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n',
  );
  const sent = firstStatus(h2c.text);
  t.not(sent, 0, `a non-WebSocket upgrade is answered (${sent})`);
  const entry = await accessWith(daemon, (l) => l.path === '/f6-h2c', 'access entry of the h2c upgrade');
  t.equal(entry.status, sent, 'and logged with the status actually sent');
  await stillServes(t, daemon);
});

t.test('finding 7: unknown ACME challenge paths are 404 by the proxy, never forwarded', async (t) => {
  const { daemon, upstream } = await fixture(t);
  for (const path of ['/.well-known/acme-challenge/unknown-f7', '/.well-known/acme-challenge/../f7-admin', '/.well-known/acme-challenge/x/../../f7-up']) {
    const r = await rawExchange(daemon.httpPort, `GET ${path} HTTP/1.1\r\nHost: secure.example.com\r\nConnection: close\r\n\r\n`);
    t.equal(firstStatus(r.text), 404, `${path} is 404`);
  }
  t.equal(seen(upstream, 'f7').length, 0, 'no challenge path reached the upstream over plain HTTP');
});

t.test('an upstream response Node would refuse to relay never takes the process down', async (t) => {
  // A raw upstream: what it sends depends on the request's path.
  const answers: Record<string, string> = {
    '/del': 'HTTP/1.1 200 OK\r\nX-Bad: a\x7fb\r\nX-Good: 1\r\nContent-Length: 2\r\n\r\nok',
    '/status': 'HTTP/1.1 099 Odd\r\nContent-Length: 2\r\n\r\nok',
    '/reason': 'HTTP/1.1 200 O\x7fK\r\nContent-Length: 2\r\n\r\nok',
    '/hop': 'HTTP/1.1 200 OK\r\nConnection: X-Hidden\r\nX-Hidden: 1\r\nContent-Length: 2\r\n\r\nok',
    // Since requests left http-proxy for forward/exchange.ts: statuses at the edges of what Node relays.
    '/switching': 'HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\nok',
    '/hints': 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    '/s999': 'HTTP/1.1 999 Whatever\r\nContent-Length: 2\r\n\r\nok',
    '/http10': 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nclose-delimited',
    '/dup-length': 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nok',
  };
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    let head = '';
    socket.setEncoding('latin1');
    socket.on('data', (c: string) => {
      head += c;
      if (!head.includes('\r\n\r\n')) return;
      const path = head.split(' ')[1] ?? '';
      socket.end(answers[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n', 'latin1');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const daemon = await startDaemon({
    config: `services:
  - name: raw
    protocol: http
    domains: [app.example.com]
    target: http://127.0.0.1:${port}
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await new Promise((r) => server.close(r));
  });
  for (const path of Object.keys(answers)) {
    const r = await rawExchange(daemon.httpPort, `GET ${path} HTTP/1.1\r\nHost: app.example.com\r\nConnection: close\r\n\r\n`);
    t.not(firstStatus(r.text), 0, `${path}: answered (${firstStatus(r.text)})`);
    t.equal(daemon.child.exitCode, null, `${path}: the proxy is still running`);
    if (path === '/hop') t.notMatch(r.text, /x-hidden/i, 'a header the upstream named in Connection is dropped');
    if (path === '/hints') t.match(r.text, /^HTTP\/1\.1 200 [^]*\r\n\r\nok$/, 'the final answer after an interim one');
    if (path === '/http10') t.match(r.text, /\r\n\r\nf\r\nclose-delimited\r\n0\r\n\r\n$/, 'a close-delimited upstream body is relayed whole (chunked)');
    if (path === '/switching') t.equal(firstStatus(r.text), 502, 'a 101 nobody asked for is a bad answer, not a hang');
  }
  t.notOk(
    daemon.lines.some((l) => typeof l.msg === 'string' && l.msg.includes('crashed')),
    'nothing crashed',
  );
});
