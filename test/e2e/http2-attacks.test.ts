// The HTTP/2 attacks against the real binary, with raw frames (test/harness/h2-frames.ts): rapid
// reset, CONTINUATION flood, PING and SETTINGS floods, more streams than allowed, oversized header
// lists, an HPACK bomb, a client that never reads. For each: the offending session is closed (GOAWAY
// where the proxy decides it) and logged or its streams refused, a clean client on another
// connection is still served, the daemon's RSS stays bounded, and the upstream sees no request the
// attack made that a clean client would not have made.
import t, { type Test } from 'tap';
import { readFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCa, issueLeaf } from '../harness/certs';
import { startDaemon, type Daemon } from '../harness/daemon';
import { connectH2 } from '../harness/h2-client';
import * as F from '../harness/h2-frames';
import { until } from '../harness/clients';
import { freePort } from '../harness/ports';
import { startHttpUpstream } from '../harness/upstreams';

const MB = 1024 * 1024;

function rss(daemon: Daemon): number {
  const status = readFileSync(`/proc/${daemon.child.pid as number}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0) * 1024;
}

t.test('HTTP/2 attacks', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-h2a-'));
  const ca = await makeCa(dir);
  const leaf = await issueLeaf(ca, 'a', ['a.example.com']);
  const chunk = Buffer.alloc(MB, 0x61);
  const upstream = await startHttpUpstream((req, res) => {
    if (req.url === '/big') {
      // 32 MiB, written as the client's side of the proxy drains.
      let left = 32;
      const more = (): void => {
        while (left > 0) {
          left--;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end();
      };
      return more();
    }
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  const httpsPort = await freePort();
  const daemon = await startDaemon({
    config: `services:
  - name: a
    protocol: http
    domains: [a.example.com]
    target: ${upstream.url}
    tls: { cert: ${leaf.cert}, key: ${leaf.key} }
`,
    // The idle limit of a session is the larger of these plus 5 s: short, for the never-reading client.
    args: ['--https-addr', `127.0.0.1:${httpsPort}`, '--upstream-timeout', '3s', '--header-timeout', '2s', '--max-header-size', '16384'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const authority = `a.example.com:${httpsPort}`;
  const attackRequests = (path: string): number => upstream.requests.filter((r) => r.url === path).length;
  const clean = async (t: Test): Promise<void> => {
    const c = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem, from: '127.0.0.5' });
    const r = await c.get('/clean');
    t.equal(r.status, 200, 'a clean client on another connection is served');
    c.close();
  };
  /** The next 'HTTP/2 session closed' line from line `since` on. */
  const abuseLine = (since: number) =>
    daemon.waitFor((l) => daemon.lines.indexOf(l) >= since && l.msg === 'HTTP/2 session closed', 10_000, 'an HTTP/2 session closed line');
  // The GOAWAY is written just before the close; a client still writing may get a TCP reset first
  // and never read it, so the code is checked when it arrived and the log line always.
  const goawayIs = (t: Test, c: F.RawH2, code: number): void => {
    const got = c.goaway();
    t.ok(got === undefined || got === code, `GOAWAY ${got === undefined ? 'not read before the reset' : String(got)}`);
  };
  const connect = () => F.connectRawH2({ port: httpsPort, servername: 'a.example.com' });
  await clean(t);
  const baseline = rss(daemon);

  /** Writes frames until the session closes or `max` were written; returns how many went. */
  async function flood(c: F.RawH2, max: number, next: (i: number) => Buffer): Promise<number> {
    let i = 0;
    for (; i < max && !c.closed(); i++) {
      c.write(next(i));
      if (i % 100 === 99) await new Promise((r) => setImmediate(r));
    }
    await until('the session closed', () => c.closed(), 10_000);
    return i;
  }

  await t.test('rapid reset (CVE-2023-44487): GOAWAY ENHANCE_YOUR_CALM after the reset budget', async (t) => {
    const c = await connect();
    const since = daemon.lines.length;
    const before = rss(daemon);
    const sent = await flood(c, 20_000, (i) => Buffer.concat([F.headers(1 + 2 * i, F.requestBlock(authority, '/rr')), F.rstStream(1 + 2 * i)]));
    goawayIs(t, c, F.ERROR.ENHANCE_YOUR_CALM);
    const line = await abuseLine(since);
    t.equal(line.abuse, 'rapid_reset');
    t.equal(line.client_ip, '127.0.0.1');
    t.ok((line.client_resets as number) <= 201 + 100, `closed after ${String(line.client_resets)} resets (${sent} streams written)`);
    t.ok(
      attackRequests('/rr') <= (line.client_resets as number),
      `${attackRequests('/rr')} of the cancelled requests reached the upstream (each one a complete request)`,
    );
    t.pass(`RSS ${Math.round(before / MB)} MiB before, ${Math.round(rss(daemon) / MB)} MiB after`);
    await clean(t);
  });

  for (const kind of ['PING', 'SETTINGS'] as const) {
    await t.test(`${kind} flood: GOAWAY ENHANCE_YOUR_CALM after the control-frame budget`, async (t) => {
      const c = await connect();
      const since = daemon.lines.length;
      const before = rss(daemon);
      const sent = await flood(c, 50_000, () => (kind === 'PING' ? F.ping() : F.settings([[F.SETTING.INITIAL_WINDOW_SIZE, 65_535]])));
      goawayIs(t, c, F.ERROR.ENHANCE_YOUR_CALM);
      const line = await abuseLine(since);
      t.equal(line.abuse, 'control_flood');
      t.ok((line.control_frames as number) <= 202, `closed after ${String(line.control_frames)} control frames (${sent} written)`);
      t.pass(`RSS ${Math.round(before / MB)} MiB before, ${Math.round(rss(daemon) / MB)} MiB after`);
      await clean(t);
    });
  }

  await t.test('CONTINUATION flood: the session is closed long before the header block could grow', async (t) => {
    const c = await connect();
    const since = daemon.lines.length;
    const before = rss(daemon);
    c.write(F.headers(1, F.requestBlock(authority, '/cont'), F.FLAG.END_STREAM));
    const sent = await flood(c, 50_000, (i) => F.continuation(1, F.literal(`x-c${i % 10}`, 'b'.repeat(100))));
    t.ok(sent < 50_000, `closed after ${sent} CONTINUATION frames were written (GOAWAY ${String(c.goaway())})`);
    t.match((await abuseLine(since)).detail, /./, 'logged');
    t.equal(attackRequests('/cont'), 0, 'no request reached the upstream');
    t.pass(`RSS ${Math.round(before / MB)} MiB before, ${Math.round(rss(daemon) / MB)} MiB after`);
    await clean(t);
  });

  await t.test('more concurrent streams than allowed: refused, then the session is closed and logged', async (t) => {
    const c = await connect();
    const since = daemon.lines.length;
    // Open streams (no END_STREAM): the upstream waits for their bodies.
    const open = (i: number): Buffer => F.headers(1 + 2 * i, F.requestBlock(authority, '/streams'), F.FLAG.END_HEADERS);
    const refusedSoFar = (): number => c.frames.filter((f) => f.type === F.FRAME.RST_STREAM && f.payload.readUInt32BE(0) === F.ERROR.REFUSED_STREAM).length;
    // First 150 (50 over the limit, under the session's invalid-frame limit), and the refusals read
    // while the session is still open: once it is closed, a reset of the socket can discard them.
    const FIRST = 150;
    for (let i = 0; i < FIRST; i++) c.write(open(i));
    await until('the streams over the limit refused', () => refusedSoFar() > 0 || c.closed(), 10_000);
    const refused = refusedSoFar();
    t.ok(refused > 0, `${refused} streams refused (REFUSED_STREAM) of ${FIRST} opened`);
    const sent = FIRST + (await flood(c, 2000, (i) => open(FIRST + i)));
    t.pass(`the session closed after ${sent} streams were opened`);
    const line = await abuseLine(since);
    t.pass(`logged: ${String(line.abuse)} (${String(line.detail)})`);
    t.ok(attackRequests('/streams') <= 100, `${attackRequests('/streams')} streams reached the upstream: never more than --http2-max-concurrent-streams`);
    await clean(t);
  });

  await t.test('oversized header list: 431, nothing forwarded', async (t) => {
    const c = await connect();
    const big = F.literal('x-big', 'a'.repeat(12_000));
    const block = Buffer.concat([F.requestBlock(authority, '/big-headers'), big, F.literal('x-big2', 'a'.repeat(12_000))]);
    // Split into frames under the 16 KiB maximum frame size.
    c.write(F.headers(1, block.subarray(0, 16_000), F.FLAG.END_STREAM));
    c.write(F.continuation(1, block.subarray(16_000), true));
    // A clean request behind it on the same session: once answered, the oversized one was dealt with.
    c.write(F.headers(3, F.requestBlock(authority, '/after-big')));
    await until(
      'the next stream answered, or the session reset',
      () => c.closed() || c.frames.some((f) => f.streamId === 3 && f.type === F.FRAME.HEADERS),
      5000,
    );
    const answer = c.frames.find((f) => f.streamId === 1 && (f.type === F.FRAME.RST_STREAM || f.type === F.FRAME.HEADERS));
    t.ok(c.closed() || answer !== undefined, `stream 1 answered (${answer?.type === F.FRAME.HEADERS ? 'HEADERS: 431' : 'RST_STREAM'}) or the session closed`);
    t.equal(attackRequests('/big-headers'), 0, 'nothing reached the upstream');
    // Over --max-header-size from a well-behaved client: 431 (as HTTP/1.1), an access line, the session lives.
    const over = await connectH2({ port: httpsPort, servername: 'a.example.com', ca: ca.rootPem });
    t.equal((await over.get('/over', { 'x-big': 'a'.repeat(17_000) })).status, 431, 'a header list over --max-header-size gets 431');
    t.match(await daemon.waitFor((l) => l.msg === 'access' && l.path === '/over', 5000), { status: 431, http_version: '2.0' });
    t.equal((await over.get('/clean')).status, 200, 'the same session still serves');
    t.equal(attackRequests('/over'), 0);
    over.close();
    c.socket.destroy();
    await clean(t);
  });

  await t.test('HPACK bomb: one table entry referenced thousands of times is cut off at the header list limit', async (t) => {
    const c = await connect();
    const since = daemon.lines.length;
    const before = rss(daemon);
    c.write(F.headers(1, Buffer.concat([F.requestBlock(authority, '/hpack'), F.literalIndexed('x-bomb', 'a'.repeat(4000))])));
    // Each block: 4000 one-byte references to a 4 KB entry = 16 MB decoded from 4 KB sent.
    const refs = Buffer.alloc(4000, F.indexed(62)[0] as number);
    const sent = await flood(c, 5000, (i) => F.headers(3 + 2 * i, Buffer.concat([F.requestBlock(authority, '/hpack'), refs])));
    t.ok(c.goaway() !== undefined || c.closed(), `session closed after ${sent} bomb blocks (GOAWAY ${String(c.goaway())})`);
    t.pass(`logged: ${String((await abuseLine(since)).detail)}`);
    t.equal(attackRequests('/hpack'), 1, 'only the first (small) request reached the upstream');
    t.ok(rss(daemon) - before < 64 * MB, `RSS ${Math.round(before / MB)} MiB before, ${Math.round(rss(daemon) / MB)} MiB after`);
    await clean(t);
  });

  await t.test('a client that never reads (window 0): memory stays bounded, the idle session is closed', async (t) => {
    const c = await connect();
    const before = rss(daemon);
    c.write(F.settings([[F.SETTING.INITIAL_WINDOW_SIZE, 0]]));
    for (let i = 0; i < 50; i++) c.write(F.headers(1 + 2 * i, F.requestBlock(authority, '/big')));
    c.pauseReading();
    await until('the upstream was asked for the 50 responses', () => attackRequests('/big') >= 50, 10_000);
    await clean(t);
    const during = rss(daemon);
    t.ok(during - before < 200 * MB, `50 streams of 32 MiB unread: RSS ${Math.round(before / MB)} → ${Math.round(during / MB)} MiB`);
    // Reading again only so that this client can see the close (a paused socket never reports it).
    c.resumeReading();
    await until('the idle session closed', () => c.closed(), 30_000);
    t.pass(`closed; RSS ${Math.round(rss(daemon) / MB)} MiB`);
  });

  t.ok(rss(daemon) - baseline < 256 * MB, `RSS ${Math.round(baseline / MB)} MiB at the start, ${Math.round(rss(daemon) / MB)} MiB at the end`);
});
