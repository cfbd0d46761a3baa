import t from 'tap';
import { isIP } from 'node:net';
import {
  formatIpv6,
  ipv4ToUint32,
  ipv6Words,
  wordsToHextets,
  normalizeIp,
  parseIpv6Into,
  parsePrefixKey,
  uint32ToIpv4,
  formatPrefixKey,
} from '../../../src/net/ip';

t.test('normalizeIp', async (t) => {
  t.equal(normalizeIp('1.2.3.4'), '1.2.3.4');
  t.equal(normalizeIp('::ffff:1.2.3.4'), '1.2.3.4', 'mapped stripped');
  t.equal(normalizeIp('::FFFF:1.2.3.4'), '1.2.3.4', 'mapped, upper case');
  t.equal(normalizeIp('0:0:0:0:0:ffff:1.2.3.4'), '1.2.3.4', 'mapped, long form');
  t.equal(normalizeIp('::ffff:102:304'), '1.2.3.4', 'mapped, hex tail');
  t.equal(normalizeIp('2001:DB8:0:0:0:0:0:1'), '2001:db8::1', 'IPv6 canonical');
  t.equal(normalizeIp('fe80::1%eth0'), 'fe80::1', 'zone dropped');
  t.equal(normalizeIp('::1'), '::1');
  t.equal(normalizeIp('::'), '::');
  t.equal(normalizeIp('::1.2.3.4'), '::102:304', 'IPv4-compatible is not mapped');
  t.equal(normalizeIp('::1%a b'), undefined, 'zone text checked by isIP');
  for (const bad of ['010.8.8.8', '10.8', '1.2.3.04', ' 1.2.3.4', '1.2.3.4 ', '256.1.1.1', '1.2.3.4.5', '', 'x', '1::2::3', '::ffff:1.2.3', '1.2.3.4/32']) {
    t.equal(normalizeIp(bad), undefined, `rejects ${JSON.stringify(bad)}`);
  }
});

t.test('ipv4ToUint32 / uint32ToIpv4', async (t) => {
  t.equal(ipv4ToUint32('0.0.0.0'), 0);
  t.equal(ipv4ToUint32('255.255.255.255'), 4294967295);
  t.equal(ipv4ToUint32('1.2.3.4'), 0x01020304);
  t.equal(ipv4ToUint32('192.168.100.200'), 0xc0a864c8);
  t.equal(ipv4ToUint32('x1.2.3.4y', 1, 8), 0x01020304, 'sub-range');
  for (const bad of [
    '010.8.8.8',
    '10.8',
    '1.2.3',
    '1.2.3.4.',
    '.1.2.3',
    '1..2.3',
    '1.2.3.256',
    '1.2.3.a',
    '1.2.3.00',
    '1111.2.3.4',
    '::1',
    '1..22.3',
    '.12.3.4',
    '11.2.3.',
    '11.22.33',
    '1.2.3.4.5',
  ]) {
    t.equal(ipv4ToUint32(bad), -1, `rejects ${bad}`);
  }
  t.equal(uint32ToIpv4(0xc0a864c8), '192.168.100.200');
  t.equal(uint32ToIpv4(0xc0a864c8 | 0), '192.168.100.200', 'int32 input too');
});

