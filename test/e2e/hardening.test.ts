// Attacks and misbehaving peers replayed against the real binary (issue "Hold the edge").
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { startDaemon } from '../harness/daemon';
import { httpGet, until } from '../harness/clients';
import { httpFixture } from '../harness/fixture';
import { startHttpUpstream, startLiveEcho } from '../harness/upstreams';
import { freePort } from '../harness/ports';

/** Connects from `from`, writes `payload`, and resets the connection (SO_LINGER 0) at once. */
function sendAndReset(port: number, from: string, payload: string): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from }, () => {
      s.write(payload);
      s.resetAndDestroy();
    });
    s.on('error', () => undefined);
    s.on('close', () => resolve());
  });
}

/** Sends raw bytes and collects the answer until the server closes (or timeoutMs). */
function rawExchange(
  port: number,
  data: string | Buffer,
  opts: { from?: string; timeoutMs?: number; keepOpen?: boolean } = {},
): Promise<{ text: string; closed: boolean; ms: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    let text = '';
    const s = net.connect({ port, host: '127.0.0.1', localAddress: opts.from }, () => s.write(data));
    s.setEncoding('latin1');
    s.on('data', (c: string) => (text += c));
    s.on('error', () => undefined);
    const timer = setTimeout(() => {
      s.destroy();
      resolve({ text, closed: false, ms: Date.now() - t0 });
    }, opts.timeoutMs ?? 5000);
    s.on('close', () => {
      clearTimeout(timer);
      resolve({ text, closed: true, ms: Date.now() - t0 });
    });
  });
}

t.test('reset right after sending never bypasses the deny lists (HTTP and TCP)', async (t) => {
  const upstream = await startHttpUpstream();
  const echo = await startLiveEcho();
  const tcpPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [app.example.com]
    target: ${upstream.url}
    access:
      cidr: { deny: [127.0.0.2/32] }
  - name: raw
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${echo.port}
    access:
      cidr: { deny: [127.0.0.2/32] }
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await echo.close();
  });
  const ROUNDS = 300;
  for (let i = 0; i < ROUNDS; i++) {
    await Promise.all([
      sendAndReset(daemon.httpPort, '127.0.0.2', `GET /attack-${i} HTTP/1.1\r\nHost: app.example.com\r\n\r\n`),
      sendAndReset(tcpPort, '127.0.0.2', `attack-${i}`),
    ]);
  }
  // A clean request afterwards proves the proxy is up and that anything the attack let through has arrived.
  t.equal((await httpGet(`${daemon.httpUrl}/clean`, { host: 'app.example.com' })).status, 200);
  t.equal(upstream.requests.filter((r) => r.url?.startsWith('/attack')).length, 0, `0 of ${ROUNDS} reset HTTP requests reached the upstream`);
  t.equal(echo.bytes, 0, `0 bytes of ${ROUNDS} reset TCP payloads reached the upstream`);
  t.equal(echo.connections, 0, 'the TCP upstream was never dialed for the denied client');
  const logged = daemon.access().filter((l) => l.client_ip === '');
  t.equal(logged.length, 0, 'no access entry has an empty client_ip');
  const metrics = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
  t.match(metrics, /netbird_proxy_connections_dropped_total\{listener="(http|tcp)",reason="unknown_peer"\} [1-9]/, 'unknown peers are counted');
});

t.test('with --proxy-protocol the header timeout and the shutdown grace still apply', async (t) => {
  const { daemon } = await httpFixture(t, {
    args: ['--proxy-protocol', '--trusted-proxies', '127.0.0.9/32', '--header-timeout', '1s', '--shutdown-grace', '2s'],
  });
  // An untrusted peer (no PROXY header read) that never finishes its request head.
  const slow = await rawExchange(daemon.httpPort, 'GET / HTTP/1.1\r\nHost: app.example.com\r\nX-Slow: 1\r\n', { timeoutMs: 8000 });
  t.ok(slow.closed, `a half-sent request head is closed (after ${slow.ms} ms)`);
  t.match(slow.text, /^HTTP\/1\.1 408 /, 'and answered 408');
  const entry = await daemon.waitFor((l) => l.msg === 'access' && l.status === 408, 5000, '408 access entry');
  t.equal(entry.client_ip, '127.0.0.1', 'the 408 is logged with the client IP');

  // A trusted balancer's client, identified by its PROXY header, holds a half-sent request at shutdown.
  const held = net.connect({ port: daemon.httpPort, host: '127.0.0.1', localAddress: '127.0.0.9' });
  held.on('error', () => undefined);
  await new Promise<void>((r) => held.once('connect', () => r()));
  held.write('PROXY TCP4 198.51.100.7 127.0.0.1 5555 80\r\nGET / HTTP/1.1\r\nHost: app.example.com\r\n');
  const closedAt = new Promise<number>((r) => held.once('close', () => r(Date.now())));
  const t0 = Date.now();
  const code = await daemon.stop();
  t.equal(code, 0, 'SIGTERM exits 0');
  t.ok(Date.now() - t0 < 5000, `the daemon stopped within the grace (${Date.now() - t0} ms), without waiting for the client`);
  t.ok((await closedAt) - t0 < 5000, 'the held connection was closed');
});

