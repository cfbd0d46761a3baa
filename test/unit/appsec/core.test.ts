// The pure AppSec core: which requests go to the engine, what it is sent, what its answer means.
import t from 'tap';
import {
  appsecApplies,
  appsecOutcome,
  engineHeaders,
  InFlight,
  parseEngineAnswer,
  stripAppSecHeaders,
  versionCode,
  withoutProxyCookies,
} from '../../../src/appsec/core';
import type { Verdict } from '../../../src/restrictions/types';

const ALLOWED: Verdict = { allowed: true, denyReason: '', country: 'DE', metadata: undefined };

t.test('appsecApplies: off never, skip_paths by prefix, dot segments and encodings judged anyway', async (t) => {
  const cfg = { mode: 'enforce' as const, skipPaths: ['/upload/', '/api/files'] };
  t.notOk(appsecApplies({ mode: 'off', skipPaths: [] }, '/x'));
  t.ok(appsecApplies({ mode: 'observe', skipPaths: [] }, '/x'));
  t.notOk(appsecApplies(cfg, '/upload/a.jpg'));
  t.notOk(appsecApplies(cfg, '/upload/a.jpg?x=../'), 'the query is not the path');
  t.notOk(appsecApplies(cfg, '/api/files/1'));
  t.ok(appsecApplies(cfg, '/uploads'), 'a prefix, not a substring');
  t.ok(appsecApplies(cfg, '/Upload/a'), 'case-sensitive, as paths are');
  for (const sneaky of ['/upload/../admin', '/upload/./x', '/upload/%2e%2e/admin', '/upload/..%2fadmin', '/upload/..\\admin', '/upload/%5C']) {
    t.ok(appsecApplies(cfg, sneaky), sneaky);
  }
});

t.test('engineHeaders: client headers minus hop-by-hop, client X-Crowdsec-Appsec-* and proxy cookies; the protocol headers', async (t) => {
  const h = engineHeaders(
    {
      host: 'shop.example.com',
      'user-agent': 'curl/8',
      connection: 'keep-alive',
      'transfer-encoding': 'chunked',
      'content-length': '99',
      te: 'trailers',
      upgrade: 'websocket',
      'x-crowdsec-appsec-ip': '6.6.6.6',
      'x-crowdsec-appsec-whatever': 'x',
      cookie: 'nbp_session=s3cret; a=1',
      accept: '*/*',
    },
    { clientIp: '203.0.113.7', method: 'POST', url: '/a?b=1', httpVersion: '1.1', requestId: 'rid-1', apiKey: 'key', bodyLength: 12 },
  );
  t.same(h, {
    'user-agent': 'curl/8',
    cookie: 'a=1',
    accept: '*/*',
    'x-crowdsec-appsec-ip': '203.0.113.7',
    'x-crowdsec-appsec-uri': '/a?b=1',
    'x-crowdsec-appsec-verb': 'POST',
    'x-crowdsec-appsec-host': 'shop.example.com',
    'x-crowdsec-appsec-user-agent': 'curl/8',
    'x-crowdsec-appsec-http-version': '11',
    'x-crowdsec-appsec-api-key': 'key',
    'x-crowdsec-appsec-transaction-id': 'rid-1',
    'content-length': 12,
  });
  const get = engineHeaders(
    { cookie: 'nbp_session=x' },
    { clientIp: '::1', method: 'GET', url: '/', httpVersion: '2.0', requestId: 'r', apiKey: 'k', bodyLength: undefined },
  );
  t.equal(get.cookie, undefined, 'a cookie header with only the session is dropped');
  t.equal(get['content-length'], undefined, 'headers only');
  t.equal(get['x-crowdsec-appsec-http-version'], '20');
  t.equal(versionCode('1.0'), '10');
});

t.test('withoutProxyCookies and stripAppSecHeaders', async (t) => {
  t.equal(withoutProxyCookies('a=1; b=2'), 'a=1; b=2');
  t.equal(withoutProxyCookies('a=1;nbp_session=x;b=2'), 'a=1; b=2');
  t.equal(withoutProxyCookies('my_nbp_session=1'), 'my_nbp_session=1', 'only the exact name');
  const headers: Record<string, string> = { 'x-crowdsec-appsec-ip': '1', 'X-Other': 'y', accept: 'z' };
  stripAppSecHeaders(headers);
  t.same(headers, { 'X-Other': 'y', accept: 'z' });
});