t.test('IPv6 parse and format', async (t) => {
  const h = new Uint16Array(8);
  t.ok(parseIpv6Into('2001:db8::8a2e:370:7334', h));
  t.same([...h], [0x2001, 0xdb8, 0, 0, 0, 0x8a2e, 0x370, 0x7334]);
  t.ok(parseIpv6Into('1:2:3:4:5:6:1.2.3.4', h));
  t.same([...h], [1, 2, 3, 4, 5, 6, 0x102, 0x304]);
  t.ok(parseIpv6Into('1:2:3:4:5:6:7::', h));
  t.same([...h], [1, 2, 3, 4, 5, 6, 7, 0]);
  t.equal(formatIpv6([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1', 'first longest run');
  t.equal(formatIpv6([0x2001, 0xdb8, 0, 1, 0, 0, 0, 1]), '2001:db8:0:1::1', 'longest run wins');
  t.equal(formatIpv6([1, 0, 2, 0, 3, 0, 4, 0]), '1:0:2:0:3:0:4:0', 'single zeros not compressed');
  t.equal(formatIpv6([0, 0, 0, 0, 0, 0, 0, 0]), '::');
  t.equal(formatIpv6([1, 0, 0, 0, 0, 0, 0, 0]), '1::');
  const w = ipv6Words([0x2001, 0xdb8, 0xabcd, 0xffff, 1, 2, 3, 4], 36, new Int32Array(4));
  t.same([...w], [0x20010db8, 0xa0000000 | 0, 0, 0], '/36 words masked');
  t.same([...wordsToHextets(w, new Uint16Array(8))], [0x2001, 0xdb8, 0xa000, 0, 0, 0, 0, 0]);
  t.same([...ipv6Words([1, 2, 3, 4, 5, 6, 7, 8], 0, new Int32Array(4))], [0, 0, 0, 0]);
  t.same([...ipv6Words([1, 2, 3, 4, 5, 6, 7, 0xffff], 127, new Int32Array(4))], [0x10002, 0x30004, 0x50006, 0x7fffe]);
});

t.test('parsers agree with node:net isIP (fuzz)', async (t) => {
  const alphabet = '0123456789abcdefABCDEF:.%x';
  let seed = 12345;
  const rnd = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const samples: string[] = [];
  for (let i = 0; i < 20000; i++) {
    let s = '';
    const len = 1 + rnd(40);
    for (let j = 0; j < len; j++) s += alphabet[rnd(alphabet.length)];
    samples.push(s);
  }
  // Near-valid forms.
  for (let i = 0; i < 20000; i++) {
    const groups: string[] = [];
    const n = 1 + rnd(9);
    for (let j = 0; j < n; j++) groups.push(rnd(6) === 0 ? '' : rnd(0x10000).toString(16).padStart(rnd(5), '0'));
    let s = groups.join(':');
    if (rnd(4) === 0) s += `:${rnd(300)}.${rnd(300)}.${rnd(256)}.${rnd(256)}`;
    samples.push(s);
    samples.push(`${rnd(300)}.${rnd(260)}.${rnd(3) === 0 ? '0' : ''}${rnd(256)}.${rnd(256)}`);
  }
  // Hand-picked edge cases (zones, compression at either end, embedded IPv4).
  samples.push('fe80::1%eth0', '::%eth0', '::ffff:1.2.3.4%eth0', 'fe80::%', '1:2:3:4:5:6:7:8%x', '%eth0', '::1%', '1::%1');
  samples.push('1:2:3:4:5:6:7::%z', '::ffff:1.2.3.4%', '1.2.3.4%x', '12345::1', '::12345', ':1::2', '1::2:', '1:2:3:4:5:6:7::8');
  samples.push('::ffff:01.2.3.4', '::ffff:1.2.3.4.5', '1:2:3:4:5:6:1.2.3.4', '1:2:3:4:5:6:7:1.2.3.4', '::1.2.3.4', '1::1.2.3.4', ':::');
  let mismatches = 0;
  const seen = [0, 0, 0, 0, 0, 0, 0];
  const h = new Uint16Array(8);
  for (const s of samples) {
    const want = isIP(s);
    seen[want]++;
    const got = ipv4ToUint32(s) >= 0 ? 4 : parseIpv6Into(s, h) ? 6 : 0;
    if (want !== got) {
      mismatches++;
      if (mismatches < 10) t.fail(`${JSON.stringify(s)}: isIP ${want}, ours ${got}`);
    }
  }
  t.equal(mismatches, 0, `${samples.length} samples agree`);
  t.ok(seen[4] > 1000 && seen[6] > 1000 && seen[0] > 1000, `valid and invalid forms all sampled (${seen[4]} v4, ${seen[6]} v6, ${seen[0]} invalid)`);
});

t.test('parsePrefixKey with canonical text', async (t) => {
  const parseCidr = (s: string, options?: { hostBits?: 'mask' | 'reject' }) => {
    const k = parsePrefixKey(s, options);
    return k === undefined ? undefined : { ...k, canonical: formatPrefixKey(k.family, k.prefix, k.key) };
  };
  t.match(parseCidr('10.0.0.0/8'), { family: 4, prefix: 8, canonical: '10.0.0.0/8', hostBits: false });
  t.match(parseCidr('1.2.3.4/24'), { family: 4, prefix: 24, canonical: '1.2.3.0/24', hostBits: true }, 'host bits masked');
  t.equal(parseCidr('1.2.3.4/24', { hostBits: 'reject' }), undefined, 'host bits rejected on request');
  t.match(parseCidr('1.2.3.4'), { family: 4, prefix: 32, canonical: '1.2.3.4/32' }, 'bare IPv4 is /32');
  t.match(parseCidr('2001:DB8::1'), { family: 6, prefix: 128, canonical: '2001:db8::1/128' }, 'bare IPv6 is /128');
  t.match(parseCidr('2001:db8:1234::/33'), { family: 6, prefix: 33, canonical: '2001:db8::/33', hostBits: true });
  t.match(parseCidr('::ffff:10.1.2.3/120'), { family: 4, prefix: 24, canonical: '10.1.2.0/24' }, 'mapped prefix → IPv4');
  t.match(parseCidr('::ffff:10.1.2.3'), { family: 4, prefix: 32, canonical: '10.1.2.3/32' });
  t.match(parseCidr('0.0.0.0/0'), { family: 4, prefix: 0, key: 0 });
  t.same([...(parseCidr('::/0')?.key as Int32Array)], [0, 0, 0, 0]);
  t.match(parseCidr('::/0'), { family: 6, prefix: 0, canonical: '::/0' });
  t.equal(parseCidr('255.255.255.255/32')?.key, -1, 'IPv4 key is int32');
  for (const bad of [
    '010.0.0.0/8',
    '10.0/16',
    '10.0.0.0/33',
    '10.0.0.0/08',
    '10.0.0.0/',
    '/8',
    '::/129',
    'fe80::1%eth0/64',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    '10.0.0.0/ 8',
  ]) {
    t.equal(parseCidr(bad), undefined, `rejects ${bad}`);
  }
  t.equal(formatPrefixKey(4, 32, 0x01020304, true), '1.2.3.4');
  t.equal(formatPrefixKey(4, 32, 0x01020304), '1.2.3.4/32');
  const k = parsePrefixKey('2001:db8::/32');
  t.ok(k && k.family === 6 && formatPrefixKey(6, k.prefix, k.key, true) === '2001:db8::/32');
});