t.test('an upstream dying mid-body truncates the response; a client leaving early is 499', async (t) => {
  const { daemon } = await httpFixture(t, {
    handler: (req, res) => {
      if (req.url === '/die') {
        res.writeHead(200, { 'content-length': '100' });
        res.write('partial');
        setTimeout(() => res.socket?.destroy(), 50);
        return;
      }
      if (req.url === '/slow') {
        setTimeout(() => res.end('late'), 1500).unref();
        return;
      }
      res.end('ok');
    },
  });
  const died = await rawExchange(daemon.httpPort, 'GET /die HTTP/1.1\r\nHost: app.example.com\r\n\r\n', { timeoutMs: 8000 });
  t.ok(died.closed, `the client connection is closed, not left hanging (${died.ms} ms)`);
  t.match(died.text, /Content-Length: 100/i);
  t.ok(died.text.endsWith('partial'), 'the client got the truncated body');
  const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/die', 5000, 'access entry of /die');
  t.equal(entry.upstream_error, 'aborted', 'the access entry names the upstream error');
  const metrics = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
  t.match(metrics, /netbird_proxy_upstream_errors_total\{service="web",kind="aborted"\} 1/);

  await rawExchange(daemon.httpPort, 'GET /slow HTTP/1.1\r\nHost: app.example.com\r\n\r\n', { timeoutMs: 200 });
  const gone = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/slow', 5000, 'access entry of /slow');
  t.equal(gone.status, 499, 'a client that leaves before the response is logged 499');
  t.equal(gone.upstream_error, undefined);
});

t.test('unknown-Host 404s, forwarding headers, PROXY UNKNOWN, 431', async (t) => {
  const { daemon } = await httpFixture(t, { args: ['--trusted-proxies', '127.0.0.9/32', '--max-header-size', '2048'] });
  const notFound = await httpGet(`${daemon.httpUrl}/.env`, { host: 'nope.example.com', from: '127.0.0.9', headers: { 'x-forwarded-for': '203.0.113.50' } });
  t.equal(notFound.status, 404);
  const nf = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/.env', 5000, '404 entry');
  t.equal(nf.client_ip, '203.0.113.50', 'a 404 behind a trusted balancer blames the forwarded client, not the balancer');

  const spoof = {
    forwarded: 'for=1.1.1.1',
    'x-real-ip': '1.1.1.1',
    'true-client-ip': '1.1.1.1',
    'x-forwarded-port': '1',
    'x-client-ip': '1.1.1.1',
    'cf-connecting-ip': '1.1.1.1',
  };
  const untrusted = JSON.parse((await httpGet(`${daemon.httpUrl}/h`, { host: 'app.example.com', from: '127.0.0.3', headers: spoof })).body) as {
    headers: Record<string, string>;
  };
  t.equal(untrusted.headers['forwarded'], undefined, 'Forwarded from an untrusted client is dropped');
  t.equal(untrusted.headers['true-client-ip'], undefined);
  t.equal(untrusted.headers['x-client-ip'], undefined);
  t.equal(untrusted.headers['cf-connecting-ip'], undefined);
  t.equal(untrusted.headers['x-real-ip'], '127.0.0.3', 'X-Real-IP is what the proxy knows');
  t.equal(untrusted.headers['x-forwarded-port'], String(daemon.httpPort), 'X-Forwarded-Port is the entrypoint port');
  t.equal(untrusted.headers['x-forwarded-for'], '127.0.0.3');

  const trusted = JSON.parse(
    (await httpGet(`${daemon.httpUrl}/h`, { host: 'app.example.com', from: '127.0.0.9', headers: { ...spoof, 'x-forwarded-for': '198.51.100.4' } })).body,
  ) as { headers: Record<string, string> };
  t.equal(trusted.headers['x-real-ip'], '1.1.1.1', 'a trusted balancer keeps its X-Real-IP');
  t.equal(trusted.headers['forwarded'], 'for=1.1.1.1, for=127.0.0.9', 'and its Forwarded is extended');
  t.equal(trusted.headers['x-forwarded-for'], '198.51.100.4, 127.0.0.9');

  const big = await rawExchange(daemon.httpPort, `GET /big HTTP/1.1\r\nHost: app.example.com\r\nX-Big: ${'a'.repeat(4096)}\r\n\r\n`, { from: '127.0.0.4' });
  t.match(big.text, /^HTTP\/1\.1 431 /, 'an oversized head gets 431');
  const bigEntry = await daemon.waitFor((l) => l.msg === 'access' && l.status === 431, 5000, '431 entry');
  t.equal(bigEntry.client_ip, '127.0.0.4', 'and an access entry with the client IP');
  const bad = await rawExchange(daemon.httpPort, 'GARBAGE\r\n\r\n', { from: '127.0.0.5' });
  t.match(bad.text, /^HTTP\/1\.1 400 /);
  t.ok(await daemon.waitFor((l) => l.msg === 'access' && l.status === 400 && l.client_ip === '127.0.0.5', 5000, '400 entry'));
});

