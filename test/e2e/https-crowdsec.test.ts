// CrowdSec through the HTTPS entrypoint of the real binary, against the real LAPI (Debian crowdsec
// 1.4.6): enforce and observe on requests, and a WebSocket over TLS cut when its client is banned.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { makeCa, issueLeaf } from '../harness/certs';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { httpsRequest } from '../harness/https-client';
import { startLapi } from '../harness/lapi';
import { freePort } from '../harness/ports';
import { startHttpUpstream } from '../harness/upstreams';

async function accessFor(daemon: Daemon, path: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && l.path === path, 5000, `access entry for ${path}`);
}

t.test('enforce, observe and a WebSocket over HTTPS against the real LAPI', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-https-cs-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'shop', ['shop.example.com', 'blog.example.com', 'ws.example.com']);
  const lapi = await startLapi();
  const upstream = await startHttpUpstream();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => ws.on('message', (d) => ws.send(`echo:${d.toString()}`)));
  await new Promise((r) => wss.once('listening', r));
  const wsPort = (wss.address() as AddressInfo).port;
  await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m' });
  const httpsPort = await freePort();
  const tls = `tls: { cert: ${leaf.cert}, key: ${leaf.key} }`;
  const daemon = await startDaemon({
    config: `services:
  - name: shop
    protocol: http
    domains: [shop.example.com]
    target: ${upstream.url}
    ${tls}
    access: { crowdsec: enforce }
  - name: blog
    protocol: http
    domains: [blog.example.com]
    target: ${upstream.url}
    ${tls}
    access: { crowdsec: observe }
  - name: ws
    protocol: http
    domains: [ws.example.com]
    target: http://127.0.0.1:${wsPort}
    ${tls}
    access: { crowdsec: enforce }
`,
    args: ['--https-addr', `127.0.0.1:${httpsPort}`, '--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '500ms'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await new Promise((r) => wss.close(r));
    await lapi.close();
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 10_000, 'initial sync');

  const banned = await httpsRequest({ port: httpsPort, servername: 'shop.example.com', path: '/ban', from: '127.0.0.2', ca: ca.rootPem });
  t.equal(banned.status, 403);
  t.match(await accessFor(daemon, '/ban'), {
    scheme: 'https',
    sni: 'shop.example.com',
    client_ip: '127.0.0.2',
    deny_reason: 'crowdsec_ban',
    metadata: { crowdsec_mode: 'enforce' },
  });
  const observed = await httpsRequest({ port: httpsPort, servername: 'blog.example.com', path: '/observed', from: '127.0.0.2' });
  t.equal(observed.status, 200, 'observe lets the banned client through');
  t.match(await accessFor(daemon, '/observed'), { deny_reason: '', metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'observe' } });
  t.equal((await httpsRequest({ port: httpsPort, servername: 'shop.example.com', path: '/clean', from: '127.0.0.3' })).status, 200);

  // A wss:// connection from 127.0.0.4 is open and echoing; banning its client closes it.
  const ws = new WebSocket(`wss://ws.example.com:${httpsPort}/chat`, {
    ca: ca.rootPem,
    localAddress: '127.0.0.4',
    lookup: (_host, _opts, cb) => cb(null, '127.0.0.1', 4),
  });
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  const echoed = await new Promise<string>((resolve, reject) => {
    ws.once('open', () => ws.send('hi'));
    ws.once('message', (d) => resolve(d.toString()));
    ws.once('error', reject);
  });
  t.equal(echoed, 'echo:hi', 'wss:// is proxied to the ws:// upstream, the certificate verified');
  await lapi.addDecision({ ip: '127.0.0.4', type: 'ban', duration: '5m' });
  await closed;
  const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/chat', 5000, 'WebSocket access entry');
  t.match(entry, {
    scheme: 'https',
    sni: 'ws.example.com',
    status: 101,
    client_ip: '127.0.0.4',
    deny_reason: 'crowdsec_ban',
    metadata: { terminated: 'rule_change' },
  });
});
