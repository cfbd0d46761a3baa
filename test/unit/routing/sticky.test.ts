// The sticky cookie's key comes from the environment when a worker inherits it, and ids are the
// HMAC under that key; the Cookie header parser finds every value and only that cookie's.
import { createHmac } from 'node:crypto';
import t from 'tap';

const KEY = 'k'.repeat(32);
process.env.NETBIRD_PROXY_INTERNAL_STICKY_KEY = KEY;

t.test('a key of 32 characters in the environment is used as it is (a worker matches its primary)', async (t) => {
  const { stickyId } = await import('../../../src/routing/sticky');
  t.equal(process.env.NETBIRD_PROXY_INTERNAL_STICKY_KEY, KEY);
  const expected = createHmac('sha256', KEY).update('svc\n/api/\nhttp://10.0.0.1').digest('base64url').slice(0, 22);
  t.equal(stickyId('svc\n/api/', 'http://10.0.0.1'), expected);
});

t.test('every value of the cookie, only that cookie', async (t) => {
  const { stickyValues } = await import('../../../src/routing/sticky');
  const out: string[] = ['stale'];
  t.same(stickyValues('nbp_sticky=first', out), ['first'], 'at the start of the header');
  t.same(stickyValues('a=1;nbp_sticky=b', out), ['b'], 'after ";" without a space');
  t.same(stickyValues('nbp_stickyx=1; nbp_sticky2=2', out), [], 'a longer cookie name is another cookie');
  t.same(stickyValues('xnbp_sticky=1', out), []);
  t.same(stickyValues('nbp_sticky= v1 ; nbp_sticky=v2', out), ['v1', 'v2'], 'spaces around a value are not part of it');
  t.same(stickyValues('', out), []);
});

t.test('the Set-Cookie', async (t) => {
  const { stickySetCookie } = await import('../../../src/routing/sticky');
  t.equal(stickySetCookie('abc', '/api/', false), 'nbp_sticky=abc; Path=/api/; HttpOnly; SameSite=Lax');
  t.equal(stickySetCookie('abc', '/', true), 'nbp_sticky=abc; Path=/; HttpOnly; SameSite=Lax; Secure');
});