t.test('parseEngineAnswer: the action decides whatever the status; 401 is the key; the rest is a failure', async (t) => {
  t.same(parseEngineAnswer(200, '{"action":"allow","http_status":200}'), { ok: true, action: 'allow', httpStatus: 200 });
  t.same(parseEngineAnswer(403, '{"action":"ban","http_status":403}'), { ok: true, action: 'ban', httpStatus: 403 });
  t.same(parseEngineAnswer(200, '{"action":"ban","http_status":451}'), { ok: true, action: 'ban', httpStatus: 451 }, 'codes are configurable');
  t.same(parseEngineAnswer(418, '{"action":"Captcha"}'), { ok: true, action: 'captcha', httpStatus: undefined });
  t.same(parseEngineAnswer(401, '{"action":"allow"}'), { ok: false, failure: 'unauthorized', status: 401 });
  t.same(parseEngineAnswer(500, ''), { ok: false, failure: 'bad_status', status: 500 });
  t.same(parseEngineAnswer(200, '<html>'), { ok: false, failure: 'bad_answer', status: 200 });
  t.same(parseEngineAnswer(200, '{"action":5}'), { ok: false, failure: 'bad_answer', status: 200 });
  t.same(parseEngineAnswer(200, '{"action":"ban; drop"}'), { ok: false, failure: 'bad_answer', status: 200 }, 'an action is one word');
  t.same(parseEngineAnswer(200, 'null'), { ok: false, failure: 'bad_answer', status: 200 });
});

t.test('appsecOutcome: enforce, observe, failures', async (t) => {
  const ban = { ok: true as const, action: 'ban', httpStatus: 403 };
  t.same(appsecOutcome(ALLOWED, 'enforce', { ok: true, action: 'allow', httpStatus: 200 }, 'deny', false), {
    verdict: { ...ALLOWED, decision: undefined },
    denyStatus: undefined,
  });
  t.match(appsecOutcome(ALLOWED, 'enforce', ban, 'deny', false), {
    verdict: { allowed: false, denyReason: 'appsec_ban', country: 'DE', metadata: { appsec_verdict: 'ban', appsec_mode: 'enforce' } },
    denyStatus: 403,
  });
  t.match(
    appsecOutcome(ALLOWED, 'enforce', { ok: true, action: 'custom', httpStatus: 200 }, 'deny', false),
    {
      verdict: { denyReason: 'appsec_custom' },
      denyStatus: undefined,
    },
    'a 2xx http_status never becomes the deny status',
  );
  t.same(appsecOutcome(ALLOWED, 'observe', ban, 'deny', true).verdict, {
    allowed: true,
    denyReason: '',
    country: 'DE',
    metadata: { appsec_body: 'skipped', appsec_verdict: 'ban', appsec_mode: 'observe' },
    decision: undefined,
  });
  const chain: Verdict = { allowed: true, denyReason: '', country: undefined, metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'observe' } };
  t.same(
    appsecOutcome(chain, 'observe', ban, 'deny', false).verdict.metadata,
    {
      crowdsec_verdict: 'ban',
      crowdsec_mode: 'observe',
      appsec_verdict: 'ban',
      appsec_mode: 'observe',
    },
    'both layers recorded',
  );
  t.same(chain.metadata, { crowdsec_verdict: 'ban', crowdsec_mode: 'observe' }, "the chain's metadata is not modified");
  const down = { ok: false as const, failure: 'timeout' as const };
  t.match(appsecOutcome(ALLOWED, 'enforce', down, 'deny', false).verdict, {
    allowed: false,
    denyReason: 'appsec_unavailable',
    metadata: { appsec_error: 'timeout' },
  });
  t.match(appsecOutcome(ALLOWED, 'enforce', down, 'allow', false).verdict, {
    allowed: true,
    denyReason: '',
    metadata: { appsec_verdict: 'unavailable', appsec_mode: 'enforce' },
  });
  t.match(appsecOutcome(ALLOWED, 'observe', down, 'deny', false).verdict, { allowed: true, metadata: { appsec_mode: 'observe' } });
});

t.test('InFlight: bounded', async (t) => {
  const f = new InFlight(2);
  t.ok(f.tryAcquire());
  t.ok(f.tryAcquire());
  t.notOk(f.tryAcquire());
  f.release();
  t.equal(f.count, 1);
  t.ok(f.tryAcquire());
});
