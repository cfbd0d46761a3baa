// The route table's request path: the forms of request target, and the normalisation that makes
// a path match as the upstream will read it (issue 30: these kill the survivors of `npm run mutate routing`).
import t from 'tap';
import { normalisePath, requestPath, RouteTable } from '../../../src/routing/route-table';

t.test('request path of each target form', async (t) => {
  t.equal(requestPath(undefined), '/');
  t.equal(requestPath(''), '/');
  t.equal(requestPath('*'), '/', 'asterisk-form (OPTIONS *) has no path');
  t.equal(requestPath('host/x'), '/', 'neither origin nor absolute form');
  t.equal(requestPath('http://host'), '/', 'absolute form without a path');
  t.equal(requestPath('http://host?q=/admin'), '/', 'absolute form without a path, a slash in the query');
  t.equal(requestPath('://h/p'), '/p', 'an empty scheme still names where the path starts');
  t.equal(requestPath('https://host:8443/a/b?c#d'), '/a/b');
  t.equal(requestPath('/a#frag'), '/a', 'a fragment is not part of the path');
  t.equal(requestPath('/a?x#y'), '/a');
  t.equal(requestPath('/a#x?y'), '/a', 'a "?" inside the fragment does not end the path');
  t.equal(requestPath('http://h/a#x?y'), '/a');
  t.equal(requestPath('http://host#/admin'), '/', 'a fragment first: no path');
});

t.test('paths that need normalising are found, plain ones are kept', async (t) => {
  t.equal(requestPath('//admin'), '/admin', 'a repeated slash at the start');
  t.equal(requestPath('/a//b'), '/a/b');
  t.equal(requestPath('/..'), '/', 'a path of only ".."');
  t.equal(requestPath('/.'), '/');
  t.equal(requestPath('/a/..'), '/', '".." as the last segment');
  t.equal(requestPath('/x\\..\\admin'), '/admin', 'backslashes are separators for the upstream (Windows/IIS)');
  t.equal(requestPath('/x/..%2Fadmin'), '/admin', 'an encoded slash splits a segment, its ".." counts');
  t.equal(requestPath('/a/b.c/d'), '/a/b.c/d');
  t.equal(requestPath('/a/b/'), '/a/b/');
});

t.test('normalisation keeps a trailing slash only when the path has one', async (t) => {
  t.equal(normalisePath('/a/b/'), '/a/b/');
  t.equal(normalisePath('/a/b/.'), '/a/b/', 'a final "." leaves a directory');
  t.equal(normalisePath('/a/b/c/..'), '/a/b/', 'a final ".." leaves a directory');
  t.equal(normalisePath('/a/b'), '/a/b');
  t.equal(normalisePath('/a/../'), '/', 'never "//"');
  t.equal(normalisePath('/../..'), '/');
  t.equal(normalisePath('/%2e%2e/x'), '/x', 'an encoded ".." resolves too');
});

t.test('routes matched on the normalised path', async (t) => {
  const table = new RouteTable([{ path: '/admin/' }, { path: '/admin' }, { path: '/a' }], { path: '' });
  t.equal(table.match('//admin/x').path, '/admin/');
  t.equal(table.match('/x\\..\\admin/').path, '/admin/');
  t.equal(table.match('/x/..%2Fadmin/y').path, '/admin/');
  t.equal(table.match('/public/..').path, '', 'resolves to "/": the default route');
  t.equal(table.match('/adm').path, '/a', 'a path shorter than a longer route still gets the shorter one');
  t.equal(table.match('/admin').path, '/admin', 'the path ends exactly at a route');
  t.equal(table.match('/b').path, '');
  const root = new RouteTable([{ path: '/' }], { path: '' });
  t.equal(root.match('*').path, '/', 'an asterisk-form target is under "/"');
});
