import t from 'tap';
import type { IncomingHttpHeaders } from 'node:http';
import { connectionTokens, isWebSocketUpgrade, stripRequestHopByHop, stripResponseHopByHop } from '../../../src/request/hop-by-hop';

t.test('request: Connection and every header it names, Keep-Alive, Proxy-Connection, TE, Trailer, Upgrade, Expect', async (t) => {
  const h: IncomingHttpHeaders = {
    host: 'app.example.com',
    connection: 'X-Forwarded-For, X-Request-Id, X-Private, Host, close',
    'x-forwarded-for': '1.2.3.4',
    'x-request-id': 'r',
    'x-private': '1',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'keep-alive',
    te: 'gzip, Trailers',
    trailer: 'X-T',
    upgrade: 'h2c',
    expect: '100-continue',
    'transfer-encoding': 'chunked',
    accept: '*/*',
  };
  stripRequestHopByHop(h, false);
  t.same(h, { host: 'app.example.com', connection: 'close', te: 'trailers', 'transfer-encoding': 'chunked', accept: '*/*' });
  const named: IncomingHttpHeaders = { host: 'a', connection: 'Transfer-Encoding, Content-Length', 'transfer-encoding': 'chunked' };
  stripRequestHopByHop(named, false);
  t.same(named, { host: 'a', 'transfer-encoding': 'chunked' }, 'a chunked body stays framed when Connection names Transfer-Encoding');
  const plain: IncomingHttpHeaders = { host: 'a', te: 'gzip', connection: 'keep-alive' };
  stripRequestHopByHop(plain, false);
  t.same(plain, { host: 'a', connection: 'keep-alive' });
  const ws: IncomingHttpHeaders = { host: 'a', connection: 'Upgrade, X-Secret', upgrade: 'WebSocket', 'x-secret': '1', 'sec-websocket-key': 'k' };
  stripRequestHopByHop(ws, true);
  t.same(ws, { host: 'a', connection: 'upgrade', upgrade: 'websocket', 'sec-websocket-key': 'k' });
});

t.test('response: Connection and what it names, Keep-Alive, Proxy-Connection, Trailer, Upgrade, TE', async (t) => {
  const h: IncomingHttpHeaders = {
    connection: 'X-Up, keep-alive',
    'x-up': '1',
    'keep-alive': 'timeout=5',
    'proxy-connection': 'x',
    trailer: 'X-T',
    upgrade: 'h2c',
    te: 'trailers',
    'content-type': 'text/plain',
    'transfer-encoding': 'chunked',
  };
  stripResponseHopByHop(h);
  t.same(h, { 'content-type': 'text/plain', 'transfer-encoding': 'chunked' });
});

t.test('response: the usual Connection values (fast path) strip what they name, like any other', async (t) => {
  for (const connection of ['close', 'Close']) {
    const h: Record<string, string> = { connection, close: 'named by Connection', 'content-type': 'text/plain' };
    stripResponseHopByHop(h);
    t.same(h, { 'content-type': 'text/plain' }, connection);
  }
  for (const connection of ['keep-alive', 'Keep-Alive']) {
    const h: Record<string, string> = { connection, 'keep-alive': 'timeout=5', close: 'not named', 'content-type': 'text/plain' };
    stripResponseHopByHop(h);
    t.same(h, { close: 'not named', 'content-type': 'text/plain' }, connection);
  }
  const listed: Record<string, string> = { connection: 'close, X-Hop', close: 'x', 'x-hop': 'y', 'x-end': 'z' };
  stripResponseHopByHop(listed);
  t.same(listed, { 'x-end': 'z' }, 'a list is parsed');
});

t.test('helpers', async (t) => {
  t.same(connectionTokens(' a ,B,, c'), ['a', 'b', 'c']);
  t.same(connectionTokens(['a', 'b']), ['a', 'b']);
  t.ok(isWebSocketUpgrade('GET', 'websocket'));
  t.notOk(isWebSocketUpgrade('POST', 'websocket'));
  t.notOk(isWebSocketUpgrade('GET', 'h2c'));
});
