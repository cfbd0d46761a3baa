// The auth request helpers at their edges.
import t from 'tap';
import { cookieValue, isNavigation, safeReturnPath, setCookie, withoutProxyCookies } from '../../../src/auth/request';

t.test('cookie values', async (t) => {
  t.equal(cookieValue('nbp_sessionx; nbp_session=v', 'nbp_session'), 'v', 'a pair without "=" is no cookie');
  t.equal(cookieValue('nbp_session= v1.x ;b=2', 'nbp_session'), 'v1.x', 'spaces around a value');
  t.equal(cookieValue('a=1; nbp_session=first; nbp_session=second', 'nbp_session'), 'first');
  t.equal(withoutProxyCookies('a=1;; nbp_session=x'), 'a=1', 'empty pairs are dropped');
  t.equal(setCookie('n', '', { secure: false, maxAge: 0, path: '/app/' }), 'n=; Path=/app/; Max-Age=0; HttpOnly; SameSite=Lax');
});

t.test('return paths', async (t) => {
  t.equal(safeReturnPath(undefined), '/');
  t.equal(safeReturnPath(''), '/');
  const longest = `/${'a'.repeat(2047)}`;
  t.equal(safeReturnPath(longest), longest, '2048 characters');
  t.equal(safeReturnPath(`${longest}a`), '/', 'longer');
  t.equal(safeReturnPath('/a b?c=d e'), '/a b?c=d e', 'a space is no control character');
  t.equal(safeReturnPath('/a\u007f'), '/', 'DEL');
  t.equal(safeReturnPath('/a\u001f'), '/');
});

t.test('a HEAD asking for HTML is a navigation', async (t) => {
  t.ok(isNavigation('HEAD', 'text/html'));
  t.notOk(isNavigation('GET', undefined));
  t.notOk(isNavigation(undefined, 'text/html'));
});
