import t from 'tap';
import * as net from 'net';
import * as http from 'http';
import { once } from 'events';
import { parseProxyHeader, V1_MAX_LENGTH } from '../../../src/client-ip/proxy-protocol';
import { readProxyHeader, ProxyHeaderError } from '../../../src/client-ip/proxy-header';
import { sleep } from '../../harness/clients';

const SIG = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);

function v2(verCmd: number, fam: number, body: Buffer): Buffer {
  const len = Buffer.alloc(2);
  len.writeUInt16BE(body.length);
  return Buffer.concat([SIG, Buffer.from([verCmd, fam]), len, body]);
}

function ipv4Body(src: number[], dst: number[], sport: number, dport: number): Buffer {
  const b = Buffer.alloc(12);
  Buffer.from(src).copy(b, 0);
  Buffer.from(dst).copy(b, 4);
  b.writeUInt16BE(sport, 8);
  b.writeUInt16BE(dport, 10);
  return b;
}

function ipv6Body(src: Buffer, dst: Buffer, sport: number, dport: number): Buffer {
  const b = Buffer.alloc(36);
  src.copy(b, 0);
  dst.copy(b, 16);
  b.writeUInt16BE(sport, 32);
  b.writeUInt16BE(dport, 34);
  return b;
}

function v6(hex: string): Buffer {
  return Buffer.from(hex.replace(/[^0-9a-f]/gi, ''), 'hex');
}

