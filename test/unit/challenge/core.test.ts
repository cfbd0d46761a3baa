// The challenge's pure core: the reserved path, which verdicts it concerns, the pass cookie bound
// to key, service, address and expiry, the single-use store, return paths, and the providers'
// siteverify answers read strictly.
import t from 'tap';
import {
  ReplayStore,
  challengeRoute,
  cookieValue,
  failedVerdict,
  isCaptchaVerdict,
  isChallengeable,
  observedVerdict,
  passedVerdict,
  safeReturnPath,
  signPass,
  verifyPass,
  withoutPassCookie,
} from '../../../src/challenge/core';
import { readSiteverifyAnswer } from '../../../src/challenge/providers';
import { resolveChallengeSettings } from '../../../src/challenge/settings';
import type { Verdict } from '../../../src/restrictions/types';

const KEY = Buffer.from('a-challenge-test-key-0123456789abcdef');
const NOW = 1_800_000_000_000;

t.test('reserved path routes', async (t) => {
  t.equal(challengeRoute('/.netbird-proxy/challenge/altcha.js'), 'widget');
  t.equal(challengeRoute('/.netbird-proxy/challenge/page.js?v=1'), 'script');
  t.equal(challengeRoute('/.netbird-proxy/challenge/new'), 'new');
  t.equal(challengeRoute('/.netbird-proxy/challenge/verify'), 'verify');
  t.equal(challengeRoute('/.netbird-proxy/challenge/other'), 'unknown');
  t.equal(challengeRoute('/.netbird-proxy/challenge'), undefined);
  t.equal(challengeRoute('/app'), undefined);
});

t.test('captcha verdicts: enforce is challengeable, observe is only annotated, ban is neither', async (t) => {
  const enforce: Verdict = {
    allowed: false,
    denyReason: 'crowdsec_captcha',
    country: 'DE',
    metadata: { crowdsec_verdict: 'captcha', crowdsec_mode: 'enforce' },
  };
  const observe: Verdict = { allowed: true, denyReason: '', country: undefined, metadata: { crowdsec_verdict: 'captcha', crowdsec_mode: 'observe' } };
  const ban: Verdict = { allowed: false, denyReason: 'crowdsec_ban', country: undefined, metadata: { crowdsec_verdict: 'ban', crowdsec_mode: 'enforce' } };
  const appsec: Verdict = { allowed: false, denyReason: 'appsec_captcha', country: undefined, metadata: { appsec_verdict: 'captcha' } };
  t.ok(isCaptchaVerdict(enforce) && isChallengeable(enforce));
  t.ok(isCaptchaVerdict(observe) && !isChallengeable(observe));
  t.ok(!isCaptchaVerdict(ban) && !isChallengeable(ban));
  t.ok(isCaptchaVerdict(appsec) && isChallengeable(appsec));
  t.same(passedVerdict(enforce), {
    allowed: true,
    denyReason: '',
    country: 'DE',
    metadata: { crowdsec_verdict: 'captcha', crowdsec_mode: 'enforce', challenge: 'passed' },
    decision: undefined,
  });
  t.same(observedVerdict(observe, false).metadata, { crowdsec_verdict: 'captcha', crowdsec_mode: 'observe', challenge: 'would_issue' });
  t.same(observedVerdict(observe, true).metadata?.challenge, 'would_pass');
  t.match(failedVerdict(enforce, 'solution already used'), {
    allowed: false,
    denyReason: 'crowdsec_captcha',
    metadata: { challenge: 'failed', challenge_failure: 'solution already used' },
  });
  t.equal(enforce.metadata?.challenge, undefined, 'the original verdict is not changed');
});

t.test('the pass cookie is bound to key, service, address and expiry', async (t) => {
  const token = signPass(KEY, 'web', '203.0.113.7', NOW + 60_000);
  t.match(token, /^v1\.\d+\.[\w-]{43}$/);
  t.ok(verifyPass(KEY, 'web', '203.0.113.7', token, NOW));
  t.notOk(verifyPass(KEY, 'web', '203.0.113.8', token, NOW), 'another address');
  t.notOk(verifyPass(KEY, 'shop', '203.0.113.7', token, NOW), 'another service');
  t.notOk(verifyPass(Buffer.from('another-key-0123456789abcdef0123456'), 'web', '203.0.113.7', token, NOW), 'another key');
  t.notOk(verifyPass(KEY, 'web', '203.0.113.7', token, NOW + 60_000), 'expired');
  const [v, expiry, mac] = token.split('.');
  t.notOk(verifyPass(KEY, 'web', '203.0.113.7', `${v}.${Number(expiry) + 3600}.${mac}`, NOW), 'a longer expiry is not signed');
  for (const bad of ['', 'v1', 'v1..', `v2.${expiry}.${mac}`, `v1.${expiry}.${mac}x`, `v1.x.${mac}`, 'v1.1.'.padEnd(200, 'a')]) {
    t.notOk(verifyPass(KEY, 'web', '203.0.113.7', bad, NOW), JSON.stringify(bad.slice(0, 20)));
  }
});

