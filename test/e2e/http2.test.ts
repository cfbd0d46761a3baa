// HTTP/2 on the HTTPS entrypoint of the real binary: ALPN, the request as the upstream sees it,
// upstream responses that HTTP/2 forbids, deny and deny page, access entries, --http2 false, and
// curl --http2 and Chromium as real clients.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { makeCa, issueLeaf } from '../harness/certs';
import { startDaemon, type LogLine } from '../harness/daemon';
import { until } from '../harness/clients';
import { connectH2 } from '../harness/h2-client';
import { httpsRequest } from '../harness/https-client';
import { launchBrowser } from '../harness/browser';
import { freePort } from '../harness/ports';
import { startHttpUpstream } from '../harness/upstreams';

const run = promisify(execFile);

t.test('HTTP/2 to clients, HTTP/1.1 to the upstream', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-h2-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'a', ['a.example.com', 'd.example.com']);
  const upstream = await startHttpUpstream((req, res) => {
    if (req.url === '/hop') {
      // Every header HTTP/2 forbids in a response, and one the Connection header names.
      res.writeHead(200, {
        connection: 'keep-alive, x-hop',
        'keep-alive': 'timeout=5',
        'x-hop': 'yes',
        'proxy-connection': 'keep-alive',
        upgrade: 'h2c',
        te: 'gzip',
        trailer: 'x-t',
        host: 'upstream.internal',
        'x-kept': 'yes',
      });
      res.end('hop');
      return;
    }
    if (req.url === '/odd-status') {
      res.writeHead(999, { 'x-kept': 'no' });
      res.end('odd');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders }));
  });
  const httpsPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: a
    protocol: http
    domains: [a.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
  - name: d
    protocol: http
    domains: [d.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
    access:
      cidr: { deny: [127.0.0.2/32] }
`,
    args: ['--https-addr', `127.0.0.1:${httpsPort}`],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const access = (path: string, from = '127.0.0.1'): Promise<LogLine> =>
    daemon.waitFor((l) => l.msg === 'access' && l.path === path && l.client_ip === from, 5000, `access entry for ${path}`);

  await t.test('ALPN h2; the upstream gets Host from :authority, the target from :path, no pseudo-header', async (t) => {
    const c = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem });
    t.equal(c.session.alpnProtocol, 'h2');
    const r = await c.get('/echo?q=1', { 'x-request-id': 'client-id-1', cookie: 'a=1' });
    t.equal(r.status, 200);
    const seen = JSON.parse(r.body) as { method: string; url: string; headers: Record<string, string>; rawHeaders: string[] };
    t.equal(seen.method, 'GET');
    t.equal(seen.url, '/echo?q=1');
    t.equal(seen.headers.host, `a.example.com:${httpsPort}`, 'Host from :authority');
    t.equal(seen.headers['x-forwarded-proto'], 'https');
    t.equal(seen.headers['x-forwarded-for'], '127.0.0.1');
    t.notOk(
      seen.rawHeaders.some((h, i) => i % 2 === 0 && h.startsWith(':')),
      'no pseudo-header reached the upstream',
    );
    t.equal(r.headers['transfer-encoding'], undefined, 'the upstream chunked encoding is not copied to the HTTP/2 response');
    const entry = await access('/echo?q=1');
    t.match(entry, {
      service: 'a',
      scheme: 'https',
      sni: 'a.example.com',
      http_version: '2.0',
      stream_id: 1,
      status: 200,
      method: 'GET',
      host: `a.example.com:${httpsPort}`,
    });
    t.equal(typeof entry.request_id, 'string');
    t.ok((entry.bytes_in as number) > 20 && (entry.bytes_out as number) > 100, 'bytes of the stream itself');
    const second = await c.get('/echo?q=2');
    t.equal(second.status, 200);
    t.match(await access('/echo?q=2'), { stream_id: 3 }, 'the second request is the next stream on the same session');
    c.close();
  });

  await t.test('connection-specific headers of the upstream are dropped, the session goes on', async (t) => {
    const c = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem });
    const r = await c.get('/hop');
    t.equal(r.status, 200);
    t.equal(r.body, 'hop');
    t.equal(r.headers['x-kept'], 'yes');
    for (const name of ['connection', 'keep-alive', 'x-hop', 'proxy-connection', 'upgrade', 'te', 'trailer', 'host'])
      t.equal(r.headers[name], undefined, `${name} dropped`);
    const odd = await c.get('/odd-status');
    t.equal(odd.status, 502, 'a status HTTP/2 cannot carry becomes 502');
    t.equal(odd.headers['x-kept'], undefined);
    t.match(await access('/odd-status'), { status: 502, upstream_error: 'other' });
    t.equal((await c.get('/echo?after')).status, 200, 'the same session still serves');
    t.notOk(c.closed());
    c.close();
  });

  await t.test('a denied client gets the deny page over HTTP/2, and its access entry', async (t) => {
    const c = await connectH2({ port: httpsPort, servername: 'd.example.com', ca: ca.rootPem, from: '127.0.0.2' });
    const before = upstream.requests.length;
    const r = await c.get('/secret', { accept: 'text/html' });
    t.equal(r.status, 403);
    t.match(r.body, /<html/i, 'the HTML deny page');
    const entry = await access('/secret', '127.0.0.2');
    t.match(entry, { service: 'd', status: 403, deny_reason: 'ip_restricted', http_version: '2.0' });
    t.match(r.body, entry.request_id as string, 'the page shows the request id of the access entry');
    t.equal(upstream.requests.length, before, 'nothing reached the upstream');
    const unknown = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem });
    t.equal((await unknown.get('/x', { ':authority': 'nobody.example.com' })).status, 404, 'an unknown :authority is a 404');
    unknown.close();
    c.close();
  });

  await t.test('HTTP/1.1 clients keep working on the same entrypoint', async (t) => {
    const r = await httpsRequest({ port: httpsPort, servername: 'a.example.com', path: '/one', ca: ca.rootPem });
    t.equal(r.status, 200);
    t.match(await access('/one'), { http_version: '1.1', stream_id: undefined });
    // The HTTP/2 server hands HTTP/1.1 connections the http.Server limits it would not take itself.
    const big = await httpsRequest({
      port: httpsPort,
      servername: 'a.example.com',
      path: '/big-head',
      ca: ca.rootPem,
      headers: { 'x-big': 'a'.repeat(20_000) },
    });
    t.equal(big.status, 431, '--max-header-size applies to HTTP/1.1 over TLS');
    t.match(await daemon.waitFor((l) => l.msg === 'access' && l.status === 431, 5000), { service: '', client_ip: '127.0.0.1' });
  });

  await t.test('curl --http2', async (t) => {
    const { stdout } = await run('curl', [
      '-s',
      '--http2',
      '--cacert',
      join(ca.dir, 'root.crt'),
      '--resolve',
      `a.example.com:${httpsPort}:127.0.0.1`,
      '-o',
      '/dev/null',
      '-w',
      '%{http_version} %{http_code}',
      `https://a.example.com:${httpsPort}/curl`,
    ]);
    t.equal(stdout, '2 200');
    t.match(await access('/curl'), { http_version: '2.0' });
  });

  await t.test('Chromium loads the page over h2', async (t) => {
    const browser = await launchBrowser({ args: [`--host-resolver-rules=MAP a.example.com 127.0.0.1`], ignoreHTTPSErrors: true });
    t.teardown(() => browser.close());
    const page = await browser.newPage();
    const response = await page.goto(`https://a.example.com:${httpsPort}/browser`);
    t.equal(response?.status(), 200);
    const protocol = await page.evaluate(() => (performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming).nextHopProtocol);
    t.equal(protocol, 'h2');
    t.match(await access('/browser'), { http_version: '2.0' });
  });
});