t.test('v1', async (t) => {
  t.test('TCP4', async (t) => {
    const hdr = 'PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n';
    const r = parseProxyHeader(Buffer.from(hdr + 'GET / HTTP/1.1\r\n'));
    t.same(r, { kind: 'ok', headerLength: hdr.length, source: { address: '203.0.113.7', port: 56324 }, local: false });
  });

  t.test('TCP6', async (t) => {
    const hdr = 'PROXY TCP6 2001:db8::1 2001:db8::2 65535 0\r\n';
    const r = parseProxyHeader(Buffer.from(hdr));
    t.same(r, { kind: 'ok', headerLength: hdr.length, source: { address: '2001:db8::1', port: 65535 }, local: false });
  });

  t.test('TCP6 carrying a mapped IPv4 address is returned as written', async (t) => {
    const hdr = 'PROXY TCP6 ::ffff:192.0.2.1 ::1 1 2\r\n';
    const r = parseProxyHeader(Buffer.from(hdr));
    t.same(r, { kind: 'ok', headerLength: hdr.length, source: { address: '::ffff:192.0.2.1', port: 1 }, local: false });
  });

  t.test('UNKNOWN, bare and with trailing junk', async (t) => {
    t.same(parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\nabc')), { kind: 'ok', headerLength: 15, local: false });
    const hdr = 'PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n';
    t.same(parseProxyHeader(Buffer.from(hdr)), { kind: 'ok', headerLength: hdr.length, local: false });
  });

  t.test('incomplete prefixes', async (t) => {
    const hdr = 'PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n';
    for (let i = 1; i < hdr.length; i++) {
      t.same(parseProxyHeader(Buffer.from(hdr.slice(0, i))), { kind: 'incomplete' }, `prefix ${i}`);
    }
  });

  t.test('malformed', async (t) => {
    const bad = [
      'PROXY TCP4 203.0.113.7 10.0.0.1 56324\r\n', // missing field
      'PROXY TCP4 203.0.113.7 10.0.0.1 56324 443 x\r\n', // extra field
      'PROXY TCP4  203.0.113.7 10.0.0.1 56324 443\r\n', // double space
      'PROXY TCP4 203.0.113.7 10.0.0.1 56324 443 \r\n', // trailing space
      'PROXY TCP4 2001:db8::1 10.0.0.1 1 2\r\n', // family mismatch
      'PROXY TCP6 203.0.113.7 2001:db8::1 1 2\r\n', // family mismatch
      'PROXY TCP4 203.0.113.7 10.0.0.256 1 2\r\n', // bad dst
      'PROXY TCP4 203.0.113 10.0.0.1 1 2\r\n', // bad src
      'PROXY TCP4 203.0.113.7 10.0.0.1 65536 2\r\n', // port out of range
      'PROXY TCP4 203.0.113.7 10.0.0.1 01 2\r\n', // leading zero
      'PROXY TCP4 203.0.113.7 10.0.0.1 -1 2\r\n', // sign
      'PROXY TCP4 203.0.113.7 10.0.0.1 1 x\r\n', // bad dst port
      'PROXY TCP6 fe80::1%eth0 fe80::2 1 2\r\n', // zone id
      'PROXY UDP4 203.0.113.7 10.0.0.1 1 2\r\n', // protocol
      'PROXY tcp4 203.0.113.7 10.0.0.1 1 2\r\n', // case
      'PROXY \r\n',
      'PROXY TCP4 203.0.113.7 10.0.0.1 1 2\n', // bare LF
      'PROXY TCP4 203.0.113.7 10.0.0.1 1 2\rX', // CR without LF
      'PROXY TCP4 203.0.113.7\t10.0.0.1 1 2\r\n', // control char
      'PROXY\r\n',
      'PROXX TCP4',
      'GET / HTTP/1.1\r\n',
      'P\x00',
    ];
    for (const s of bad) {
      const r = parseProxyHeader(Buffer.from(s, 'latin1'));
      t.equal(r.kind, 'invalid', JSON.stringify(s));
      if (r.kind === 'invalid') t.type(r.reason, 'string');
    }
  });

  t.test('too long', async (t) => {
    // 107 bytes is the limit, CRLF included.
    const base = 'PROXY UNKNOWN ';
    const fits = base + 'x'.repeat(V1_MAX_LENGTH - base.length - 2) + '\r\n';
    t.equal(fits.length, 107);
    t.equal(parseProxyHeader(Buffer.from(fits)).kind, 'ok');
    const tooLong = base + 'x'.repeat(V1_MAX_LENGTH - base.length - 1) + '\r\n';
    t.equal(parseProxyHeader(Buffer.from(tooLong)).kind, 'invalid');
    // No CRLF within 107 bytes: invalid without waiting for more data.
    t.equal(parseProxyHeader(Buffer.from(base + 'x'.repeat(200))).kind, 'invalid');
    t.equal(parseProxyHeader(Buffer.from(base + 'x'.repeat(V1_MAX_LENGTH - base.length))).kind, 'invalid');
    // CR as the 107th byte: the LF would be byte 108.
    t.equal(parseProxyHeader(Buffer.from(base + 'x'.repeat(V1_MAX_LENGTH - base.length - 1) + '\r')).kind, 'invalid');
    // CR as the 106th byte and nothing after: still incomplete.
    t.equal(parseProxyHeader(Buffer.from(base + 'x'.repeat(V1_MAX_LENGTH - base.length - 2) + '\r')).kind, 'incomplete');
  });
});

t.test('v2', async (t) => {
  t.test('PROXY over IPv4 STREAM', async (t) => {
    const h = v2(0x21, 0x11, ipv4Body([198, 51, 100, 9], [10, 0, 0, 1], 40000, 443));
    const r = parseProxyHeader(Buffer.concat([h, Buffer.from('payload')]));
    t.same(r, { kind: 'ok', headerLength: 28, source: { address: '198.51.100.9', port: 40000 }, local: false });
  });

  t.test('PROXY over IPv6 STREAM', async (t) => {
    const h = v2(0x21, 0x21, ipv6Body(v6('20010db8000000000000000000000001'), v6('20010db8000000000000000000000002'), 1234, 80));
    const r = parseProxyHeader(h);
    t.same(r, { kind: 'ok', headerLength: 52, source: { address: '2001:db8::1', port: 1234 }, local: false });
  });

  t.test('IPv6 mapped IPv4 source', async (t) => {
    const h = v2(0x21, 0x21, ipv6Body(v6('00000000000000000000ffffc0000201'), v6('00000000000000000000000000000001'), 1, 2));
    const r = parseProxyHeader(h);
    t.same(r, { kind: 'ok', headerLength: 52, source: { address: '::ffff:192.0.2.1', port: 1 }, local: false });
  });

  t.test('LOCAL', async (t) => {
    t.same(parseProxyHeader(v2(0x20, 0x00, Buffer.alloc(0))), { kind: 'ok', headerLength: 16, local: true });
    // LOCAL with an address block: still local, the block is skipped.
    const h = v2(0x20, 0x11, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
    t.same(parseProxyHeader(h), { kind: 'ok', headerLength: 28, local: true });
  });

  t.test('UNSPEC and UNIX give no source', async (t) => {
    t.same(parseProxyHeader(v2(0x21, 0x00, Buffer.alloc(0))), { kind: 'ok', headerLength: 16, local: false });
    t.same(parseProxyHeader(v2(0x21, 0x10, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2))), {
      kind: 'ok',
      headerLength: 28,
      local: false,
    });
    t.same(parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(216))), { kind: 'ok', headerLength: 232, local: false });
  });

  t.test('TLVs are skipped', async (t) => {
    const tlvs = Buffer.concat([
      Buffer.from([0x02, 0x00, 0x0b]),
      Buffer.from('example.org'), // PP2_TYPE_AUTHORITY
      Buffer.from([0x04, 0x00, 0x00]), // PP2_TYPE_NOOP, empty
      Buffer.from([0x20, 0x00, 0x05, 0x01, 0x00, 0x00, 0x00, 0x00]), // PP2_TYPE_SSL
    ]);
    const h = v2(0x21, 0x11, Buffer.concat([ipv4Body([192, 0, 2, 44], [10, 0, 0, 1], 5555, 443), tlvs]));
    const r = parseProxyHeader(Buffer.concat([h, Buffer.from('GET /')]));
    t.same(r, { kind: 'ok', headerLength: 28 + tlvs.length, source: { address: '192.0.2.44', port: 5555 }, local: false });
  });

  t.test('truncated: every prefix is incomplete', async (t) => {
    const h = v2(0x21, 0x21, ipv6Body(v6('20010db8000000000000000000000001'), v6('20010db8000000000000000000000002'), 1234, 80));
    for (let i = 1; i < h.length; i++) {
      t.same(parseProxyHeader(h.subarray(0, i)), { kind: 'incomplete' }, `prefix ${i}`);
    }
  });

  t.test('bad signature', async (t) => {
    const h = v2(0x21, 0x11, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2));
    for (const i of [1, 4, 7, 11]) {
      const b = Buffer.from(h);
      b[i] = (b[i] as number) ^ 0xff;
      t.equal(parseProxyHeader(b).kind, 'invalid', `byte ${i}`);
      // A corrupt partial signature is refused without waiting.
      t.equal(parseProxyHeader(b.subarray(0, i + 1)).kind, 'invalid', `partial, byte ${i}`);
    }
  });

  t.test('bad version, command, family, transport, length', async (t) => {
    const body = ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2);
    t.equal(parseProxyHeader(v2(0x11, 0x11, body)).kind, 'invalid', 'version 1 in binary');
    t.equal(parseProxyHeader(v2(0x31, 0x11, body)).kind, 'invalid', 'version 3');
    t.equal(parseProxyHeader(v2(0x22, 0x11, body)).kind, 'invalid', 'command 2');
    t.equal(parseProxyHeader(v2(0x21, 0x41, body)).kind, 'invalid', 'family 4');
    t.equal(parseProxyHeader(v2(0x21, 0x13, body)).kind, 'invalid', 'transport 3');
    t.equal(parseProxyHeader(v2(0x21, 0x12, body)).kind, 'invalid', 'DGRAM');
    t.equal(parseProxyHeader(v2(0x21, 0x11, body.subarray(0, 11))).kind, 'invalid', 'short IPv4 block');
    t.equal(parseProxyHeader(v2(0x21, 0x21, Buffer.alloc(35))).kind, 'invalid', 'short IPv6 block');
    t.equal(parseProxyHeader(v2(0x21, 0x31, Buffer.alloc(100))).kind, 'invalid', 'short UNIX block');
    // Errors in the fixed part are reported before the whole header has arrived.
    t.equal(parseProxyHeader(v2(0x31, 0x11, body).subarray(0, 13)).kind, 'invalid', 'early version check');
    t.equal(parseProxyHeader(v2(0x21, 0x11, body.subarray(0, 11)).subarray(0, 16)).kind, 'invalid', 'early length check');
  });

  t.test('declared length larger than what arrived is incomplete', async (t) => {
    const h = v2(0x21, 0x11, Buffer.concat([ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2), Buffer.alloc(1000)]));
    t.same(parseProxyHeader(h.subarray(0, 500)), { kind: 'incomplete' });
    t.equal(parseProxyHeader(h).kind, 'ok');
  });
});

