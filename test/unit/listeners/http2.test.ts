// The pure parts of HTTP/2 on the HTTPS entrypoint: the session budgets, the request mapping
// (pseudo-headers out, Host from :authority), the upstream response cleaning, the flags.
import t from 'tap';
import { SessionGuard, budgetFor } from '../../../src/listeners/http2-guard';
import { stripPseudo } from '../../../src/listeners/http2-request';
import { sessionOptions } from '../../../src/listeners/http2-server';
import { fitForHttp2 } from '../../../src/forward/h2-response';
import { resolveSettings } from '../../../src/settings/resolve';
import { SettingsError } from '../../../src/settings/types';

t.test('SessionGuard: a fixed window per kind of abuse', async (t) => {
  const g = new SessionGuard({ windowMs: 1000, controlFrames: 3, clientResets: 2 });
  t.equal(g.controlFrame(0), undefined);
  t.equal(g.controlFrame(1), undefined);
  t.equal(g.controlFrame(2), undefined);
  t.equal(g.controlFrame(3), 'control_flood', 'the fourth in the window');
  t.equal(g.controlFrame(1003), undefined, 'a new window starts over');
  t.equal(g.clientReset(1004), undefined);
  t.equal(g.clientReset(1005), undefined);
  t.equal(g.clientReset(1006), 'rapid_reset');
  t.equal(g.totalControl, 5);
  t.equal(g.totalResets, 3);
  t.same(budgetFor(100), { windowMs: 10_000, controlFrames: 200, clientResets: 200 });
  t.equal(budgetFor(10).clientResets, 100, 'never below 100 resets per window');
});

t.test('stripPseudo: no pseudo-header left, Host from :authority unless the client sent one', async (t) => {
  const headers: Record<string, string> = { ':method': 'GET', ':path': '/x', ':authority': 'a.example.com', ':scheme': 'https', accept: '*/*' };
  const raw = [':method', 'GET', ':path', '/x', ':authority', 'a.example.com', ':scheme', 'https', 'accept', '*/*'];
  const size = stripPseudo(headers, raw, 'a.example.com');
  t.same(headers, { accept: '*/*', host: 'a.example.com' });
  t.same(raw, ['accept', '*/*', 'host', 'a.example.com']);
  t.equal(size, 14 + 11 + 27 + 16 + 13, 'every field counted as `name: value\\r\\n`');
  const withHost: Record<string, string> = { ':authority': 'a.example.com', host: 'b.example.com' };
  const raw2 = [':authority', 'a.example.com', 'host', 'b.example.com'];
  stripPseudo(withHost, raw2, 'a.example.com');
  t.same(withHost, { host: 'b.example.com' }, 'a Host header the client sent wins (RFC 9113 8.3.1)');
  t.same(raw2, ['host', 'b.example.com']);
});

t.test('fitForHttp2: connection-specific headers out, bad statuses refused', async (t) => {
  const head = {
    statusCode: 200,
    statusMessage: 'OK',
    headers: {
      connection: 'keep-alive, X-Hop',
      'keep-alive': 'timeout=5',
      'x-hop': '1',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      te: 'gzip',
      trailer: 'x',
      host: 'u',
      'proxy-connection': 'x',
      'x-kept': 'y',
    },
  };
  t.equal(fitForHttp2(head), true);
  t.same(head.headers, { 'x-kept': 'y' });
  t.equal(head.statusMessage, '', 'no reason phrase (HTTP/2 has none; Node warns)');
  for (const statusCode of [101, 199, 600, 999]) t.equal(fitForHttp2({ statusCode, headers: {} }), false, `${statusCode}`);
});

t.test('session options: Node limits set explicitly from the flags', async (t) => {
  const o = sessionOptions({ maxConcurrentStreams: 42, maxHeaderSize: 8192, idleTimeoutMs: 1000 });
  t.match(o.settings, { maxConcurrentStreams: 42, maxHeaderListSize: 8192, enablePush: false, enableConnectProtocol: false });
  t.match(o, { maxSessionInvalidFrames: 100, maxSessionRejectedStreams: 100, maxSettings: 32, maxOutstandingPings: 10, maxSessionMemory: 10 });
});

t.test('--http2 and --http2-max-concurrent-streams', async (t) => {
  const d = resolveSettings({}, {}, '/dev/null');
  t.equal(d.http2, true, 'on by default');
  t.equal(d.http2MaxConcurrentStreams, 100);
  t.equal(resolveSettings({}, { NB_PROXY_HTTP2: 'false' }, '/dev/null').http2, false);
  t.equal(resolveSettings({ http2MaxConcurrentStreams: '250' }, {}, '/dev/null').http2MaxConcurrentStreams, 250);
  for (const bad of ['0', '1001', 'x', '-1', '1.5']) {
    t.throws(() => resolveSettings({ http2MaxConcurrentStreams: bad }, {}, '/dev/null'), {
      constructor: SettingsError,
      message: /--http2-max-concurrent-streams/,
    });
  }
  t.throws(() => resolveSettings({ http2: 'maybe' }, {}, '/dev/null'), { constructor: SettingsError, message: /--http2 \/ NB_PROXY_HTTP2: "maybe"/ });
});
