// The ClientHello peek: server name and ALPN read from real ClientHellos sent by Node's TLS
// client, bytes put back for the TLS server, and non-TLS or truncated input handled.
import t from 'tap';
import { connect as netConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import { connect } from 'node:tls';
import { parseClientHello, peekClientHello } from '../../../src/tls/client-hello';

/** The first bytes a TLS client sends for these options. */
async function captureHello(opts: { servername?: string; ALPNProtocols?: string[] }): Promise<Buffer> {
  let resolveBytes: (b: Buffer) => void = () => undefined;
  const got = new Promise<Buffer>((r) => (resolveBytes = r));
  const srv = createServer((s) => {
    const chunks: Buffer[] = [];
    s.on('data', (c: Buffer) => {
      chunks.push(c);
      const all = Buffer.concat(chunks);
      if (parseClientHello(all).done) {
        resolveBytes(all);
        s.destroy();
      }
    });
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  const c = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts });
  c.on('error', () => undefined);
  const bytes = await got;
  c.destroy();
  srv.close();
  return bytes;
}

t.test('parses SNI and ALPN from real ClientHellos', async (t) => {
  const h = await captureHello({ servername: 'app.example.org', ALPNProtocols: ['acme-tls/1'] });
  t.strictSame(parseClientHello(h), { done: true, info: { serverName: 'app.example.org', alpn: ['acme-tls/1'] } });
  const h2 = await captureHello({ servername: 'x.example.net', ALPNProtocols: ['h2', 'http/1.1'] });
  t.strictSame(parseClientHello(h2), { done: true, info: { serverName: 'x.example.net', alpn: ['h2', 'http/1.1'] } });
  const h3 = await captureHello({});
  t.strictSame(parseClientHello(h3), { done: true, info: { serverName: undefined, alpn: [] } }, 'no SNI, no ALPN');
  for (const cut of [1, 5, 9, h.length - 1]) t.strictSame(parseClientHello(h.subarray(0, cut)), { done: false }, `truncated at ${cut}`);
  // The same hello split over two TLS records.
  const body = h.subarray(5);
  const rec = (b: Buffer): Buffer => Buffer.concat([Buffer.from([22, 3, 1, b.length >> 8, b.length & 255]), b]);
  const split = Buffer.concat([rec(body.subarray(0, 40)), rec(body.subarray(40))]);
  t.strictSame(parseClientHello(split), { done: true, info: { serverName: 'app.example.org', alpn: ['acme-tls/1'] } }, 'spanning records');
  t.strictSame(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n')), { done: true, info: undefined }, 'plain HTTP is not TLS');
});

t.test('peekClientHello leaves every byte for the next reader', async (t) => {
  const received = new Promise<{ info: unknown; after: Buffer }>((resolve) => {
    const srv = createServer((s: Socket) => {
      void peekClientHello(s, 2000).then((info) => {
        const chunks: Buffer[] = [];
        s.on('data', (c: Buffer) => chunks.push(c));
        s.on('end', () => {
          resolve({ info, after: Buffer.concat(chunks) });
          srv.close();
        });
        s.resume();
      });
    });
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as AddressInfo).port;
      const c = connect({ host: '127.0.0.1', port, servername: 'peek.example.org', ALPNProtocols: ['http/1.1'] });
      c.on('error', () => undefined);
      setTimeout(() => c.destroy(), 300);
    });
  });
  const { info, after } = await received;
  t.strictSame(info, { serverName: 'peek.example.org', alpn: ['http/1.1'] });
  t.strictSame(parseClientHello(after), { done: true, info: { serverName: 'peek.example.org', alpn: ['http/1.1'] } }, 'the hello is still there');
});

t.test('peekClientHello times out on a silent peer', async (t) => {
  const srv = createServer((s) => {
    void peekClientHello(s, 200).then(
      () => t.fail('should time out'),
      (err: Error) => {
        t.match(err.message, /no TLS ClientHello within 200 ms/);
        s.destroy();
        srv.close();
      },
    );
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const c = netConnect((srv.address() as AddressInfo).port, '127.0.0.1');
  await new Promise((r) => srv.on('close', r));
  c.destroy();
});