t.test('the pass cookie is taken out of the Cookie header', async (t) => {
  t.equal(withoutPassCookie('a=1; nbp_challenge=v1.2.x; b=2'), 'a=1; b=2');
  t.equal(withoutPassCookie('nbp_challenge=v1.2.x'), undefined);
  t.equal(withoutPassCookie('nbp_challenge_other=1'), 'nbp_challenge_other=1');
});

t.test('a solution is accepted once until its challenge expires; the store is bounded', async (t) => {
  const store = new ReplayStore(2);
  t.ok(store.claim('a', NOW + 1000, NOW));
  t.notOk(store.claim('a', NOW + 1000, NOW + 10), 'replayed');
  t.ok(store.claim('b', NOW + 1000, NOW));
  t.notOk(store.claim('c', NOW + 1000, NOW), 'full of unexpired entries: refused, never accepted unrecorded');
  t.ok(store.claim('c', NOW + 200_000, NOW + 1000), 'expired entries are swept');
  t.equal(store.size, 1);
});

t.test('return paths stay on the site and out of the reserved path', async (t) => {
  t.equal(safeReturnPath('/a?b=1'), '/a?b=1');
  for (const bad of [
    undefined,
    null,
    '',
    'https://evil.example',
    '//evil.example',
    '/\\evil.example',
    '/a\nb',
    '/.netbird-proxy/challenge/verify',
    `/${'a'.repeat(3000)}`,
  ]) {
    t.equal(safeReturnPath(bad), '/', JSON.stringify(bad)?.slice(0, 30));
  }
});

t.test('siteverify answers: only a JSON success true passes', async (t) => {
  t.same(readSiteverifyAnswer(200, '{"success":true,"challenge_ts":"x","hostname":"h"}'), { ok: true });
  t.same(readSiteverifyAnswer(200, '{"success":false,"error-codes":["invalid-input-secret"]}'), { ok: false, why: 'provider refused: invalid-input-secret' });
  t.same(readSiteverifyAnswer(200, '{"success":"true"}'), { ok: false, why: 'provider refused' });
  t.same(readSiteverifyAnswer(200, 'not json'), { ok: false, why: 'provider answer is not JSON' });
  t.same(readSiteverifyAnswer(200, 'null'), { ok: false, why: 'provider refused' });
  t.same(readSiteverifyAnswer(500, '{"success":true}'), { ok: false, why: 'provider answered 500' });
});

t.test('the --challenge-* flags', async (t) => {
  const fail = (m: string) => new Error(m);
  t.same(resolveChallengeSettings({ powDifficulty: '30000', ttl: '30m', verifyUrl: undefined }, fail), {
    powDifficulty: 30000,
    ttlMs: 1_800_000,
    verifyUrl: undefined,
  });
  t.equal(
    resolveChallengeSettings({ powDifficulty: '10', ttl: '1h', verifyUrl: 'http://127.0.0.1:9/siteverify' }, fail).verifyUrl?.href,
    'http://127.0.0.1:9/siteverify',
  );
  t.throws(
    () => resolveChallengeSettings({ powDifficulty: '5', ttl: '30m', verifyUrl: undefined }, fail),
    /--challenge-pow-difficulty .*"5" is not a whole number from 10/,
  );
  t.throws(() => resolveChallengeSettings({ powDifficulty: '1e5', ttl: '30m', verifyUrl: undefined }, fail), /--challenge-pow-difficulty/);
  t.throws(() => resolveChallengeSettings({ powDifficulty: '100', ttl: '10s', verifyUrl: undefined }, fail), /--challenge-ttl .*must be from 1m to 168h/);
  t.throws(() => resolveChallengeSettings({ powDifficulty: '100', ttl: '30', verifyUrl: undefined }, fail), /--challenge-ttl .*is not a duration/);
  t.throws(() => resolveChallengeSettings({ powDifficulty: '100', ttl: '30m', verifyUrl: 'ftp://x' }, fail), /--challenge-verify-url .*must be http/);
});

