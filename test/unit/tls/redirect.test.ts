// The http → https redirect target.
import t from 'tap';
import { httpsRedirectLocation, parseHttpsRedirectPort } from '../../../src/tls/redirect';

t.test('redirect location', async (t) => {
  const auto = { port: 'auto' as const, httpsPort: 8443 };
  t.equal(
    httpsRedirectLocation(true, 'App.Example.com:8080', '/a/b?x=1', auto),
    'https://app.example.com:8443/a/b?x=1',
    'auto: a Host port means no mapping: the entrypoint port',
  );
  t.equal(httpsRedirectLocation(true, 'app.example.com', '/a', auto), 'https://app.example.com/a', 'auto: no Host port means port 80 outside: 443');
  t.equal(httpsRedirectLocation(true, 'app.example.com:80', '/a', auto), 'https://app.example.com/a', 'auto: :80 is the same');
  t.equal(httpsRedirectLocation(true, '[2001:db8::1]:8080', '/x', auto), 'https://[2001:db8::1]:8443/x', 'auto: IPv6 literal with a port');
  t.equal(httpsRedirectLocation(true, 'app.example.com:8080', '/a', { port: 443, httpsPort: 8443 }), 'https://app.example.com/a', 'fixed 443');
  t.equal(httpsRedirectLocation(true, 'app.example.com', '/a', { port: 9443, httpsPort: 8443 }), 'https://app.example.com:9443/a', 'fixed 9443');
  t.equal(parseHttpsRedirectPort('auto'), 'auto');
  t.equal(parseHttpsRedirectPort('443'), 443);
  t.equal(parseHttpsRedirectPort('0'), undefined);
  t.equal(parseHttpsRedirectPort('70000'), undefined);
  t.equal(parseHttpsRedirectPort('x'), undefined);
  t.equal(httpsRedirectLocation(true, 'app.example.com', '/'), 'https://app.example.com/');
  t.equal(httpsRedirectLocation(true, '[2001:db8::1]', '/x'), 'https://[2001:db8::1]/x', 'IPv6 literal');
  t.equal(httpsRedirectLocation(false, 'app.example.com', '/'), undefined, 'redirect_https: false');
  t.equal(httpsRedirectLocation(true, 'app.example.com', '/.well-known/acme-challenge/tok'), undefined, 'challenge paths are never redirected');
  t.equal(httpsRedirectLocation(true, undefined, '/'), undefined, 'no Host');
  t.equal(httpsRedirectLocation(true, 'evil.com/x', '/'), undefined, 'a Host with a path is refused');
  t.equal(httpsRedirectLocation(true, 'a@evil.com', '/'), undefined, 'a Host with userinfo is refused');
});
