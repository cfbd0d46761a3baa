// The AppSec core and settings at their edges: every hop-by-hop header, headers the client did not
// send, the query in skip_paths, the engine's status bounds, and every flag's bounds.
import t from 'tap';
import { appsecApplies, appsecOutcome, engineHeaders, InFlight, parseEngineAnswer, versionCode, withoutProxyCookies } from '../../../src/appsec/core';
import { parseByteSize, resolveAppSecSettings, type AppSecRawSettings } from '../../../src/appsec/settings';
import type { Verdict } from '../../../src/restrictions/types';

const INFO = { clientIp: '192.0.2.1', method: 'GET', url: '/', httpVersion: '1.1', requestId: 'r', apiKey: 'k', bodyLength: undefined };

t.test('every hop-by-hop header stays out; the engine gets no header the client did not send', async (t) => {
  const h = engineHeaders(
    {
      connection: 'x',
      'keep-alive': 'timeout=5',
      'proxy-connection': 'keep-alive',
      te: 'trailers',
      trailer: 'x-sum',
      'transfer-encoding': 'chunked',
      upgrade: 'h2c',
      'content-length': '5',
      host: undefined,
      expect: '100-continue',
      'x-empty': undefined,
      accept: 'text/html',
    },
    INFO,
  );
  t.same(Object.keys(h).sort(), [
    'accept',
    'x-crowdsec-appsec-api-key',
    'x-crowdsec-appsec-http-version',
    'x-crowdsec-appsec-ip',
    'x-crowdsec-appsec-transaction-id',
    'x-crowdsec-appsec-uri',
    'x-crowdsec-appsec-verb',
  ]);
});

t.test('skip_paths: dot segments at the end, and in the query', async (t) => {
  const cfg = { mode: 'enforce' as const, skipPaths: ['/upload/'] };
  t.ok(appsecApplies(cfg, '/upload/..'), 'a final ".."');
  t.ok(appsecApplies(cfg, '/upload/x/.'));
  t.notOk(appsecApplies(cfg, '/upload/a.jpg?next=/../admin'), 'the query is not the path, whatever it holds');
  t.notOk(appsecApplies(cfg, '/upload/a.jpg?x=%2e%2e'));
});

t.test('the HTTP version code falls back to 11', async (t) => {
  for (const v of ['2', '', '1x1', '1.1.1', '2.0.1', '2x0']) t.equal(versionCode(v), '11', JSON.stringify(v));
});

t.test('proxy cookies', async (t) => {
  t.equal(withoutProxyCookies('a=1; nbp_session=x'), 'a=1', 'after "; "');
  t.equal(withoutProxyCookies('a=1;b=2'), 'a=1;b=2', 'a header without them is passed as it is');
});

t.test("the engine's http_status: 100 to 599; 400 and up is a deny status", async (t) => {
  const code = (s: number): number | undefined => {
    const r = parseEngineAnswer(200, JSON.stringify({ action: 'ban', http_status: s }));
    return r.ok ? r.httpStatus : -1;
  };
  t.same([99, 100, 599, 600, 403.5].map(code), [undefined, 100, 599, undefined, undefined]);
  const allowed: Verdict = { allowed: true, denyReason: '', country: undefined, metadata: undefined };
  t.equal(appsecOutcome(allowed, 'enforce', { ok: true, action: 'ban', httpStatus: 400 }, 'deny', false).denyStatus, 400);
  t.equal(appsecOutcome(allowed, 'enforce', { ok: true, action: 'ban', httpStatus: 399 }, 'deny', false).denyStatus, undefined);
});

t.test('InFlight: a release too many never makes room', async (t) => {
  const f = new InFlight(1);
  f.release();
  t.equal(f.count, 0);
  t.ok(f.tryAcquire());
  t.notOk(f.tryAcquire());
});

const RAW: AppSecRawSettings = { url: 'http://crowdsec:7422/', apiKey: 'k', timeout: '200ms', maxBody: '64KiB', failureAction: 'deny', maxInflight: '256' };
const fail = (m: string): Error => new Error(m);

t.test('sizes in every unit', async (t) => {
  t.same(['1b', '1k', '1kb', '1KiB', '1m', '1MB', '1mib', ' 2 M '].map(parseByteSize), [1, 1024, 1024, 1024, 1048576, 1048576, 1048576, 2097152]);
});

t.test('the bounds of every flag', async (t) => {
  const ok = (over: Partial<AppSecRawSettings>) => resolveAppSecSettings({ ...RAW, ...over }, fail);
  t.match(ok({ timeout: '10ms' }), { timeoutMs: 10 });
  t.match(ok({ timeout: '5s' }), { timeoutMs: 5000 });
  t.match(ok({ maxBody: '10MiB' }), { maxBody: 10 * 1024 * 1024 });
  t.match(ok({ failureAction: ' Allow ' }), { failureAction: 'allow' });
  t.match(ok({ maxInflight: '1' }), { maxInflight: 1 });
  t.match(ok({ maxInflight: '100000' }), { maxInflight: 100_000 });
  t.match(ok({ maxInflight: ' 7 ' }), { maxInflight: 7 });
  t.match(ok({ url: 'https://crowdsec:7422/' }), { url: new URL('https://crowdsec:7422/') });
  for (const [over, message] of [
    [{ maxInflight: '100001' }, /--appsec-max-inflight/],
    [{ maxInflight: 'x5' }, /--appsec-max-inflight/],
    [{ maxInflight: '5x' }, /--appsec-max-inflight/],
    [{ maxBody: '10241k' }, /--appsec-max-body/],
    [{ url: 'not a url' }, /--appsec-url .*is not a URL such as/],
    [{ url: 'http://user@crowdsec:7422/' }, /credentials/],
    [{ url: 'http://:pw@crowdsec:7422/' }, /credentials/],
    [{ apiKey: '' }, /no bouncer key/],
  ] as const) {
    t.throws(() => resolveAppSecSettings({ ...RAW, ...over }, fail), message, JSON.stringify(over));
  }
});
