// The canonical request's parts at their edges: Connection as the client wrote it, headers it must
// never name away, Host bounds and characters, and target schemes and bytes.
import type { IncomingHttpHeaders } from 'node:http';
import t from 'tap';
import { canonicalRequest } from '../../../src/request/canonical';
import { expectStatus } from '../../../src/request/framing';
import { connectionTokens, isWebSocketUpgrade, stripRequestHopByHop, stripResponseHopByHop } from '../../../src/request/hop-by-hop';
import { canonicalHost } from '../../../src/request/host';
import { canonicalTarget, originForm } from '../../../src/request/target';

const strip = (h: IncomingHttpHeaders, websocket = false): IncomingHttpHeaders => {
  stripRequestHopByHop(h, websocket);
  return h;
};

t.test('request Connection: what the client asked for, in a canonical form', async (t) => {
  t.same(strip({ host: 'a', connection: 'close' }), { host: 'a', connection: 'close' });
  t.same(strip({ host: 'a', connection: 'Close' }), { host: 'a', connection: 'close' });
  t.same(strip({ host: 'a', connection: 'Keep-Alive' }), { host: 'a', connection: 'keep-alive' });
  t.same(strip({ host: 'a', connection: 'keep-alive, X-Foo', 'x-foo': '1' }), { host: 'a', connection: 'keep-alive' }, 'in a list');
  t.same(strip({ host: 'a', connection: 'X-Foo, Close', 'x-foo': '1' }), { host: 'a', connection: 'close' });
  t.same(strip({ host: 'a', connection: 'X-Foo', 'x-foo': '1' }), { host: 'a' }, 'nothing this hop needs: no Connection');
});

t.test('Connection never names Host or Content-Length away', async (t) => {
  t.same(strip({ host: 'a', connection: 'Host, Content-Length', 'content-length': '5' }), { host: 'a', 'content-length': '5' });
  const response: IncomingHttpHeaders = {
    connection: 'Content-Length, Transfer-Encoding, X-A',
    'content-length': '5',
    'transfer-encoding': 'chunked',
    'x-a': '1',
  };
  stripResponseHopByHop(response);
  t.same(response, { 'content-length': '5', 'transfer-encoding': 'chunked' });
});

t.test('small helpers', async (t) => {
  t.same(connectionTokens(undefined), []);
  t.ok(isWebSocketUpgrade('GET', ' WebSocket '));
  t.equal(expectStatus(' 100-continue '), undefined);
});

t.test('Host: length, port digits, letters at the ends of the ranges', async (t) => {
  const label = 'a'.repeat(63);
  const long = `${label}.${label}.${label}.${label}.`.repeat(4).slice(0, 1024);
  t.equal(long.length, 1024);
  t.ok(canonicalHost(long.replace(/\.$/, 'a')), '1024 characters');
  t.equal(canonicalHost(`${long}a`), undefined, '1025 characters');
  t.same(canonicalHost('a:65535'), { host: 'a:65535', name: 'a' });
  t.equal(canonicalHost('a:000080'), undefined, 'more than five digits, even with leading zeros');
  t.same(canonicalHost('Zz9.example'), { host: 'zz9.example', name: 'zz9.example' });
});

t.test('targets: only http and https, bytes at the ends of the ranges', async (t) => {
  for (const raw of ['https', 'wxyz://app/x', 'httpx://app/x', '/a\u007f'])
    t.same(canonicalTarget('GET', raw), { ok: false, status: 400 }, JSON.stringify(raw));
  t.same(canonicalTarget('GET', '/\u00ff'), { ok: true, target: '/\u00ff', authority: undefined }, 'obs-text up to 255');
  t.notOk(originForm(''));
  t.notOk(originForm('ab'), 'not starting with "/"');
  const head = { method: 'GET', host: 'a', hostCount: 1, target: 'x', httpVersion: '1.1', transferEncoding: undefined, expect: undefined };
  t.same(canonicalRequest(head), { ok: false, status: 400, reason: 'target' });
});