t.test('PROXY UNKNOWN from a trusted balancer: the balancer is the client, its X-Forwarded-For is not believed', async (t) => {
  const { daemon, upstream } = await httpFixture(t, { args: ['--proxy-protocol', '--trusted-proxies', '127.0.0.9/32'] });
  const r = await rawExchange(
    daemon.httpPort,
    'PROXY UNKNOWN\r\nGET /unknown HTTP/1.1\r\nHost: app.example.com\r\nX-Forwarded-For: 203.0.113.66\r\nConnection: close\r\n\r\n',
    { from: '127.0.0.9' },
  );
  t.match(r.text, /^HTTP\/1\.1 200 /);
  const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/unknown', 5000, 'entry');
  t.equal(entry.client_ip, '127.0.0.9');
  const seen = upstream.requests.find((q) => q.url === '/unknown');
  t.equal(seen?.headers['x-forwarded-for'], '127.0.0.9', 'the forged X-Forwarded-For is replaced');
});

t.test('a reload cuts open TCP and WebSocket connections the new rules deny', async (t) => {
  const echo = await startLiveEcho();
  const wsUpstream = http.createServer();
  const { WebSocketServer, default: WebSocket } = await import('ws');
  const wss = new WebSocketServer({ server: wsUpstream });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  await new Promise<void>((r) => wsUpstream.listen(0, '127.0.0.1', () => r()));
  const wsPort = (wsUpstream.address() as net.AddressInfo).port;
  const tcpPort = await freePort();
  const config = (deny: string): string => `services:
  - name: chat
    protocol: http
    domains: [chat.example.com]
    target: http://127.0.0.1:${wsPort}
    access:
      cidr: { deny: [${deny}] }
  - name: raw
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${echo.port}
    access:
      cidr: { deny: [${deny}] }
`;
  const daemon = await startDaemon({ config: config('127.0.0.200/32') });
  t.teardown(async () => {
    await daemon.stop();
    await echo.close();
    wss.close();
    wsUpstream.close();
  });
  const tcp = net.connect({ port: tcpPort, host: '127.0.0.1', localAddress: '127.0.0.3' });
  tcp.on('error', () => undefined);
  let tcpEcho = '';
  tcp.setEncoding('utf8').on('data', (c: string) => (tcpEcho += c));
  tcp.write('hello');
  await until('tcp echo', () => tcpEcho === 'hello');
  const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}/`, { headers: { host: 'chat.example.com' }, localAddress: '127.0.0.3' });
  await new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  const other = net.connect({ port: tcpPort, host: '127.0.0.1', localAddress: '127.0.0.4' });
  other.on('error', () => undefined);
  await new Promise<void>((r) => other.once('connect', () => r()));
  let tcpClosed = false;
  let wsClosed = false;
  let otherClosed = false;
  tcp.once('close', () => (tcpClosed = true));
  ws.once('close', () => (wsClosed = true));
  other.once('close', () => (otherClosed = true));
  const t0 = Date.now();
  daemon.writeConfig(config('127.0.0.3/32'));
  await until('both connections of 127.0.0.3 closed', () => tcpClosed && wsClosed, 10_000);
  t.pass(`open TCP and WebSocket connections of the newly denied client were cut ${Date.now() - t0} ms after the edit`);
  t.notOk(otherClosed, 'another client keeps its connection');
  const tcpEntry = await daemon.waitFor((l) => l.msg === 'access' && l.service === 'raw' && l.client_ip === '127.0.0.3', 5000, 'tcp entry');
  t.equal(tcpEntry.deny_reason, 'ip_restricted');
  t.same(tcpEntry.metadata, { terminated: 'rule_change' });
  const wsEntry = await daemon.waitFor((l) => l.msg === 'access' && l.service === 'chat' && l.client_ip === '127.0.0.3', 5000, 'ws entry');
  t.equal(wsEntry.deny_reason, 'ip_restricted');
  t.same(wsEntry.metadata, { terminated: 'rule_change' });
  t.ok(
    daemon.lines.some((l) => l.msg === 'open connection closed: the rules now deny it' && l.service === 'raw'),
    'one info line per cut',
  );
  const metrics = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
  t.match(metrics, /netbird_proxy_connections_terminated_total\{service="raw",deny_reason="ip_restricted"\} 1/);

  // Removing the TCP service closes its remaining connections.
  daemon.writeConfig(`services:
  - name: chat
    protocol: http
    domains: [chat.example.com]
    target: http://127.0.0.1:${wsPort}
`);
  await until('the removed service closes its connections', () => otherClosed, 10_000);
  t.pass('removing the tcp service closed its open connection');
  other.destroy();
});
