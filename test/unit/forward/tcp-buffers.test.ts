// TCP forwarding's read buffers across connections: the buffer a closed upstream socket was reading
// into goes back to the pool, so short connections stop allocating one each; and a buffer given back
// is never one still read into or written from (every connection's bytes arrive intact).
import t from 'tap';
import { createHash } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { forwardTcp } from '../../../src/forward/tcp';

const CONNECTIONS = 60;
const CONCURRENT = 6;

function payloadFor(n: number): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < 300 + n * 7; i++) parts.push(createHash('sha256').update(`${n}:${i}`).digest());
  return Buffer.concat(parts); // 9.6 KB … 22.8 KB: full 4 KiB reads, then larger classes
}

t.test('short connections reuse read buffers, and every byte arrives intact', async (t) => {
  // The upstream sends the connection's own payload (chosen by the first byte the client sends) in
  // three writes, then closes.
  const upstream = net.createServer((s) => {
    s.once('data', (d: Buffer) => {
      const data = payloadFor(d[0] ?? 0);
      const third = Math.floor(data.length / 3);
      s.write(data.subarray(0, third));
      setImmediate(() => {
        s.write(data.subarray(third, 2 * third));
        s.end(data.subarray(2 * third));
      });
    });
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  const target = { host: '127.0.0.1', port: (upstream.address() as AddressInfo).port };
  const proxy = net.createServer({ allowHalfOpen: true }, (client) => forwardTcp(client, target, 5000, { onUpstreamError: () => undefined }));
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const port = (proxy.address() as AddressInfo).port;
  t.teardown(() => {
    proxy.close();
    upstream.close();
  });

  const fetchOne = (n: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const c = net.connect({ port, host: '127.0.0.1' }, () => c.write(Buffer.from([n])));
      c.on('data', (d: Buffer) => chunks.push(d));
      c.on('error', reject);
      c.on('close', () => resolve(Buffer.concat(chunks)));
    });

  const allocUnsafeSlow = Buffer.allocUnsafeSlow;
  let allocated = 0;
  Buffer.allocUnsafeSlow = ((size: number) => {
    allocated++;
    return allocUnsafeSlow(size);
  }) as typeof Buffer.allocUnsafeSlow;
  t.teardown(() => {
    Buffer.allocUnsafeSlow = allocUnsafeSlow;
  });
  let intact = 0;
  for (let first = 0; first < CONNECTIONS; first += CONCURRENT) {
    const batch = Array.from({ length: CONCURRENT }, (_, i) => first + i);
    const got = await Promise.all(batch.map(fetchOne));
    for (const [i, n] of batch.entries()) if (got[i]?.equals(payloadFor(n))) intact++;
  }
  Buffer.allocUnsafeSlow = allocUnsafeSlow;
  t.equal(intact, CONNECTIONS, 'every connection got its own bytes, in order');
  // Without the release each connection allocates at least its first buffer (60 and more); with it,
  // the pool (16 per size class) serves nearly all of them.
  t.ok(allocated < CONNECTIONS / 2, `read buffers allocated for ${CONNECTIONS} connections: ${allocated}`);
});