t.test('neither version', async (t) => {
  t.same(parseProxyHeader(Buffer.alloc(0)), { kind: 'incomplete' });
  t.equal(parseProxyHeader(Buffer.from('\x16\x03\x01', 'latin1')).kind, 'invalid', 'TLS ClientHello');
  t.equal(parseProxyHeader(Buffer.from('SSH-2.0-OpenSSH')).kind, 'invalid');
});

t.test('v2 IPv6 source text is RFC 5952', async (t) => {
  const cases: [string, string][] = [
    ['00000000000000000000000000000000', '::'],
    ['00000000000000000000000000000001', '::1'],
    ['20010db8000000000000000000000000', '2001:db8::'],
    ['20010db8000000010000000000000001', '2001:db8:0:1::1'],
    ['20010db8000000010001000100010001', '2001:db8:0:1:1:1:1:1'],
    ['20010000000000010000000000000001', '2001:0:0:1::1'],
    ['20010000000000010001000000000001', '2001::1:1:0:0:1'],
    ['fe80000000000000abcdef0123456789', 'fe80::abcd:ef01:2345:6789'],
    ['00000000000000000000ffff01020304', '::ffff:1.2.3.4'],
  ];
  for (const [hex, want] of cases) {
    const r = parseProxyHeader(v2(0x21, 0x21, ipv6Body(v6(hex), v6('00000000000000000000000000000001'), 1, 2)));
    t.equal(r.kind === 'ok' ? r.source?.address : r.kind, want, want);
  }
});