t.test('cookie values', async (t) => {
  t.equal(cookieValue(undefined, 'nbp_challenge'), undefined);
  t.equal(cookieValue('a=1', 'nbp_challenge'), undefined);
  t.equal(cookieValue('a=1; nbp_challenge = v1.2.x ; b=2', 'nbp_challenge'), 'v1.2.x');
  t.equal(cookieValue('nbp_challenge=first; nbp_challenge=second', 'nbp_challenge'), 'first');
  t.equal(cookieValue('x_nbp_challenge=no; nbp_challenge=yes', 'nbp_challenge'), 'yes');
  t.equal(cookieValue('nbp_challenge; nbp_challenge=a=b', 'nbp_challenge'), 'a=b', 'a pair without "=" is skipped; the value keeps its own "="');
  t.equal(withoutPassCookie('a=1;; nbp_challenge=x'), 'a=1', 'empty pairs dropped');
});

t.test('boundaries of the pass, the return path, the store and the flags', async (t) => {
  const token = signPass(KEY, 'web', '203.0.113.7', NOW + 60_000);
  t.ok(verifyPass(KEY, 'web', '203.0.113.7', token, NOW + 59_000), 'one second before expiry');
  t.notOk(verifyPass(KEY, 'web', '203.0.113.7', `x${token}`, NOW), 'no prefix before v1');
  t.notOk(verifyPass(KEY, 'web', '203.0.113.7', token.replace(/^v1\.(\d+)/, 'v1.$1x'), NOW), 'expiry digits only');
  t.notOk(verifyPass(KEY, 'web', '203.0.113.7', token.replace(/^v1\./, 'v1.x'), NOW), 'expiry starts with a digit');
  t.notOk(verifyPass(KEY, 'web', '203.0.113.7', `${token}.x`, NOW), 'three parts only');
  t.notOk(verifyPass(KEY, 'web', '203.0.113.7', token.padEnd(128, 'A'), NOW), '128 characters is too long');
  t.equal(challengeRoute('/.netbird-proxy/challenge/new?'), 'new');
  t.equal(safeReturnPath(`/${'a'.repeat(2047)}`).length, 2048, '2048 characters is kept');
  t.equal(safeReturnPath(`/${'a'.repeat(2048)}`), '/');
  t.equal(safeReturnPath('/a b'), '/a b', 'a space is kept');
  t.equal(safeReturnPath('/a\x1fb'), '/');
  t.equal(safeReturnPath('/a\x7fb'), '/');
  t.equal(safeReturnPath('/ab\\'), '/', 'a backslash at the end too');

  const store = new ReplayStore(10);
  t.ok(store.claim('a', NOW + 1000, NOW));
  t.notOk(store.claim('a', NOW + 1000, NOW + 999), 'until its expiry');
  t.ok(store.claim('a', NOW + 5000, NOW + 1000), 'expired: claimable again');
  t.ok(store.claim('b', NOW + 2000, NOW + 1000));
  t.equal(store.size, 2, 'no sweep before a minute passed');
  t.ok(store.claim('c', NOW + 200_000, NOW + 61_000));
  t.equal(store.size, 1, 'a minute later the expired ones are swept');
  t.ok(store.claim('d', NOW + 200_000, NOW + 61_000));
  t.ok(store.claim('e', NOW + 62_000, NOW + 61_500));
  t.ok(store.claim('f', NOW + 200_000, NOW + 63_000));
  t.equal(store.size, 4, 'no sweep again right away: e expired but is kept until the next one');

  const fail = (m: string) => new Error(m);
  const s = (powDifficulty: string, ttl = '30m', verifyUrl?: string) => resolveChallengeSettings({ powDifficulty, ttl, verifyUrl }, fail);
  t.equal(s(' 30000 ').powDifficulty, 30000, 'spaces around the number');
  t.equal(s('10').powDifficulty, 10);
  t.equal(s('10000000').powDifficulty, 10_000_000);
  t.throws(() => s('10000001'), /--challenge-pow-difficulty/);
  t.equal(s('100', '1m').ttlMs, 60_000);
  t.equal(s('100', '168h').ttlMs, 168 * 3_600_000);
  t.throws(() => s('100', '59s'), /--challenge-ttl/);
  t.throws(() => s('100', '169h'), /--challenge-ttl/);
  t.equal(s('100', '30m', 'https://verify.example/siteverify').verifyUrl?.protocol, 'https:');
  t.throws(() => s('100', '30m', 'not a url'), /--challenge-verify-url \/ NB_PROXY_CHALLENGE_VERIFY_URL: "not a url" is not a URL/);
});
