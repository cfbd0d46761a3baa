// A ban added with cscli reaches connections that are already open (real LAPI 1.4.6).
import t from 'tap';
import http from 'node:http';
import type net from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { startLapi } from '../harness/lapi';
import { startDaemon } from '../harness/daemon';
import { httpGet, openTcp, until } from '../harness/clients';
import { startLiveEcho } from '../harness/upstreams';
import { freePort } from '../harness/ports';

t.test('cscli decisions add cuts open TCP and WebSocket connections of enforce services only', async (t) => {
  const lapi = await startLapi();
  const echo = await startLiveEcho();
  const wsUpstream = http.createServer();
  const wss = new WebSocketServer({ server: wsUpstream });
  wss.on('connection', (ws) => ws.on('message', (m) => ws.send(m)));
  await new Promise<void>((r) => wsUpstream.listen(0, '127.0.0.1', () => r()));
  const wsPort = (wsUpstream.address() as net.AddressInfo).port;
  const enforcePort = await freePort();
  const observePort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: chat
    protocol: http
    domains: [chat.example.com]
    target: http://127.0.0.1:${wsPort}
    access: { crowdsec: enforce }
  - name: db
    protocol: tcp
    listen: 127.0.0.1:${enforcePort}
    target: 127.0.0.1:${echo.port}
    access: { crowdsec: enforce }
  - name: audit
    protocol: tcp
    listen: 127.0.0.1:${observePort}
    target: 127.0.0.1:${echo.port}
    access: { crowdsec: observe }
`,
    args: ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '1s'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await echo.close();
    wss.close();
    wsUpstream.close();
    await lapi.close();
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 15_000, 'initial sync');

  const enforced = await openTcp(enforcePort, '127.0.0.3');
  const observed = await openTcp(observePort, '127.0.0.3');
  const bystander = await openTcp(enforcePort, '127.0.0.4');
  const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}/`, { headers: { host: 'chat.example.com' }, localAddress: '127.0.0.3' });
  await new Promise<void>((r, j) => {
    ws.once('open', () => r());
    ws.once('error', j);
  });
  let wsClosed = false;
  ws.once('close', () => (wsClosed = true));
  let echoed = '';
  enforced.socket.setEncoding('utf8').on('data', (c: string) => (echoed += c));
  enforced.socket.write('ping');
  await until('echo through the open connection', () => echoed === 'ping');

  const t0 = Date.now();
  await lapi.addDecision({ ip: '127.0.0.3', type: 'ban', duration: '5m', reason: 'netbird test' });
  const addedMs = Date.now() - t0;
  await until('the banned client’s enforce connections closed', () => enforced.closed() && wsClosed, 5000);
  const cutMs = Date.now() - t0;
  t.pass(`cut ${cutMs} ms after cscli decisions add started (cscli itself took ${addedMs} ms; poll interval 1 s)`);
  t.notOk(observed.closed(), 'an observe service never cuts');
  t.notOk(bystander.closed(), 'another client on the same service keeps its connection');

  const tcpEntry = await daemon.waitFor((l) => l.msg === 'access' && l.service === 'db' && l.client_ip === '127.0.0.3', 5000, 'db entry');
  t.equal(tcpEntry.deny_reason, 'crowdsec_ban');
  t.same(tcpEntry.metadata, { crowdsec_verdict: 'ban', crowdsec_scope: 'ip', crowdsec_mode: 'enforce', terminated: 'rule_change' });
  const wsEntry = await daemon.waitFor((l) => l.msg === 'access' && l.service === 'chat' && l.client_ip === '127.0.0.3', 5000, 'chat entry');
  t.equal(wsEntry.deny_reason, 'crowdsec_ban');
  const metrics = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
  t.match(metrics, /netbird_proxy_connections_terminated_total\{service="db",deny_reason="crowdsec_ban"\} 1/);
  t.match(metrics, /netbird_proxy_connections_terminated_total\{service="chat",deny_reason="crowdsec_ban"\} 1/);

  // The observed connection records the verdict in its access entry when it ends.
  observed.socket.end();
  const obsEntry = await daemon.waitFor((l) => l.msg === 'access' && l.service === 'audit' && l.client_ip === '127.0.0.3', 5000, 'audit entry');
  t.equal(obsEntry.deny_reason, '');
  t.same(obsEntry.metadata, { crowdsec_verdict: 'ban', crowdsec_scope: 'ip', crowdsec_mode: 'observe' });
  bystander.socket.destroy();
});
