// The pure core of src/auth: tokens, hashes, the failure limiter, the request helpers, OIDC claims.
import t from 'tap';
import { FailureLimiter } from '../../../src/auth/limiter';
import { identityOf } from '../../../src/auth/oidc';
import { authRoute, cookieValue, identityAllowed, isNavigation, returnPathOf, safeReturnPath, setCookie, withoutProxyCookies } from '../../../src/auth/request';
import { RevocationStore } from '../../../src/auth/revocations';
import { hashSecret, parseHash, verifySecret } from '../../../src/auth/secret-hash';
import { signPayload, signSession, verifyPayload, verifySession } from '../../../src/auth/token';

const KEY = Buffer.from('unit-test-key-unit-test-key-unit-test-key');
const ID = { user: 'alice', email: 'alice@example.com', groups: ['admins'] };

t.test('session tokens', async (t) => {
  const now = 1_800_000_000_000;
  const token = signSession(KEY, 'web', { id: 'abc', expiresMs: now + 60_000, identity: ID });
  t.same(verifySession(KEY, 'web', token, now), { id: 'abc', expiresMs: now + 60_000, identity: ID });
  t.equal(verifySession(KEY, 'other', token, now), undefined, 'bound to the service');
  t.equal(verifySession(Buffer.from('another-key-another-key-another-key!'), 'web', token, now), undefined, 'bound to the key');
  t.equal(verifySession(KEY, 'web', token, now + 60_000), undefined, 'expired');
  t.equal(verifyPayload(KEY, 'o', 'web', token, now), undefined, 'a session is not a login state');
  const flipped = token.slice(0, 10) + (token[10] === 'a' ? 'b' : 'a') + token.slice(11);
  t.equal(verifySession(KEY, 'web', flipped, now), undefined, 'one changed character');
  for (const bad of ['', '.', 'v1.a.b.c.d', `${token}x`, 'x'.repeat(9000)])
    t.equal(verifySession(KEY, 'web', bad, now), undefined, JSON.stringify(bad.slice(0, 20)));
  const state = signPayload(KEY, 'o', 'web', 's1', now + 1000, { state: 'x' });
  t.same(verifyPayload(KEY, 'o', 'web', state, now)?.payload, { state: 'x' });
});