// ---------------------------------------------------------------------------
// Socket level: readProxyHeader on real sockets.

interface Harness {
  port: number;
  /** Settles with the readProxyHeader outcome of each accepted connection, in order. */
  outcomes: Promise<{ address: string | undefined } | ProxyHeaderError>[];
  close(): Promise<void>;
}

/**
 * A net.Server that reads the PROXY header, then hands the socket to `next`
 * (or destroys it on failure, as the proxy does).
 */
async function listen(timeoutMs: number, next: (sock: net.Socket, address: string | undefined) => void): Promise<Harness> {
  const sockets = new Set<net.Socket>();
  const outcomes: Harness['outcomes'] = [];
  const server = net.createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    outcomes.push(
      readProxyHeader(sock, timeoutMs).then(
        (r) => {
          next(sock, r.address);
          return r;
        },
        (err: unknown) => {
          sock.destroy();
          if (err instanceof ProxyHeaderError) return err;
          throw err;
        },
      ),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const addr = server.address() as net.AddressInfo;
  return {
    port: addr.port,
    outcomes,
    async close() {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}

/** An http.Server (never listening) that gets sockets after the header; answers with what it saw. */
function httpBehind(): { server: http.Server; handoff: (sock: net.Socket, address: string | undefined) => void } {
  const clientOf = new WeakMap<net.Socket, string | undefined>();
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.stringify({
        client: clientOf.get(req.socket) ?? null,
        method: req.method,
        url: req.url,
        host: req.headers.host,
        body: Buffer.concat(chunks).toString(),
      });
      res.setHeader('content-type', 'application/json');
      res.end(body);
    });
  });
  return {
    server,
    handoff(sock, address) {
      clientOf.set(sock, address);
      server.emit('connection', sock);
    },
  };
}

/** Connects, writes each part (pausing `gapMs` between), and returns everything read until the server closes. */
async function exchange(port: number, parts: (Buffer | string)[], gapMs = 30, endAfter = false): Promise<string> {
  const sock = net.connect(port, '127.0.0.1');
  sock.setNoDelay(true);
  await once(sock, 'connect');
  const received: Buffer[] = [];
  sock.on('data', (c: Buffer) => received.push(c));
  const closed = once(sock, 'close');
  sock.on('error', () => undefined);
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) await sleep(gapMs);
    sock.write(parts[i] as Buffer | string);
  }
  if (endAfter) sock.end();
  await closed;
  return Buffer.concat(received).toString('latin1');
}

function jsonBodies(raw: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  const re = /HTTP\/1\.1 (\d+)[^]*?\r\n\r\n/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw)) !== null) {
    const headEnd = re.lastIndex;
    const len = /content-length: (\d+)/i.exec(m[0]);
    const n = len ? Number(len[1]) : 0;
    const body = raw.slice(headEnd, headEnd + n);
    out.push({ status: Number(m[1]), ...(JSON.parse(body) as Record<string, unknown>) });
    re.lastIndex = headEnd + n;
  }
  return out;
}

