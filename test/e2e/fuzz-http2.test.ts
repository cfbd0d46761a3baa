// HTTP/2 mode of the fuzzer: seeded sequences of frames at the edges of RFC 9113 and HPACK against
// the HTTPS entrypoint of the real binary (bad padding, stream ids 0/even/decreasing, invalid HPACK
// indexes and table size updates, pseudo-headers missing, repeated or after regular fields,
// connection-specific request headers, frames of the wrong length, SETTINGS out of range, window
// overflows, CONTINUATION without HEADERS, PUSH_PROMISE from a client, unknown types). The proxy must
// never crash, must keep serving a clean HTTP/2 client, and every request the upstream sees must be
// well-formed (a Host, no pseudo-header). The seed is fixed: a failure replays.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, issueLeaf } from '../harness/certs';
import { startDaemon } from '../harness/daemon';
import { connectH2 } from '../harness/h2-client';
import * as F from '../harness/h2-frames';
import { Gen, seededRandom } from '../harness/fuzz';
import { until } from '../harness/clients';
import { freePort } from '../harness/ports';
import { startHttpUpstream } from '../harness/upstreams';

const SEED = 20261207;
const CASES = 600;
const PARALLEL = 12;

function block(gen: Gen, authority: string): Buffer {
  const path = gen.pick(['/', '/a?b=c', '', '*', '/%2e%2e/x', `/${'y'.repeat(gen.int(2000))}`]);
  const fields: Buffer[] = [];
  switch (gen.int(10)) {
    case 0: // no :path
      fields.push(F.indexed(2), F.indexed(7), F.literal(':authority', authority));
      break;
    case 1: // a pseudo-header after a regular field
      fields.push(F.indexed(2), F.literal('accept', '*/*'), F.literal(':path', path), F.literal(':authority', authority));
      break;
    case 2: // repeated :authority, and a Host that disagrees
      fields.push(F.requestBlock(authority, path, [['host', 'other.example.com']]), F.literal(':authority', 'evil.example.com'));
      break;
    case 3: // connection-specific request headers (RFC 9113 8.2.2)
      fields.push(
        F.requestBlock(authority, path, [
          [gen.pick(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'te', 'proxy-connection']), gen.pick(['close', 'chunked', 'trailers', 'h2c'])],
        ]),
      );
      break;
    case 4: // uppercase name, unknown pseudo-header, empty name
      fields.push(F.requestBlock(authority, path, [[gen.pick(['X-Upper', ':bogus', '', 'a b', 'x\u00ff']), 'v']]));
      break;
    case 5: // invalid HPACK: index 0, an index past both tables, a truncated integer
      fields.push(gen.pick([Buffer.from([0x80]), F.indexed(200), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]));
      break;
    case 6: // dynamic table size update beyond SETTINGS_HEADER_TABLE_SIZE, or in the middle
      fields.push(F.hpackInt(gen.pick([8192, 1 << 20]), 5, 0x20), F.requestBlock(authority, path));
      break;
    case 7: // CONNECT, and :protocol without extended CONNECT
      fields.push(
        F.literal(':method', 'CONNECT'),
        F.literal(':authority', authority),
        ...(gen.chance(0.5) ? [F.literal(':protocol', 'websocket'), F.indexed(7), F.literal(':path', '/')] : []),
      );
      break;
    case 8: // a valid block, mutated
      return gen.mutate(F.requestBlock(authority, path, [['x-a', 'b']]));
    default:
      fields.push(F.requestBlock(authority, path));
  }
  return Buffer.concat(fields);
}

