// The admin listener's request-target rules, on their own.
import t from 'tap';
import { adminPath, decodeSegment } from '../../../src/admin/request-path';

t.test('adminPath: origin-form with well-formed escapes only', async (t) => {
  t.equal(adminPath('/'), '/');
  t.equal(adminPath('/api/events?ip=1.2.3.4&limit=5'), '/api/events');
  t.equal(adminPath('/api/services/a%20b/crowdsec'), '/api/services/a%20b/crowdsec', 'escapes are kept, not decoded');
  t.equal(adminPath('/x?'), '/x');
  for (const bad of [
    undefined,
    '',
    '*',
    'api',
    'http://[::1/x',
    'http://admin/x',
    '//evil/x',
    '/a%',
    '/a%4',
    '/a%zz',
    '/a?b=%',
    '/a?b=%g1',
    '/a b',
    '/a\tb',
    '/a\x7f',
  ]) {
    t.equal(adminPath(bad), undefined, JSON.stringify(bad));
  }
  t.equal(adminPath('/%41%7e%7E'), '/%41%7e%7E', 'upper and lower case hex');
  t.equal(adminPath('/%09%af%AF%a0%f0%F0'), '/%09%af%AF%a0%f0%F0', 'the ends of each hex range');
  // The characters just outside each hex range: / : @ G ` g
  for (const bad of ['/%/1', '/%:1', '/%@1', '/%G1', '/%`1', '/%g1', '/%1/', '/%1g']) t.equal(adminPath(bad), undefined, bad);
});

t.test('decodeSegment: valid percent-encoded UTF-8 only', async (t) => {
  t.equal(decodeSegment('shop'), 'shop');
  t.equal(decodeSegment('caf%C3%A9'), 'café');
  t.equal(decodeSegment('a%2Fb'), 'a/b');
  for (const bad of ['%E0%A4%A', '%E0%A4', '%ED%A0%80', '%', '%zz', 'a b']) t.equal(decodeSegment(bad), undefined, bad);
});
