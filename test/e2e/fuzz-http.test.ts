// 10,000 seeded inputs against the HTTP entrypoint of the real binary (request heads, bodies,
// chunking, PROXY headers from a trusted balancer). The proxy must never crash and must keep
// serving a clean client throughout. The seed is fixed: a failure replays.
import t from 'tap';
import net from 'node:net';
import { httpGet } from '../harness/clients';
import { httpFixture } from '../harness/fixture';
import { Gen, seededRandom } from '../harness/fuzz';

const SEED = 20261130;
const CASES = 10_000;
const PARALLEL = 32;

function request(gen: Gen): Buffer {
  const method = gen.pick(['GET', 'POST', 'PUT', 'HEAD', 'OPTIONS', 'DELETE', 'CONNECT', 'PATCH', 'G\tET', '']);
  const path = gen.pick(['/', '/a?b=c', '/%2e%2e/etc/passwd', `/${'x'.repeat(gen.int(3000))}`, '*', 'http://app.example.com/', '/\u00ff']);
  const host = gen.pick(['app.example.com', 'APP.example.com:80', 'nope.example.com', '', 'app.example.com, evil.com', '[::1]']);
  const headers: string[] = [];
  if (host !== '' || gen.chance(0.5)) headers.push(`Host: ${host}`);
  const body = gen.bytes(gen.int(200));
  switch (gen.int(6)) {
    case 0:
      headers.push(`Content-Length: ${body.length}`);
      break;
    case 1:
      headers.push('Transfer-Encoding: chunked');
      break;
    case 2:
      headers.push(`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked');
      break;
    case 3:
      headers.push(`Content-Length: ${body.length}`, `Content-Length: ${body.length + gen.int(3)}`);
      break;
    default:
      break;
  }
  for (let i = gen.int(5); i > 0; i--)
    headers.push(
      gen.pick([
        'X-Forwarded-For: 1.2.3.4, garbage',
        'Connection: upgrade',
        'Upgrade: websocket',
        `X-Junk: ${gen.bytes(gen.int(40)).toString('latin1')}`,
        'Expect: 100-continue',
      ]),
    );
  headers.push('Connection: close');
  let payload: Buffer = body;
  if (headers.some((h) => h.startsWith('Transfer-Encoding'))) {
    const chunks: Buffer[] = [];
    for (let off = 0; off < body.length;) {
      const n = 1 + gen.int(64);
      const part = body.subarray(off, off + n);
      chunks.push(Buffer.from(`${part.length.toString(16)}${gen.chance(0.1) ? ';ext=1' : ''}\r\n`), part, Buffer.from('\r\n'));
      off += n;
    }
    chunks.push(Buffer.from('0\r\n\r\n'));
    payload = Buffer.concat(chunks);
  }
  const raw = Buffer.concat([Buffer.from(`${method} ${path} HTTP/1.${gen.pick(['1', '0', '2'])}\r\n${headers.join('\r\n')}\r\n\r\n`, 'latin1'), payload]);
  return gen.chance(0.4) ? gen.mutate(raw) : raw;
}

function proxyHeader(gen: Gen): Buffer {
  const line = Buffer.from(gen.pick(['PROXY TCP4 198.51.100.1 127.0.0.1 1234 80\r\n', 'PROXY UNKNOWN\r\n', 'PROXY TCP6 2001:db8::1 ::1 1 2\r\n']));
  return gen.chance(0.5) ? gen.mutate(line) : line;
}

function send(port: number, from: string, data: Buffer): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: '127.0.0.1', localAddress: from }, () => {
      s.end(data);
    });
    s.on('data', () => undefined);
    s.on('error', () => undefined);
    s.setTimeout(2000, () => s.destroy());
    s.on('close', () => resolve());
  });
}

t.test(`${CASES} generated requests against the HTTP entrypoint (seed ${SEED})`, async (t) => {
  const { daemon } = await httpFixture(t, { args: ['--proxy-protocol', '--trusted-proxies', '127.0.0.9/32', '--header-timeout', '2s'] });
  const gen = new Gen(seededRandom(SEED));
  let cleanOk = 0;
  let cleanChecks = 0;
  for (let done = 0; done < CASES;) {
    const batch: Promise<void>[] = [];
    for (let i = 0; i < PARALLEL && done < CASES; i++, done++) {
      const trusted = gen.chance(0.3);
      const data = trusted ? Buffer.concat([proxyHeader(gen), request(gen)]) : request(gen);
      batch.push(send(daemon.httpPort, trusted ? '127.0.0.9' : '127.0.0.2', data));
    }
    await Promise.all(batch);
    if (done % 1000 < PARALLEL) {
      cleanChecks++;
      const r = await httpGet(`${daemon.httpUrl}/clean`, { host: 'app.example.com', from: '127.0.0.3' });
      if (r.status === 200) cleanOk++;
    }
  }
  t.equal(cleanOk, cleanChecks, `a clean client was served at every check (${cleanChecks} checks)`);
  t.equal(daemon.child.exitCode, null, 'the proxy is still running');
  t.notOk(
    daemon.lines.some((l) => l.msg === 'netbird-proxy crashed'),
    'nothing crashed',
  );
  t.equal((await httpGet(`${daemon.httpUrl}/`, { host: 'app.example.com' })).status, 200, 'and serves after the run');
});
