import t from 'tap';
import { canonicalRequest, type RequestHead } from '../../../src/request/canonical';
import { canonicalHost } from '../../../src/request/host';
import { canonicalTarget } from '../../../src/request/target';
import { expectStatus, transferEncodingStatus } from '../../../src/request/framing';

t.test('canonicalHost: reg-name or IP-literal, optional numeric port, lower case, no trailing dot', async (t) => {
  const ok: Array<[string, string, string]> = [
    ['app.example.com', 'app.example.com', 'app.example.com'],
    ['APP.Example.COM', 'app.example.com', 'app.example.com'],
    ['app.example.com.', 'app.example.com', 'app.example.com'],
    ['app.example.com.:8080', 'app.example.com:8080', 'app.example.com'],
    ['app.example.com:080', 'app.example.com:80', 'app.example.com'],
    ['app.example.com:', 'app.example.com', 'app.example.com'],
    ['[::1]', '[::1]', '[::1]'],
    ['[2001:DB8::1]:443', '[2001:db8::1]:443', '[2001:db8::1]'],
    ['127.0.0.1:80', '127.0.0.1:80', '127.0.0.1'],
    ['a_b~c', 'a_b~c', 'a_b~c'],
  ];
  for (const [raw, host, name] of ok) t.same(canonicalHost(raw), { host, name }, raw);
  const bad = [
    '',
    'app.example.com:x@admin.example.com',
    'app.example.com@admin.example.com',
    'app.example.com admin.example.com',
    'app.example.com, evil.com',
    'app.example.com:99999',
    'app.example.com:123456',
    'app.example.com:-1',
    'app.example.com:80:80',
    'app%2eexample.com',
    'app/example',
    'app\\example',
    '[::1',
    '[::1]x',
    '[::1]:x',
    '[fe80::1%eth0]',
    '[v1.x]',
    '[]',
    '.',
    'a..',
    ':80',
    'äpp.example.com',
    'app.example.com\t',
    'a?b',
    'a#b',
  ];
  for (const raw of bad) t.equal(canonicalHost(raw), undefined, JSON.stringify(raw));
});

t.test('canonicalTarget: origin-form, absolute-form rewritten, * for OPTIONS, CONNECT 405', async (t) => {
  t.same(canonicalTarget('GET', '/a?b=c'), { ok: true, target: '/a?b=c', authority: undefined });
  t.same(canonicalTarget('GET', '/a//b'), { ok: true, target: '/a//b', authority: undefined }, 'inner empty segments are kept as sent');
  t.same(canonicalTarget('GET', 'http://App.example.com:8080/x?y'), { ok: true, target: '/x?y', authority: 'App.example.com:8080' });
  t.same(canonicalTarget('GET', 'HTTPS://app.example.com'), { ok: true, target: '/', authority: 'app.example.com' });
  t.same(canonicalTarget('GET', 'http://app.example.com?q'), { ok: true, target: '/?q', authority: 'app.example.com' });
  t.same(canonicalTarget('OPTIONS', '*'), { ok: true, target: '*', authority: undefined });
  t.same(canonicalTarget('GET', '*'), { ok: false, status: 400 });
  t.same(canonicalTarget('CONNECT', 'app.example.com:443'), { ok: false, status: 405 });
  for (const raw of [
    'http://user@app.example.com/',
    'http:///x',
    'ftp://app.example.com/',
    'app.example.com:443',
    'x',
    '//evil.com/x',
    '/\\evil.com/x',
    '/a#frag',
    'http://app.example.com/a#f',
    'http://app.example.com//evil.com/',
    '/a b',
    '/\u0100',
  ]) {
    t.same(canonicalTarget('GET', raw), { ok: false, status: 400 }, JSON.stringify(raw));
  }
});

t.test('framing: Transfer-Encoding and Expect', async (t) => {
  t.equal(transferEncodingStatus(undefined, '1.1'), undefined);
  t.equal(transferEncodingStatus('chunked', '1.1'), undefined);
  t.equal(transferEncodingStatus(' Chunked ', '1.1'), undefined);
  t.equal(transferEncodingStatus('identity, chunked', '1.1'), 501);
  t.equal(transferEncodingStatus('chunked, chunked', '1.1'), 501);
  t.equal(transferEncodingStatus('gzip', '1.1'), 501);
  t.equal(transferEncodingStatus('chunked', '1.0'), 400);
  t.equal(expectStatus(undefined), undefined);
  t.equal(expectStatus('100-Continue'), undefined);
  t.equal(expectStatus('200-ok'), 417);
});

t.test('canonicalRequest: the absolute-form authority wins; one Host; refusals name their reason', async (t) => {
  const head = (over: Partial<RequestHead>): RequestHead => ({
    method: 'GET',
    host: 'app.example.com',
    hostCount: 1,
    target: '/',
    httpVersion: '1.1',
    transferEncoding: undefined,
    expect: undefined,
    ...over,
  });
  t.same(canonicalRequest(head({ host: 'App.example.com.:80' })), { ok: true, host: 'app.example.com:80', routeName: 'app.example.com', target: '/' });
  t.same(canonicalRequest(head({ target: 'http://admin.example.com/x' })), {
    ok: true,
    host: 'admin.example.com',
    routeName: 'admin.example.com',
    target: '/x',
  });
  t.same(canonicalRequest(head({ host: 'bad host', target: 'http://admin.example.com/x' })), {
    ok: true,
    host: 'admin.example.com',
    routeName: 'admin.example.com',
    target: '/x',
  });
  t.same(canonicalRequest(head({ host: undefined, httpVersion: '1.0' })), { ok: true, host: undefined, routeName: undefined, target: '/' });
  t.same(canonicalRequest(head({ host: undefined })), { ok: false, status: 400, reason: 'host' });
  t.same(canonicalRequest(head({ hostCount: 2 })), { ok: false, status: 400, reason: 'host' });
  t.same(canonicalRequest(head({ host: 'a@b' })), { ok: false, status: 400, reason: 'host' });
  t.same(canonicalRequest(head({ target: 'http://[::1/x' })), { ok: false, status: 400, reason: 'host' });
  t.same(canonicalRequest(head({ method: 'CONNECT', target: 'a:443' })), { ok: false, status: 405, reason: 'method' });
  t.same(canonicalRequest(head({ transferEncoding: 'identity, chunked' })), { ok: false, status: 501, reason: 'transfer_encoding' });
  t.same(canonicalRequest(head({ transferEncoding: 'chunked', httpVersion: '1.0' })), { ok: false, status: 400, reason: 'transfer_encoding' });
  t.same(canonicalRequest(head({ expect: 'x' })), { ok: false, status: 417, reason: 'expect' });
});