t.test('--http2 false: ALPN offers http/1.1 only', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-h2off-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'a', ['a.example.com']);
  const upstream = await startHttpUpstream();
  const httpsPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: a
    protocol: http
    domains: [a.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
`,
    args: ['--https-addr', `127.0.0.1:${httpsPort}`, '--http2', 'false'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  await t.rejects(connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem }), 'no h2 session can be made');
  const { stdout } = await run('curl', [
    '-s',
    '--http2',
    '-k',
    '--resolve',
    `a.example.com:${httpsPort}:127.0.0.1`,
    '-o',
    '/dev/null',
    '-w',
    '%{http_version}',
    `https://a.example.com:${httpsPort}/`,
  ]);
  t.equal(stdout, '1.1');
});

t.test('shutdown: GOAWAY to HTTP/2 sessions, in-flight streams cut after the grace', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-h2stop-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'a', ['a.example.com']);
  const upstream = await startHttpUpstream((req, res) => {
    res.writeHead(200);
    res.write('started');
    if (req.url === '/quick') res.end();
  });
  const httpsPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: a
    protocol: http
    domains: [a.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
`,
    args: ['--https-addr', `127.0.0.1:${httpsPort}`, '--shutdown-grace', '1s'],
  });
  t.teardown(() => upstream.close());
  const idle = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem });
  t.equal((await idle.get('/quick')).status, 200);
  const busy = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem });
  const stream = busy.session.request({ ':path': '/endless' });
  stream.on('error', () => undefined);
  stream.resume();
  await new Promise((r) => stream.once('response', r));
  const code = await daemon.stop();
  t.equal(code, 0, 'the daemon exits cleanly');
  t.equal(idle.goaway(), 0, 'the idle session got GOAWAY NO_ERROR');
  await until('the session with a stream in flight closed after the grace', () => busy.closed(), 5000);
  t.pass('the session with a stream in flight is closed after the grace');
});
