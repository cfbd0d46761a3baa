import t from 'tap';
import { CidrSet } from '../../../src/net/cidr-set';
import { PrefixMap } from './prefix-map';
import { formatIpv6, formatPrefixKey, parsePrefixKey, uint32ToIpv4, type PrefixKey } from '../../../src/net/ip';

t.test('IPv4 longest match across every length /0../32', async (t) => {
  const m = new PrefixMap<number>();
  const addr = 0xc0a8_abcd; // 192.168.171.205
  for (let len = 0; len <= 32; len++) {
    const net = len === 0 ? 0 : (addr & (0xffffffff << (32 - len))) >>> 0;
    m.set(`${uint32ToIpv4(net)}/${len}`, len);
  }
  t.equal(m.size, 33);
  t.equal(m.longestMatch('192.168.171.205'), 32, 'exact wins');
  t.equal(m.longestMatch('192.168.171.204'), 31);
  t.equal(m.longestMatch('192.168.171.206'), 30);
  t.equal(m.longestMatch('192.168.171.0'), 24);
  t.equal(m.longestMatch('192.168.0.1'), 16);
  t.equal(m.longestMatch('193.0.0.1'), 7);
  t.equal(m.longestMatch('1.1.1.1'), 0, '/0 catches everything');
  t.equal(m.longestMatch('::ffff:192.168.171.205'), 32, 'mapped address matches IPv4');
  t.equal(m.longestMatch('::1'), undefined, 'no IPv6 entries');
  t.equal(m.longestMatch('garbage'), undefined);
  // Remove lengths one by one from the longest: each lookup falls back to the next.
  for (let len = 32; len > 0; len--) {
    t.ok(m.delete(`${uint32ToIpv4(addr)}/${len}`), `delete /${len} (host bits masked)`);
    if (m.longestMatch('192.168.171.205') !== len - 1) t.fail(`after deleting /${len}`);
  }
  t.equal(m.size, 1);
  t.same(m.lengths(4), [0]);
});

t.test('IPv6 longest match across every length /0../128', async (t) => {
  const m = new PrefixMap<number>();
  const h = [0x2001, 0x0db8, 0xabcd, 0x1234, 0xfedc, 0xba98, 0x7654, 0x3210];
  const ip = formatIpv6(h);
  for (let len = 0; len <= 128; len++) m.set(`${ip}/${len}`, len);
  t.equal(m.size, 129);
  t.equal(m.longestMatch(ip), 128);
  // Flip each bit in turn: the match is the prefix just before that bit.
  let wrong = 0;
  for (let bit = 0; bit < 128; bit++) {
    const g = h.slice();
    g[bit >> 4] ^= 0x8000 >> (bit & 15);
    if (m.longestMatch(formatIpv6(g)) !== bit) wrong++;
  }
  t.equal(wrong, 0, 'flipping bit n matches /n');
  t.equal(m.longestMatch('8000::1'), 0, 'first bit differs: only /0');
  t.equal(m.longestMatch('::1'), 2, '::1 shares the first two bits');
  for (let len = 128; len >= 1; len--) m.delete(`${ip}/${len}`);
  t.same(m.lengths(6), [0]);
  t.equal(m.longestMatch(ip), 0);
  t.ok(m.delete('::/0'));
  t.equal(m.longestMatch(ip), undefined, 'empty');
  t.equal(m.size, 0);
});

t.test('deleting the last entry of a length', async (t) => {
  const m = new PrefixMap<string>();
  m.set('10.0.0.0/8', 'a');
  m.set('10.1.0.0/16', 'b');
  m.set('10.2.0.0/16', 'c');
  t.same(m.lengths(4), [16, 8]);
  t.ok(m.delete('10.1.0.0/16'));
  t.same(m.lengths(4), [16, 8], 'length kept while it has entries');
  t.equal(m.longestMatch('10.1.2.3'), 'a');
  t.ok(m.delete('10.2.0.0/16'));
  t.same(m.lengths(4), [8], 'length dropped with its last entry');
  t.equal(m.longestMatch('10.2.2.2'), 'a');
  t.notOk(m.delete('10.2.0.0/16'), 'second delete is a no-op');
  m.set('10.2.0.0/16', 'd');
  t.equal(m.longestMatch('10.2.2.2'), 'd', 'length re-added');
  t.equal(m.size, 2);
});

t.test('set/get/replace, host bits and entries', async (t) => {
  const m = new PrefixMap<number>();
  m.set('1.2.3.4/24', 1);
  t.equal(m.get('1.2.3.0/24'), 1, 'host bits masked on set');
  m.set('1.2.3.0/24', 2);
  t.equal(m.size, 1, 'replace does not grow');
  t.equal(m.get('1.2.3.99/24'), 2);
  m.set('2001:db8::/32', 3);
  m.set('::ffff:5.6.7.8', 4);
  t.equal(m.get('5.6.7.8/32'), 4, 'mapped stored as IPv4');
  t.same([...m.entries()].sort(), [
    ['1.2.3.0/24', 2],
    ['2001:db8::/32', 3],
    ['5.6.7.8/32', 4],
  ]);
  t.throws(() => m.set('10.8/16', 1), /invalid CIDR.*10\.8\/16/);
  t.equal(m.get('nope'), undefined);
  m.clear();
  t.equal(m.size, 0);
  t.equal(m.longestMatch('1.2.3.4'), undefined);
});

