// ip.ts and CidrSet at their edges: mapped prefixes at exactly /96, host bits of mapped prefixes,
// bare /128 text, and a CIDR set's duplicates and bad input.
import t from 'tap';
import { CidrSet } from '../../../src/net/cidr-set';
import { formatPrefixKey, isV4Mapped, normalizeIp, parseIpv6Into, parsePrefixKey, prefixKeyAddress } from '../../../src/net/ip';

t.test('IPv4-mapped prefixes: /96 is the IPv4 /0; host bits count as for IPv4', async (t) => {
  t.match(parsePrefixKey('::ffff:0.0.0.0/96'), { family: 4, prefix: 0, key: 0, hostBits: false });
  t.match(parsePrefixKey('::ffff:10.1.2.3/96'), { family: 4, prefix: 0, key: 0, hostBits: true });
  t.match(parsePrefixKey('::ffff:0:0/95'), { family: 6, prefix: 95 }, 'below /96: an IPv6 prefix');
  t.equal(parsePrefixKey('::ffff:10.1.2.3/120', { hostBits: 'reject' }), undefined);
  t.match(parsePrefixKey('::ffff:10.1.2.0/120', { hostBits: 'reject' }), { family: 4, prefix: 24, key: 0x0a010200 });
  t.match(parsePrefixKey('2001:db8::/32', { hostBits: 'reject' }), { family: 6, prefix: 32, hostBits: false });
  t.equal(parsePrefixKey('2001:db8::1/127', { hostBits: 'reject' }), undefined, 'the last bit of the last word');
});

t.test('addresses of keys in every form', async (t) => {
  t.equal(prefixKeyAddress(4, [0x01020304]), '1.2.3.4', 'an IPv4 key given as words');
  const k = parsePrefixKey('2001:db8::1');
  if (k === undefined || k.family !== 6) throw new Error('no key');
  t.equal(formatPrefixKey(6, 128, k.key, true), '2001:db8::1', 'a bare /128');
  t.equal(formatPrefixKey(6, 128, k.key), '2001:db8::1/128');
  t.equal(formatPrefixKey(4, 31, 0x01020304, true), '1.2.3.4/31', 'a bare host is only /32');
});

t.test('IPv6 parsing writes every hextet (a reused buffer keeps nothing)', async (t) => {
  const h = new Uint16Array(8).fill(0xffff);
  t.ok(parseIpv6Into('1::2', h));
  t.same([...h], [1, 0, 0, 0, 0, 0, 0, 2]);
  h.fill(0xffff);
  t.ok(parseIpv6Into('::', h));
  t.same([...h], [0, 0, 0, 0, 0, 0, 0, 0]);
  h.fill(0xffff);
  t.ok(parseIpv6Into('abcd:ef01:2345:6789:ABCD:EF01:2345:6789', h));
  t.same([...h], [0xabcd, 0xef01, 0x2345, 0x6789, 0xabcd, 0xef01, 0x2345, 0x6789]);
  t.ok(parseIpv6Into('fe80::1:2%eth0', h));
  t.same([...h], [0xfe80, 0, 0, 0, 0, 0, 1, 2]);
  t.ok(parseIpv6Into('::ffff:1.2.3.4', h));
  t.same([...h], [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]);
  t.ok(parseIpv6Into('x1::2y', h, 1, 5), 'a sub-range');
  t.same([...h], [1, 0, 0, 0, 0, 0, 0, 2]);
});

t.test('CidrSet: one entry per CIDR, bad input refused', async (t) => {
  const s = new CidrSet(['10.0.0.0/8', '10.1.2.3/8', '2001:db8::/32', '2001:db8:1::/32']);
  t.equal(s.size, 2, 'the same network twice after masking');
  t.same(s.values().sort(), ['10.0.0.0/8', '2001:db8::/32']);
  t.notOk(s.delete('bogus'));
  t.notOk(s.has('bogus'));
  t.notOk(s.delete('11.0.0.0/8'));
  t.ok(s.delete('10.9.9.9/8'), 'host bits masked on delete too');
  t.equal(s.size, 1);
});

t.test('IPv6 parsing refuses what the lookups must not take for an address', async (t) => {
  // The decision store and the client-IP code call parseIpv6Into directly, without isIP before it.
  const h = new Uint16Array(8);
  t.notOk(parseIpv6Into('::%', h), 'an empty zone after "::"');
  t.notOk(parseIpv6Into('1::\u00e9', h), 'a non-ASCII character');
  t.notOk(parseIpv6Into('1::\u0080', h), 'the first code past ASCII');
  t.notOk(parseIpv6Into('1::2:3:4:5:6:7:8:9', h), 'nine groups with a "::"');
  t.notOk(parseIpv6Into('1g2:3:4:5:6:7:8', h), 'junk between two groups');
  t.ok(parseIpv6Into('1::23', h, 0, 4), 'a sub-range ends at its end, even before a hex digit');
  t.same([...h], [1, 0, 0, 0, 0, 0, 0, 2]);
});

t.test('IPv4-mapped means all five leading hextets zero', async (t) => {
  for (let i = 0; i < 5; i++) {
    const h = [0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304];
    h[i] = 1;
    t.notOk(isV4Mapped(h), `hextet ${i} set`);
  }
  t.ok(isV4Mapped([0, 0, 0, 0, 0, 0xffff, 0x0102, 0x0304]));
  t.equal(normalizeIp('1::ffff:102:304'), '1::ffff:102:304', 'not mapped: stays IPv6');
  t.equal(normalizeIp('0.0.0.0'), '0.0.0.0', 'the IPv4 whose number is 0');
});

t.test('prefix lengths are decimal digits only', async (t) => {
  // "-" and "a" are below "0" and above "9": read as digits they would give /17 and /59.
  for (const bad of ['10.0.0.0/2-', '2001:db8::/1a', '2001:db8::/5/']) t.equal(parsePrefixKey(bad), undefined, bad);
});