const GET = (path: string, close = true): string => `GET ${path} HTTP/1.1\r\nHost: app.example\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;

t.test('readProxyHeader + http.Server handoff', async (t) => {
  const { server, handoff } = httpBehind();
  const h = await listen(2000, handoff);
  t.teardown(async () => {
    server.closeAllConnections();
    await h.close();
  });

  t.test('v1 header and request in one write', async (t) => {
    const raw = await exchange(h.port, ['PROXY TCP4 203.0.113.7 10.0.0.1 56324 443\r\n' + GET('/one')]);
    t.match(jsonBodies(raw), [{ status: 200, client: '203.0.113.7', method: 'GET', url: '/one', host: 'app.example' }]);
  });

  t.test('v2 header (IPv6) and a POST with a body in one write', async (t) => {
    const hdr = v2(0x21, 0x21, ipv6Body(v6('20010db8000000000000000000000042'), v6('20010db8000000000000000000000001'), 999, 443));
    const req = 'POST /submit HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\nContent-Length: 11\r\n\r\nhello world';
    const raw = await exchange(h.port, [Buffer.concat([hdr, Buffer.from(req)])]);
    t.match(jsonBodies(raw), [{ status: 200, client: '2001:db8::42', method: 'POST', url: '/submit', body: 'hello world' }]);
  });

  t.test('v1 header and a large POST in one write', async (t) => {
    const big = 'y'.repeat(300 * 1024);
    const req = `POST /big HTTP/1.1\r\nHost: app.example\r\nConnection: close\r\nContent-Length: ${big.length}\r\n\r\n${big}`;
    const raw = await exchange(h.port, ['PROXY TCP4 203.0.113.70 10.0.0.1 5 443\r\n' + req]);
    const [res] = jsonBodies(raw);
    t.match(res, { status: 200, client: '203.0.113.70', url: '/big' });
    t.equal((res?.body as string).length, big.length);
  });

  t.test('v2 header (IPv4, TLVs, mapped) split across chunks', async (t) => {
    const tlv = Buffer.concat([Buffer.from([0x02, 0x00, 0x0b]), Buffer.from('app.example')]);
    const hdr = v2(0x21, 0x11, Buffer.concat([ipv4Body([192, 0, 2, 10], [10, 0, 0, 1], 1000, 443), tlv]));
    const raw = await exchange(h.port, [hdr.subarray(0, 5), hdr.subarray(5, 20), Buffer.concat([hdr.subarray(20), Buffer.from(GET('/v2'))])]);
    t.match(jsonBodies(raw), [{ status: 200, client: '192.0.2.10', url: '/v2' }]);
  });

  t.test('v1 header in two chunks, the request in the second', async (t) => {
    const raw = await exchange(h.port, ['PROXY TCP4 198.51.', '100.23 10.0.0.1 1 443\r\n' + GET('/split')]);
    t.match(jsonBodies(raw), [{ status: 200, client: '198.51.100.23', url: '/split' }]);
  });

  t.test('header alone, then the request later', async (t) => {
    const raw = await exchange(h.port, ['PROXY TCP6 ::ffff:198.51.100.5 ::1 1 443\r\n', GET('/later')], 50);
    t.match(jsonBodies(raw), [{ status: 200, client: '198.51.100.5', url: '/later' }], 'mapped source normalised');
  });

  t.test('keep-alive: pipelined requests in the header chunk, then another one later', async (t) => {
    const raw = await exchange(h.port, ['PROXY TCP4 203.0.113.8 10.0.0.1 2 443\r\n' + GET('/a', false) + GET('/b', false), GET('/c')], 50);
    t.match(jsonBodies(raw), [
      { status: 200, client: '203.0.113.8', url: '/a' },
      { status: 200, client: '203.0.113.8', url: '/b' },
      { status: 200, client: '203.0.113.8', url: '/c' },
    ]);
  });

  t.test('header, request and FIN in the same burst', async (t) => {
    const raw = await exchange(h.port, ['PROXY TCP4 203.0.113.9 10.0.0.1 3 443\r\n' + GET('/fin')], 0, true);
    t.match(jsonBodies(raw), [{ status: 200, client: '203.0.113.9', url: '/fin' }]);
  });

  t.test('v2 LOCAL and v1 UNKNOWN: no address', async (t) => {
    const raw1 = await exchange(h.port, [Buffer.concat([v2(0x20, 0x00, Buffer.alloc(0)), Buffer.from(GET('/local'))])]);
    t.match(jsonBodies(raw1), [{ status: 200, client: null, url: '/local' }]);
    const raw2 = await exchange(h.port, ['PROXY UNKNOWN\r\n' + GET('/unknown')]);
    t.match(jsonBodies(raw2), [{ status: 200, client: null, url: '/unknown' }]);
  });

  t.test('invalid header: rejected, connection destroyed, nothing reaches HTTP', async (t) => {
    const before = h.outcomes.length;
    const raw = await exchange(h.port, [GET('/no-header')]);
    t.equal(raw, '');
    const r = await h.outcomes[before];
    t.ok(r instanceof ProxyHeaderError);
    if (r instanceof ProxyHeaderError) t.equal(r.code, 'invalid');
  });

  t.test('v1 header longer than 107 bytes: invalid', async (t) => {
    const before = h.outcomes.length;
    const raw = await exchange(h.port, ['PROXY UNKNOWN ' + 'x'.repeat(200) + '\r\n' + GET('/')]);
    t.equal(raw, '');
    const r = await h.outcomes[before];
    t.ok(r instanceof ProxyHeaderError && r.code === 'invalid');
  });

  t.test('socket closed before the header is complete', async (t) => {
    const before = h.outcomes.length;
    const raw = await exchange(h.port, ['PROXY TCP4 1.2.3.4'], 0, true);
    t.equal(raw, '');
    const r = await h.outcomes[before];
    t.ok(r instanceof ProxyHeaderError && r.code === 'closed', String(r));
  });

  t.test('connection closed with nothing sent', async (t) => {
    const before = h.outcomes.length;
    const raw = await exchange(h.port, [], 0, true);
    t.equal(raw, '');
    const r = await h.outcomes[before];
    t.ok(r instanceof ProxyHeaderError && r.code === 'closed', String(r));
  });
});

t.test('handoff to http.Server after an await (data buffered meanwhile)', async (t) => {
  const { server, handoff } = httpBehind();
  const h = await listen(2000, (sock, address) => {
    setTimeout(() => handoff(sock, address), 100);
  });
  t.teardown(async () => {
    server.closeAllConnections();
    await h.close();
  });
  const raw = await exchange(h.port, ['PROXY TCP4 203.0.113.71 10.0.0.1 6 443\r\n' + GET('/a', false), GET('/b')], 20);
  t.match(jsonBodies(raw), [
    { status: 200, client: '203.0.113.71', url: '/a' },
    { status: 200, client: '203.0.113.71', url: '/b' },
  ]);
});

t.test('readProxyHeader timeout', async (t) => {
  const h = await listen(150, (sock) => sock.destroy());
  t.teardown(() => h.close());
  const started = Date.now();
  // A partial header, then silence: the server gives up and closes.
  const raw = await exchange(h.port, ['PROXY TCP4 1.2.3.4 ']);
  const elapsed = Date.now() - started;
  t.equal(raw, '');
  const r = await h.outcomes[0];
  t.ok(r instanceof ProxyHeaderError && r.code === 'timeout', String(r));
  t.ok(elapsed >= 140, `not before the 150 ms timeout (closed after ${elapsed} ms)`);
});

t.test('readProxyHeader + raw TCP (pipe)', async (t) => {
  // After the header the socket is piped to an echo: the payload comes back intact and in order.
  const h = await listen(2000, (sock, address) => {
    sock.write(`client=${address ?? '-'};`);
    sock.pipe(sock);
  });
  t.teardown(() => h.close());

  t.test('one write: header + payload, then more payload', async (t) => {
    const raw = await exchange(h.port, ['PROXY TCP4 203.0.113.77 10.0.0.1 4 22\r\nhello ', 'world'], 50, true);
    t.equal(raw, 'client=203.0.113.77;hello world');
  });

  t.test('v2 header byte by byte, binary payload', async (t) => {
    const hdr = v2(0x21, 0x11, ipv4Body([192, 0, 2, 99], [10, 0, 0, 1], 4, 22));
    const payload = Buffer.from([0x00, 0xff, 0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51]);
    const parts: Buffer[] = [];
    for (let i = 0; i < hdr.length; i++) parts.push(hdr.subarray(i, i + 1));
    parts.push(payload);
    const raw = await exchange(h.port, parts, 2, true);
    t.equal(raw, 'client=192.0.2.99;' + payload.toString('latin1'));
  });

  t.test('a large payload in the same write as the header', async (t) => {
    const big = 'x'.repeat(256 * 1024);
    const raw = await exchange(h.port, ['PROXY TCP4 203.0.113.78 10.0.0.1 4 22\r\n' + big + 'END'], 0, true);
    t.equal(raw.length, 'client=203.0.113.78;'.length + big.length + 3);
    t.ok(raw.endsWith('xEND'));
  });
});

t.test('untrusted peer with proxy-protocol on: a forged header is plain payload', async (t) => {
  // The proxy does not call readProxyHeader for an untrusted peer; the HTTP server
  // then sees the forged header as the request line and answers 400.
  const server = http.createServer((_req, res) => res.end('should not happen'));
  const plain = net.createServer((sock) => server.emit('connection', sock));
  plain.listen(0, '127.0.0.1');
  await once(plain, 'listening');
  t.teardown(async () => {
    server.closeAllConnections();
    plain.close();
    await once(plain, 'close');
  });
  const port = (plain.address() as net.AddressInfo).port;
  const raw = await exchange(port, ['PROXY TCP4 1.1.1.1 10.0.0.1 1 443\r\n' + GET('/')], 0, true);
  t.match(raw, /^HTTP\/1\.1 400 /);
});

t.test('readProxyHeader on an already closed socket rejects', async (t) => {
  const sock = new net.Socket();
  sock.destroy();
  await t.rejects(readProxyHeader(sock, 100), { code: 'closed' });
});

t.test('every refusal says why', async (t) => {
  const sig = (...rest: number[]) => Buffer.concat([SIG, Buffer.from(rest)]);
  const cases: [string, Buffer, string][] = [
    ['not PROXY at all', Buffer.from('GET / HTTP/1.1\r\n'), 'not a PROXY protocol header'],
    ['a P that is not PROXY', Buffer.from('PUT / HTTP/1.1\r\n'), 'not a PROXY protocol header'],
    ['a broken v2 signature', Buffer.from([0x0d, 0x0a, 0x0d, 0x0b]), 'bad PROXY v2 signature'],
    ['a bare LF', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n'), 'PROXY v1 line ends with a bare LF'],
    ['a CR without LF', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rx'), 'PROXY v1 line has a CR not followed by LF'],
    ['DEL', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\x7f\r\n'), 'PROXY v1 header contains a non-printable byte'],
    ['a control byte', Buffer.from('PROXY TCP4 1.2.3.4\t5.6.7.8 1 2\r\n'), 'PROXY v1 header contains a non-printable byte'],
    ['an LF past 107 bytes', Buffer.from(`PROXY ${'A'.repeat(110)}\n`), 'PROXY v1 header longer than 107 bytes'],
    ['UDP4', Buffer.from('PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n'), 'PROXY v1 unsupported protocol "UDP4"'],
    ['five fields', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n'), 'PROXY v1 header must have exactly 6 space-separated fields'],
    ['a bad source', Buffer.from('PROXY TCP4 1.2.3.x 5.6.7.8 1 2\r\n'), 'PROXY v1 bad source address "1.2.3.x"'],
    ['a bad destination', Buffer.from('PROXY TCP4 1.2.3.4 5.6.7.x 1 2\r\n'), 'PROXY v1 bad destination address "5.6.7.x"'],
    ['v2 version 1', sig(0x11, 0x11), 'PROXY v2 unsupported version 1'],
    ['v2 command 2', sig(0x22, 0x11), 'PROXY v2 unknown command 2'],
    ['v2 family 4, seen in the 14th byte', sig(0x21, 0x41), 'PROXY v2 unknown address family 4'],
    ['v2 DGRAM', v2(0x21, 0x12, ipv4Body([1, 2, 3, 4], [5, 6, 7, 8], 1, 2)), 'PROXY v2 DGRAM transport on a stream connection'],
  ];
  for (const [what, buf, reason] of cases) t.same(parseProxyHeader(buf), { kind: 'invalid', reason }, what);
  t.same(parseProxyHeader(Buffer.from('PROXY UNKNOWN ~\r\n')), { kind: 'ok', headerLength: 17, local: false }, '"~" is printable');
  t.same(parseProxyHeader(v2(0x21, 0x01, Buffer.alloc(0))), { kind: 'ok', headerLength: 16, local: false }, 'v2 PROXY, family UNSPEC over STREAM: no address');
});