t.test('scrypt hashes', async (t) => {
  const hash = await hashSecret('pässword');
  t.match(hash, /^\$scrypt\$N=32768,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
  const parsed = parseHash(hash);
  if ('error' in parsed) throw new Error(parsed.error);
  t.ok(await verifySecret('pässword', parsed));
  t.ok(await verifySecret('pa\u0308ssword', parsed), 'NFC: the same password typed as a decomposed character');
  t.notOk(await verifySecret('password', parsed));
  t.not(await hashSecret('pässword'), hash, 'salted');
  t.match(parseHash('hunter2'), { error: /is not a \$scrypt\$/ });
  t.match(parseHash('$scrypt$N=1000,r=8,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAA'), { error: /power of two/ });
  t.match(parseHash('$scrypt$N=2097152,r=8,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAA'), { error: /power of two/ }, 'too costly');
});

t.test('failure limiter', async (t) => {
  const limiter = new FailureLimiter({ limit: 3, windowMs: 1000, blockMs: 5000, maxEntries: 10 });
  t.equal(limiter.fail('a', 0), false);
  t.equal(limiter.fail('a', 10), false);
  t.equal(limiter.blockedFor('a', 10), 0);
  t.equal(limiter.fail('a', 20), true, 'the third failure blocks');
  t.equal(limiter.blockedFor('a', 20), 5000);
  t.equal(limiter.blockedFor('b', 20), 0, 'per address');
  t.equal(limiter.blockedFor('a', 5020), 0, 'the block ends');
  t.equal(limiter.fail('c', 0), false);
  t.equal(limiter.fail('c', 1500), false, 'a new window');
  t.equal(limiter.fail('c', 1600), false);
  limiter.succeed('c');
  t.equal(limiter.fail('c', 1700), false, 'a success resets the count');
  for (let i = 0; i < 50; i++) limiter.fail(`x${i}`, 100_000);
  t.ok(limiter.size <= 21, `bounded (${limiter.size})`);
});

t.test('revocations', async (t) => {
  const r = new RevocationStore(3);
  r.revoke('a', 100, 0);
  r.revoke('b', 200, 0);
  r.revoke('c', 300, 0);
  t.ok(r.has('a'));
  r.revoke('d', 400, 150);
  t.notOk(r.has('a'), 'expired ones go first');
  t.ok(r.has('b') && r.has('c') && r.has('d'));
});

t.test('request helpers', async (t) => {
  t.equal(authRoute('/'), undefined);
  t.equal(authRoute('/.netbird-proxy/auth'), undefined);
  t.equal(authRoute('/.netbird-proxy/auth/login?rd=%2F'), 'login');
  t.equal(authRoute('/.netbird-proxy/auth/callback?code=x'), 'callback');
  t.equal(authRoute('/.netbird-proxy/auth/logout'), 'logout');
  t.equal(authRoute('/.netbird-proxy/auth/../x'), 'unknown');
  t.equal(cookieValue('a=1; nbp_session=v1.x; b=2', 'nbp_session'), 'v1.x');
  t.equal(cookieValue('xnbp_session=1', 'nbp_session'), undefined);
  t.equal(cookieValue(undefined, 'nbp_session'), undefined);
  t.equal(withoutProxyCookies('a=1; nbp_session=v1.x; nbp_oidc=y; b=2'), 'a=1; b=2');
  t.equal(withoutProxyCookies('nbp_session=v1.x'), undefined);
  t.equal(withoutProxyCookies('a=1;b=2'), 'a=1;b=2', 'untouched without proxy cookies');
  t.equal(
    withoutProxyCookies('a=1; nbp_session_0123456789ab=v1.x; nbp_sessions=keep'),
    'a=1; nbp_sessions=keep',
    "a route's session cookie too, not a look-alike",
  );
  t.equal(returnPathOf('/.netbird-proxy/auth/login?rd=%2Fadmin%2Fx%3Fy%3D1'), '/admin/x?y=1');
  t.equal(returnPathOf('/.netbird-proxy/auth/login'), undefined);
  t.equal(returnPathOf('/.netbird-proxy/auth/login?rd=%2F%2Fevil.example'), undefined, 'a foreign return path is none');
  t.equal(setCookie('n', 'v', { secure: true, maxAge: 60 }), 'n=v; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure');
  for (const [raw, want] of [
    ['/app?x=1', '/app?x=1'],
    [null, '/'],
    ['https://evil.example/', '/'],
    ['//evil.example/', '/'],
    ['/\\evil.example', '/'],
    ['/\t/evil.example', '/'],
    ['/.netbird-proxy/auth/logout', '/'],
    ['app', '/'],
  ] as const) {
    t.equal(safeReturnPath(raw), want, String(raw));
  }
  t.ok(isNavigation('GET', 'text/html,*/*'));
  t.notOk(isNavigation('POST', 'text/html'));
  t.notOk(isNavigation('GET', '*/*'));
  t.ok(identityAllowed(['a', 'admins'], 'x@y', ['admins'], []));
  t.notOk(identityAllowed(['users'], 'x@y', ['admins'], []));
  t.ok(identityAllowed([], 'Alice@Example.com', [], ['alice@example.com']));
  t.notOk(identityAllowed(['admins'], 'bob@example.com', ['admins'], ['alice@example.com']), 'both lists apply');
});

t.test('OIDC claims → identity', async (t) => {
  t.same(identityOf({ sub: 's', preferred_username: 'alice', email: 'a@x', groups: ['g', 1] }, 'groups'), { user: 'alice', email: 'a@x', groups: ['g'] });
  t.same(identityOf({ sub: 's', email: 'a@x', roles: 'admin' }, 'roles'), { user: 'a@x', email: 'a@x', groups: ['admin'] });
  t.same(identityOf({ sub: 's' }, 'groups'), { user: 's', email: '', groups: [] });
});
