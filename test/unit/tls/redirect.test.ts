// The http → https redirect target.
import t from 'tap';
import { httpsRedirectLocation } from '../../../src/tls/redirect';

t.test('redirect location', async (t) => {
  t.equal(httpsRedirectLocation(true, 'App.Example.com:8080', '/a/b?x=1'), 'https://app.example.com/a/b?x=1', 'port dropped, query kept');
  t.equal(httpsRedirectLocation(true, 'app.example.com', '/'), 'https://app.example.com/');
  t.equal(httpsRedirectLocation(true, '[2001:db8::1]:8080', '/x'), 'https://[2001:db8::1]/x', 'IPv6 literal');
  t.equal(httpsRedirectLocation(false, 'app.example.com', '/'), undefined, 'redirect_https: false');
  t.equal(httpsRedirectLocation(true, 'app.example.com', '/.well-known/acme-challenge/tok'), undefined, 'challenge paths are never redirected');
  t.equal(httpsRedirectLocation(true, undefined, '/'), undefined, 'no Host');
  t.equal(httpsRedirectLocation(true, 'evil.com/x', '/'), undefined, 'a Host with a path is refused');
  t.equal(httpsRedirectLocation(true, 'a@evil.com', '/'), undefined, 'a Host with userinfo is refused');
});
