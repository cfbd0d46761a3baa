// Over HTTP/2, against the real LAPI 1.4.6: a ban closes the banned client's HTTP/2 sessions of
// enforce services (a long response in flight is cut, its access entry says so), the same
// session's requests are then denied, observe services record the verdict, other clients go on.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, issueLeaf } from '../harness/certs';
import { startLapi } from '../harness/lapi';
import { startDaemon } from '../harness/daemon';
import { connectH2 } from '../harness/h2-client';
import { until } from '../harness/clients';
import { freePort } from '../harness/ports';
import { startHttpUpstream } from '../harness/upstreams';

t.test('a CrowdSec ban closes the client’s HTTP/2 sessions', async (t) => {
  const lapi = await startLapi();
  const dir = mkdtempSync(join(tmpdir(), 'nbp-h2r-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'a', ['app.example.com', 'obs.example.com']);
  const upstream = await startHttpUpstream((req, res) => {
    if (req.url === '/stream') {
      // A long response (server-sent events style): it never ends on its own.
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: hello\n\n');
      return;
    }
    res.end('ok');
  });
  const httpsPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: app
    protocol: http
    domains: [app.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
    access: { crowdsec: enforce }
  - name: obs
    protocol: http
    domains: [obs.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
    access: { crowdsec: observe }
`,
    args: ['--https-addr', `127.0.0.1:${httpsPort}`, '--crowdsec-api-url', lapi.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '1s'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
    await lapi.close();
  });
  await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 15_000, 'initial sync');

  const banned = await connectH2({ port: httpsPort, servername: 'app.example.com', ca: ca.rootPem, from: '127.0.0.3' });
  const bystander = await connectH2({ port: httpsPort, servername: 'app.example.com', ca: ca.rootPem, from: '127.0.0.4' });
  const observed = await connectH2({ port: httpsPort, servername: 'obs.example.com', ca: ca.rootPem, from: '127.0.0.3' });
  t.equal((await banned.get('/before')).status, 200);
  t.equal((await observed.get('/before-obs')).status, 200);
  // A response in flight on the banned client's session.
  const stream = banned.session.request({ ':path': '/stream' });
  let streamClosed = false;
  let got = '';
  stream.setEncoding('utf8');
  stream.on('data', (c: string) => (got += c));
  stream.on('error', () => undefined);
  stream.on('close', () => (streamClosed = true));
  await until('the first event arrived', () => got.includes('hello'));

  await lapi.addDecision({ ip: '127.0.0.3', type: 'ban', duration: '5m', reason: 'netbird h2 test' });
  await until('the banned client’s HTTP/2 session closed', () => banned.closed() && streamClosed, 10_000);
  t.pass(`session closed (GOAWAY ${String(banned.goaway())})`);
  const cut = await daemon.waitFor((l) => l.msg === 'open connection closed: the rules now deny it' && l.client_ip === '127.0.0.3', 5000, 'cut line');
  t.match(cut, { service: 'app', deny_reason: 'crowdsec_ban' });
  const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/stream', 5000, 'the cut stream’s entry');
  t.match(entry, { http_version: '2.0', status: 499, deny_reason: 'crowdsec_ban', metadata: { terminated: 'rule_change', crowdsec_verdict: 'ban' } });

  t.equal((await bystander.get('/other')).status, 200, 'another client’s session goes on');
  t.notOk(observed.closed(), 'the observe service’s session is not closed');
  const obs = await observed.get('/after-obs');
  t.equal(obs.status, 200, 'observe: still served');
  t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/after-obs', 5000), {
    deny_reason: '',
    metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'observe' },
    http_version: '2.0',
  });

  const again = await connectH2({ port: httpsPort, servername: 'app.example.com', ca: ca.rootPem, from: '127.0.0.3' });
  const denied = await again.get('/after', { accept: 'text/html' });
  t.equal(denied.status, 403, 'a new session’s request is denied');
  t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/after', 5000), { deny_reason: 'crowdsec_ban', http_version: '2.0' });
  for (const c of [again, bystander, observed]) c.close();
});
