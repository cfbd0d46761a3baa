import t from 'tap';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { tcpExchange, until } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { tcpFixture } from '../harness/fixture';
import { freePort } from '../harness/ports';

t.test('TCP service: half-close, CIDR denial before dialing, PROXY protocol from trusted peers only', async (t) => {
  const { daemon, echo, listenPort } = await tcpFixture(t, {
    access: 'cidr: { deny: [127.0.0.2/32, 203.0.113.0/24] }',
    args: ['--proxy-protocol', '--trusted-proxies', '127.0.0.9'],
  });

  await t.test('the start-up line lists the tcp listener', async (t) => {
    const line = await daemon.waitFor((l) => l.msg === 'netbird-proxy listening');
    t.same(line.tcp, { echo: `127.0.0.1:${listenPort}` });
  });

  await t.test('bytes flow both ways and a half-close reaches the upstream', async (t) => {
    const res = await tcpExchange(listenPort, { send: 'ping' });
    t.equal(res.data, 'echo:ping', 'the upstream answered after seeing our FIN');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.protocol === 'tcp' && l.client_ip === '127.0.0.1');
    t.match(entry, { service: 'echo', deny_reason: '', bytes_in: 4, bytes_out: 9, metadata: {} });
    t.notOk('status' in entry, 'no HTTP fields on TCP entries');
  });

  await t.test('a denied client is closed without the upstream being dialed', async (t) => {
    const before = echo.connections;
    const res = await tcpExchange(listenPort, { from: '127.0.0.2', send: 'ping' });
    t.equal(res.data, '');
    t.equal(echo.connections, before, 'upstream never dialed');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.protocol === 'tcp' && l.client_ip === '127.0.0.2');
    t.match(entry, { service: 'echo', deny_reason: 'ip_restricted' });
  });

  await t.test('a PROXY v1 header from a trusted peer gives the client address', async (t) => {
    const denied = await tcpExchange(listenPort, { from: '127.0.0.9', send: 'PROXY TCP4 203.0.113.7 127.0.0.1 5555 22\r\nping' });
    t.equal(denied.data, '', 'the announced client is denied');
    await daemon.waitFor((l) => l.msg === 'access' && l.client_ip === '203.0.113.7' && l.deny_reason === 'ip_restricted');
    const allowed = await tcpExchange(listenPort, { from: '127.0.0.9', send: 'PROXY TCP4 198.51.100.1 127.0.0.1 5555 22\r\nping' });
    t.equal(allowed.data, 'echo:ping', 'header stripped, payload forwarded');
  });

  await t.test('a PROXY v2 header from a trusted peer gives the client address', async (t) => {
    const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
    const body = Buffer.from([198, 51, 100, 2, 127, 0, 0, 1, 0x15, 0xb3, 0x00, 0x16]);
    const header = Buffer.concat([sig, Buffer.from([0x21, 0x11, 0x00, body.length]), body]);
    const res = await tcpExchange(listenPort, { from: '127.0.0.9', send: Buffer.concat([header, Buffer.from('v2')]) });
    t.equal(res.data, 'echo:v2');
    await daemon.waitFor((l) => l.msg === 'access' && l.client_ip === '198.51.100.2');
  });

  await t.test('an untrusted peer cannot choose its address with a PROXY header', async (t) => {
    const res = await tcpExchange(listenPort, { from: '127.0.0.3', send: 'PROXY TCP4 198.51.100.3 127.0.0.1 5555 22\r\nx' });
    t.equal(res.data, 'echo:PROXY TCP4 198.51.100.3 127.0.0.1 5555 22\r\nx', 'the header is just payload');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.client_ip === '127.0.0.3');
    t.equal(entry.deny_reason, '');
    t.notOk(daemon.access().some((l) => l.client_ip === '198.51.100.3'));
  });

  await t.test('an upstream that refuses closes the client; the process survives', async (t) => {
    await echo.close();
    const res = await tcpExchange(listenPort, { send: 'x' });
    t.equal(res.data, '');
    await daemon.waitFor((l) => l.msg === 'upstream error' && l.kind === 'refused');
    t.equal(daemon.child.exitCode, null);
  });
});

t.test('SIGTERM: in-flight TCP connections are cut and the process exits 0', async (t) => {
  const { daemon, listenPort } = await tcpFixture(t);
  const socket = net.connect({ port: listenPort, host: '127.0.0.1' });
  await new Promise((r) => socket.once('connect', r));
  const closed = new Promise((r) => socket.once('close', r));
  socket.on('error', () => undefined);
  const code = await daemon.stop();
  t.equal(code, 0);
  await closed;
  t.pass('client socket closed');
});

t.test('a large download reaches a slow reader intact, and the upstream half-close reaches the client', async (t) => {
  // The upstream → client direction reads into reused buffers: a buffer reused before its write to the
  // client completed would corrupt the stream. A reader that stalls keeps writes pending.
  const size = 48 * 1024 * 1024;
  const data = Buffer.allocUnsafe(size);
  for (let at = 0; at < size; at += 32) createHash('sha256').update(String(at)).digest().copy(data, at);
  let afterEof = '';
  const source = net.createServer({ allowHalfOpen: true }, (s) => {
    s.on('data', (d: Buffer) => (afterEof += d.toString()));
    s.on('end', () => s.end());
    for (let at = 0; at < size; at += 3_000_000) s.write(data.subarray(at, at + 3_000_000));
    s.end(); // half-close: we still listen
  });
  await new Promise<void>((resolve) => source.listen(0, '127.0.0.1', resolve));
  const listenPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: source
    protocol: tcp
    listen: 127.0.0.1:${listenPort}
    target: 127.0.0.1:${(source.address() as net.AddressInfo).port}
`,
  });
  t.teardown(async () => {
    await daemon.stop();
    await new Promise((resolve) => source.close(resolve));
  });
  const client = net.connect({ port: listenPort, host: '127.0.0.1', allowHalfOpen: true });
  const hash = createHash('sha256');
  let got = 0;
  let stalls = 0;
  client.on('data', (d: Buffer) => {
    hash.update(d);
    const before = got;
    got += d.length;
    if (Math.floor(got / 4_000_000) !== Math.floor(before / 4_000_000)) {
      stalls++;
      client.pause();
      setTimeout(() => client.resume(), 30);
    }
  });
  await new Promise<void>((resolve, reject) => {
    client.on('error', reject);
    client.on('end', () => resolve());
  });
  t.equal(got, size, 'every byte');
  t.equal(hash.digest('hex'), createHash('sha256').update(data).digest('hex'), 'in order, none overwritten');
  t.ok(stalls >= 10, 'the reader stalled while writes were pending');
  const closed = new Promise((resolve) => client.on('close', resolve));
  client.end('after-eof');
  await until('the client still reaches the upstream after its EOF', () => afterEof === 'after-eof');
  await closed;
  const entry = await daemon.waitFor((l) => l.msg === 'access' && l.service === 'source');
  t.match(entry, { bytes_in: 9, bytes_out: size });
});