function frames(gen: Gen, authority: string): Buffer[] {
  const out: Buffer[] = [];
  let id = 1;
  for (let n = 1 + gen.int(6); n > 0; n--) {
    const sid = gen.pick([id, id, id, 0, id + 1, Math.max(1, id - 2), 0x7fffffff]);
    switch (gen.int(16)) {
      case 0:
      case 1:
      case 2:
        out.push(F.headers(sid, block(gen, authority), gen.pick([F.FLAG.END_HEADERS | F.FLAG.END_STREAM, F.FLAG.END_HEADERS, F.FLAG.END_STREAM, 0])));
        id += 2;
        break;
      case 3: {
        // PADDED with a pad length larger than the payload, or PRIORITY depending on itself
        const b = block(gen, authority);
        const padded = gen.chance(0.5);
        const prefix = padded ? Buffer.from([gen.pick([0, 10, 255])]) : Buffer.from([0, 0, 0, sid & 0xff, 16]);
        out.push(
          F.frame(F.FRAME.HEADERS, F.FLAG.END_HEADERS | F.FLAG.END_STREAM | (padded ? F.FLAG.PADDED : F.FLAG.PRIORITY), sid, Buffer.concat([prefix, b])),
        );
        id += 2;
        break;
      }
      case 4:
        out.push(F.continuation(sid, block(gen, authority), gen.chance(0.5)));
        break;
      case 5:
        out.push(F.frame(F.FRAME.DATA, gen.pick([0, F.FLAG.END_STREAM, F.FLAG.PADDED]), sid, gen.bytes(gen.pick([0, 1, 100, 70_000 % 16_384]))));
        break;
      case 6:
        out.push(F.settings([[gen.pick([1, 2, 3, 4, 5, 6, 8, 0xff]), gen.pick([0, 1, 2, 16_383, 16_777_216, 0x7fffffff, 0x80000000, 0xffffffff])]]));
        break;
      case 7: // SETTINGS of a length that is not a multiple of 6, or ACK with a payload, or on a stream
        out.push(F.frame(F.FRAME.SETTINGS, gen.pick([0, F.FLAG.ACK]), gen.pick([0, 1]), gen.bytes(gen.pick([1, 5, 6, 7]))));
        break;
      case 8:
        out.push(F.frame(F.FRAME.PING, gen.pick([0, F.FLAG.ACK]), gen.pick([0, 0, 1]), gen.bytes(gen.pick([8, 8, 0, 7, 9]))));
        break;
      case 9:
        out.push(F.windowUpdate(gen.pick([0, sid]), gen.pick([0, 1, 0x7fffffff])));
        break;
      case 10:
        out.push(F.rstStream(sid, gen.pick([0, 8, 0xffff])));
        break;
      case 11:
        out.push(F.frame(F.FRAME.GOAWAY, 0, gen.pick([0, 1]), gen.bytes(gen.pick([8, 4, 20]))));
        break;
      case 12:
        out.push(F.frame(F.FRAME.PUSH_PROMISE, F.FLAG.END_HEADERS, sid, Buffer.concat([Buffer.from([0, 0, 0, 2]), block(gen, authority)])));
        break;
      case 13: // unknown type, and PRIORITY of the wrong length
        out.push(gen.chance(0.5) ? F.frame(0xff, 0xff, sid, gen.bytes(gen.int(30))) : F.frame(F.FRAME.PRIORITY, 0, sid, gen.bytes(gen.pick([4, 5, 6]))));
        break;
      case 14: // a frame longer than SETTINGS_MAX_FRAME_SIZE
        out.push(F.frame(F.FRAME.DATA, 0, sid, Buffer.alloc(16_385)));
        break;
      default: {
        // a length field that lies
        const f = F.headers(sid, block(gen, authority));
        f.writeUIntBE(gen.pick([0, f.length, 0xffffff]), 0, 3);
        out.push(f);
      }
    }
  }
  return out;
}

t.test(`HTTP/2 fuzz: ${CASES} seeded frame sequences`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-h2fuzz-'));
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
    args: ['--https-addr', `127.0.0.1:${httpsPort}`],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const authority = `a.example.com:${httpsPort}`;
  const gen = new Gen(seededRandom(SEED));
  const cases = Array.from({ length: CASES }, () => frames(gen, authority));
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < cases.length) {
      const seq = cases[next++] as Buffer[];
      const c = await F.connectRawH2({ port: httpsPort, servername: 'a.example.com' });
      for (const f of seq) c.write(f);
      // The server answers or closes; either way the case is over after a short while.
      await until('a frame back or the close', () => c.closed() || c.frames.length > 0, 2000).catch(() => undefined);
      c.socket.destroy();
    }
  };
  const clean = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem, from: '127.0.0.5' });
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  t.equal(daemon.child.exitCode, null, 'the daemon is still running');
  t.equal((await clean.get('/clean')).status, 200, 'the clean session opened before the fuzz still serves');
  const fresh = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem, from: '127.0.0.6' });
  t.equal((await fresh.get('/fresh')).status, 200, 'a new clean session is served');
  const bad = upstream.requests.filter((r) => r.headers.host === undefined || r.rawHeaders.some((h, i) => i % 2 === 0 && h.startsWith(':')));
  t.equal(bad.length, 0, `${upstream.requests.length} requests reached the upstream, all with a Host and no pseudo-header`);
  t.notOk(/uncaught|TypeError|RangeError/i.test(daemon.output()), 'no exception in the daemon output');
  clean.close();
  fresh.close();
});