t.test('match filter skips to shorter prefixes', async (t) => {
  const m = new PrefixMap<number>();
  m.set('10.0.0.0/8', 8);
  m.set('10.1.0.0/16', 16);
  m.set('10.1.2.3', 32);
  t.equal(
    m.longestMatch('10.1.2.3', (v) => v !== 32),
    16,
  );
  t.equal(
    m.longestMatch('10.1.2.3', (v) => v < 16),
    8,
  );
  t.equal(
    m.longestMatch('10.1.2.3', () => false),
    undefined,
  );
});

t.test('CidrSet', async (t) => {
  const s = new CidrSet(['10.0.0.0/8', '192.168.1.1', '2001:db8::/32']);
  t.equal(s.size, 3);
  t.ok(s.contains('10.255.0.1'));
  t.ok(s.contains('192.168.1.1'));
  t.notOk(s.contains('192.168.1.2'));
  t.ok(s.contains('2001:db8:ffff::1'));
  t.notOk(s.contains('2001:db9::1'));
  t.ok(s.contains('::ffff:10.0.0.1'), 'mapped client');
  t.notOk(s.contains('not an ip'));
  t.notOk(s.contains(''));
  t.ok(s.has('10.0.0.0/8'));
  t.notOk(s.has('10.0.0.0/9'));
  t.ok(s.delete('10.0.0.0/8'));
  t.notOk(s.contains('10.255.0.1'));
  t.notOk(new CidrSet().contains('1.2.3.4'));
  t.same(new CidrSet(['0.0.0.0/0']).contains('8.8.8.8'), true);
  t.throws(() => new CidrSet(['10.0.0.0/8', 'bogus']), /"bogus"/);
});

// Reference: one JS Map per (family, length) keyed by the canonical network text; longest match by
// trying every length. Obviously correct, slow.
function refLongest(ref: Map<string, number>, ip: string): number | undefined {
  const fam = ip.includes(':') ? 6 : 4;
  for (let len = fam === 4 ? 32 : 128; len >= 0; len--) {
    // canonical text, as PrefixMap.set() keys it (a PrefixMap per length made this test 2x slower)
    const k = parsePrefixKey(`${ip}/${len}`) as PrefixKey;
    const v = ref.get(formatPrefixKey(k.family, k.prefix, k.key));
    if (v !== undefined) return v;
  }
  return undefined;
}

t.test('randomised: hash tables, filters and deletions agree with a reference', async (t) => {
  let seed = 7;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  const v4 = (): string => `${10 + rnd(3)}.${rnd(16)}.${rnd(256)}.${rnd(256)}`; // dense: collisions and shared /16s
  const v6 = (): string => `2001:db8:${rnd(3).toString(16)}:${rnd(16).toString(16)}::${rnd(65536).toString(16)}:${rnd(65536).toString(16)}`;
  const lens4 = [8, 12, 16, 20, 23, 24, 28, 31, 32];
  const lens6 = [32, 44, 48, 56, 64, 100, 127, 128, 128, 128];
  const m = new PrefixMap<number>();
  const ref = new Map<string, number>();
  const live: string[] = [];
  // > 16384 entries per family so the summaries and occupancy bitmaps are in play.
  for (let i = 0; i < 90000; i++) {
    const six = i % 2 === 1;
    const len = six ? lens6[rnd(lens6.length)] : lens4[rnd(lens4.length)];
    m.set(`${six ? v6() : v4()}/${len}`, i);
  }
  for (const [cidr, v] of m.entries()) {
    ref.set(cidr, v);
    live.push(cidr);
  }
  t.equal(m.size, ref.size);
  const n6 = live.filter((c) => c.includes(':')).length;
  t.ok(n6 > 16384 && live.length - n6 > 16384, `both families past the occupancy-bitmap threshold (${live.length - n6} IPv4, ${n6} IPv6)`);
  // Delete 60% (more deletions than entries left: filters get rebuilt), re-add some with new values.
  let deleted = 0;
  for (let i = 0; i < live.length; i++) {
    if (rnd(10) < 6) {
      if (!m.delete(live[i])) t.fail(`delete ${live[i]}`);
      ref.delete(live[i]);
      deleted++;
    } else if (rnd(10) === 0) {
      m.set(live[i], -i);
      ref.set(live[i], -i);
    }
  }
  t.ok(deleted > live.length / 2, `deleted ${deleted} of ${live.length}`);
  t.equal(m.size, ref.size, 'size after deletions');
  let wrongGet = 0;
  for (const cidr of live) if (m.get(cidr) !== ref.get(cidr)) wrongGet++;
  t.equal(wrongGet, 0, 'get() of every key ever inserted');
  let wrongMatch = 0;
  let hits = 0;
  for (let i = 0; i < 4000; i++) {
    let ip = i % 2 === 0 ? v4() : v6();
    if (i % 4 >= 2) ip = ip.replace(/^1/, '9').replace(/^2001:db8/, '2001:db9'); // outside everything
    const want = refLongest(ref, ip);
    if (want !== undefined) hits++;
    if (m.longestMatch(ip) !== want) wrongMatch++;
  }
  t.equal(wrongMatch, 0, 'longestMatch agrees');
  t.ok(hits > 500 && hits < 3500, `queries hit and miss (${hits} hits of 4000)`);
  // Drain completely: every table and filter emptied.
  for (const cidr of [...ref.keys()]) m.delete(cidr);
  t.equal(m.size, 0);
  t.same(m.lengths(4), []);
  t.same(m.lengths(6), []);
  t.equal(m.longestMatch('10.0.0.1'), undefined);
});
