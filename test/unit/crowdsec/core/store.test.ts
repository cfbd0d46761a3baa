import t from 'tap';
import { DecisionStore } from '../../../../src/crowdsec/core/store';
import { compareTypes } from '../../../../src/crowdsec/core/precedence';
import { normalizeDecision, parseDecisionTarget, sanitizeType } from '../../../../src/crowdsec/core/normalize';
import type { LapiDecision, StreamResponse } from '../../../../src/crowdsec/core/types';

const NOW = 1_700_000_000_000;
const H = 3_600_000;

function d(value: string, over: Partial<LapiDecision> = {}): LapiDecision {
  return {
    scope: value.includes('/') ? 'Range' : 'Ip',
    value,
    type: 'ban',
    duration: '4h',
    origin: 'crowdsec',
    scenario: 'crowdsecurity/ssh-bf',
    ...over,
  };
}

function resp(add: LapiDecision[] | null, del: LapiDecision[] | null = null): StreamResponse {
  return { new: add, deleted: del };
}

t.test('exact address before any range, then the most specific range', async (t) => {
  const s = new DecisionStore();
  s.apply(resp([d('10.0.0.0/8', { type: 'ban' }), d('10.1.0.0/16', { type: 'captcha' }), d('10.1.2.3', { type: 'throttle' })]), NOW);
  t.match(s.lookup('10.1.2.3', NOW), { type: 'throttle', value: '10.1.2.3' }, 'exact wins even over a stronger type on a range');
  t.match(s.lookup('10.1.9.9', NOW), { type: 'captcha', value: '10.1.0.0/16' }, 'longest range');
  t.match(s.lookup('10.9.9.9', NOW), { type: 'ban', value: '10.0.0.0/8' });
  t.equal(s.lookup('11.0.0.1', NOW), undefined, 'miss');
  t.equal(s.lookup('not-an-ip', NOW), undefined);
});

t.test('IPv6 exact and ranges, canonical values', async (t) => {
  const s = new DecisionStore();
  s.apply(resp([d('2001:DB8:0:0::1'), d('2001:db8:aa::/48', { type: 'captcha' }), d('2001:db8:aa:bb::/64', { scope: 'range', type: 'ban' })]), NOW);
  t.match(s.lookup('2001:db8::1', NOW), { type: 'ban', value: '2001:db8::1' }, 'stored canonical');
  t.match(s.lookup('2001:0db8:0000::0001', NOW), { type: 'ban' }, 'non-canonical query');
  t.match(s.lookup('2001:db8:aa:bb::5', NOW), { type: 'ban', value: '2001:db8:aa:bb::/64' });
  t.match(s.lookup('2001:db8:aa:cc::5', NOW), { type: 'captcha', value: '2001:db8:aa::/48' });
  t.equal(s.lookup('2001:db8::2', NOW), undefined);
  t.equal(s.lookup('10.0.0.1', NOW), undefined, 'IPv4 does not hit IPv6 entries');
  t.same(s.stats().byFamily, { ipv4: 0, ipv6: 3 });
});

t.test('IPv4-mapped addresses', async (t) => {
  const s = new DecisionStore();
  s.apply(resp([d('::ffff:192.0.2.7'), d('::FFFF:198.51.100.0/120', { type: 'captcha' })]), NOW);
  t.match(s.lookup('192.0.2.7', NOW), { type: 'ban', value: '192.0.2.7' }, 'mapped decision stored as IPv4');
  t.match(s.lookup('::ffff:192.0.2.7', NOW), { type: 'ban', value: '192.0.2.7' }, 'mapped query');
  t.match(s.lookup('198.51.100.77', NOW), { type: 'captcha', value: '198.51.100.0/24' }, 'mapped /120 is IPv4 /24');
  t.same(s.stats().byFamily, { ipv4: 2, ipv6: 0 });
});

t.test('type precedence on one value', async (t) => {
  const s = new DecisionStore();
  s.apply(resp([d('1.1.1.1', { type: 'throttle' }), d('1.1.1.1', { type: 'captcha' }), d('1.1.1.1', { type: 'zzz' })]), NOW);
  t.equal(s.lookup('1.1.1.1', NOW)?.type, 'captcha', 'captcha > throttle > custom');
  s.apply(resp([d('1.1.1.1', { type: 'ban' })]), NOW);
  t.equal(s.lookup('1.1.1.1', NOW)?.type, 'ban', 'ban > captcha');
  t.equal(s.size, 4);
  const c = new DecisionStore();
  c.apply(resp([d('1.1.1.1', { type: 'mfa' }), d('1.1.1.1', { type: 'alert' })]), NOW);
  t.equal(c.lookup('1.1.1.1', NOW)?.type, 'alert', 'custom types by name');
  t.ok(compareTypes('ban', 'captcha') < 0 && compareTypes('captcha', 'throttle') < 0 && compareTypes('throttle', 'aaa') < 0);
  t.ok(compareTypes('alert', 'mfa') < 0 && compareTypes('mfa', 'alert') > 0 && compareTypes('x', 'x') === 0);
});

t.test('per-type deletion and expiry keep the other type', async (t) => {
  const s = new DecisionStore();
  s.apply(resp([d('5.5.5.5', { type: 'ban', duration: '1h' }), d('5.5.5.5', { type: 'captcha', duration: '2h' })]), NOW);
  t.equal(s.lookup('5.5.5.5', NOW)?.type, 'ban');
  // ban expires locally: captcha still applies.
  t.equal(s.lookup('5.5.5.5', NOW + 1.5 * H)?.type, 'captcha', 'expired ban skipped');
  // delete captcha: ban remains.
  const r = s.apply(resp(null, [d('5.5.5.5', { type: 'captcha' })]), NOW);
  t.same(r, { added: 0, deleted: 1, skipped: 0, expired: 0 });
  t.equal(s.lookup('5.5.5.5', NOW)?.type, 'ban', 'deleting captcha keeps ban');
  t.equal(s.size, 1);
  // and the other way round, with the deleted one at the head of the chain
  s.apply(resp([d('5.5.5.5', { type: 'captcha' })]), NOW);
  s.apply(resp(null, [d('5.5.5.5', { type: 'ban' })]), NOW);
  t.equal(s.lookup('5.5.5.5', NOW)?.type, 'captcha', 'deleting ban keeps captcha');
  s.apply(resp(null, [d('5.5.5.5', { type: 'captcha' })]), NOW);
  t.equal(s.lookup('5.5.5.5', NOW), undefined);
  t.equal(s.size, 0);
  t.equal(s.valueCount, 0, 'value gone with its last type');
});

t.test('local expiry: lazy on lookup, sweep removes; expired exact falls back to range', async (t) => {
  const s = new DecisionStore();
  s.apply(resp([d('7.7.7.7', { duration: '10s' }), d('7.7.0.0/16', { type: 'captcha', duration: '1h' })]), NOW);
  const hit = s.lookup('7.7.7.7', NOW);
  t.match(hit, { type: 'ban', value: '7.7.7.7', expiresAt: NOW + 10_000, origin: 'crowdsec', scenario: 'crowdsecurity/ssh-bf' });
  t.match(s.lookup('7.7.7.7', NOW + 9_999), { type: 'ban' });
  t.match(s.lookup('7.7.7.7', NOW + 10_000), { type: 'captcha', value: '7.7.0.0/16' }, 'expired at expiresAt: range applies');
  t.equal(s.size, 2, 'lazy: not removed yet');
  t.equal(s.stats(NOW + 10_000).total, 1, 'stats(now) leaves expired out');
  t.equal(s.sweep(NOW + 10_000), 1);
  t.equal(s.size, 1);
  t.equal(s.lookup('7.7.7.7', NOW + 2 * H), undefined, 'range expired too');
  t.equal(s.sweep(NOW + 2 * H), 1);
  t.equal(s.size, 0);
  // Slots are recycled after a sweep.
  s.apply(resp([d('8.8.8.8')]), NOW);
  t.match(s.lookup('8.8.8.8', NOW), { type: 'ban' });
});

t.test('null arrays, deletions before new, duplicates', async (t) => {
  const s = new DecisionStore();
  t.same(s.apply(resp(null, null), NOW), { added: 0, deleted: 0, skipped: 0, expired: 0 });
  t.same(s.apply({} as StreamResponse, NOW), { added: 0, deleted: 0, skipped: 0, expired: 0 }, 'missing keys tolerated');
  // the same (value, type) in deleted and new in one response: deleted first, so it is present
  s.apply(resp([d('9.9.9.9')]), NOW);
  const r = s.apply(resp([d('9.9.9.9', { duration: '2h' })], [d('9.9.9.9')]), NOW);
  t.same(r, { added: 1, deleted: 1, skipped: 0, expired: 0 });
  t.match(s.lookup('9.9.9.9', NOW), { type: 'ban', expiresAt: NOW + 2 * H }, 'deleted applied before new');
  // duplicates: later expiry kept, latest origin/scenario kept
  s.apply(resp([d('6.6.6.6', { duration: '3h', origin: 'CAPI', scenario: 'a' }), d('6.6.6.6', { duration: '1h', origin: 'cscli', scenario: 'b' })]), NOW);
  t.equal(s.size, 2, 'duplicate does not add an entry');
  t.match(s.lookup('6.6.6.6', NOW), { expiresAt: NOW + 3 * H, origin: 'cscli', scenario: 'b' });
  t.same(s.stats().byOrigin, { crowdsec: 1, cscli: 1 }, 'replaced origin no longer counted');
  // deleting something unknown is harmless
  t.same(s.apply(resp(null, [d('1.2.3.4'), d('6.6.6.6', { type: 'captcha' })]), NOW), { added: 0, deleted: 0, skipped: 0, expired: 0 });
  t.equal(s.size, 2);
});

t.test('bad values are skipped and counted', async (t) => {
  const s = new DecisionStore();
  const bad: LapiDecision[] = [
    d('010.8.8.8'),
    d('10.8'),
    d('1.2.3.4/33', { scope: 'Range' }),
    d('1.2.3.0/24', { scope: 'Ip' }),
    d('FR', { scope: 'Country' }),
    d('1.2.3.4', { scope: undefined }),
    d('1.2.3.5', { type: '' }),
    d('1.2.3.6', { duration: '4 hours' }),
    d('1.2.3.7', { duration: undefined }),
    { scope: 'Ip' },
    null as unknown as LapiDecision,
  ];
  const r = s.apply(resp([...bad, d('1.2.3.8'), d('1.2.3.9', { duration: '-1s' })], [d('bogus'), d('2.2.2.2', { scope: 'AS' })]), NOW);
  t.same(r, { added: 1, deleted: 0, skipped: bad.length + 2, expired: 1 });
  t.equal(s.size, 1);
  t.equal(s.skippedTotal, bad.length + 2);
  s.apply(resp([d('nope')]), NOW);
  t.equal(s.skippedTotal, bad.length + 3, 'running total');
  t.equal(s.lookup('1.2.3.9', NOW), undefined, 'already-expired decision not stored');
});

t.test('ranges: host bits masked, /32 range is the exact entry, scope case-insensitive', async (t) => {
  const s = new DecisionStore();
  s.apply(resp([d('192.0.2.77/24', { scope: 'RANGE' }), d('203.0.113.5/32', { scope: 'range', type: 'captcha' })]), NOW);
  t.match(s.lookup('192.0.2.1', NOW), { value: '192.0.2.0/24' });
  t.match(s.lookup('203.0.113.5', NOW), { type: 'captcha', value: '203.0.113.5' });
  s.apply(resp(null, [d('192.0.2.0/24'), d('203.0.113.5', { scope: 'ip', type: 'captcha' })]), NOW);
  t.equal(s.size, 0, 'deleted via masked range and via Ip scope');
  s.apply(resp([d('0.0.0.0/0', { type: 'captcha' }), d('::/0', { type: 'ban' })]), NOW);
  t.match(s.lookup('8.8.8.8', NOW), { type: 'captcha', value: '0.0.0.0/0' });
  t.match(s.lookup('2a00::1', NOW), { type: 'ban', value: '::/0' });
});

t.test('types are lower-cased and sanitised', async (t) => {
  t.equal(sanitizeType('Ban'), 'ban');
  t.equal(sanitizeType('my-Type!'), 'my_type_');
  t.equal(sanitizeType('x'.repeat(100))?.length, 64);
  t.equal(sanitizeType(''), undefined);
  const s = new DecisionStore();
  s.apply(resp([d('4.4.4.4', { type: 'CAPTCHA' }), d('4.4.4.4', { type: 'Ban' })]), NOW);
  t.equal(s.lookup('4.4.4.4', NOW)?.type, 'ban');
  s.apply(resp(null, [d('4.4.4.4', { type: 'BAN' })]), NOW);
  t.equal(s.lookup('4.4.4.4', NOW)?.type, 'captcha', 'deletion matches the sanitised type');
  t.same(s.stats().byType, { captcha: 1 });
});

t.test('decision normalisation', async (t) => {
  const n = normalizeDecision(d('::ffff:1.2.3.4', { duration: '1m30s' }), 1000);
  t.match(n, { prefix: { family: 4, prefix: 32 }, type: 'ban', durationMs: 90_000, expiresAt: 91_000 });
  t.equal(normalizeDecision(d('1.2.3.4', { scope: 'Username' }), 0), 'scope');
  t.equal(normalizeDecision(d('1.2.3.4', { duration: '0s' }), 0), 'expired');
  t.equal(parseDecisionTarget(d('1.2.3.4', { duration: 'garbage' })) !== 'duration', true, 'deletions need no duration');
});

t.test('stats and breakdown', async (t) => {
  const s = new DecisionStore();
  s.apply(
    resp([
      d('1.1.1.1', { origin: 'CAPI' }),
      d('1.1.1.2', { origin: 'CAPI' }),
      d('1.1.1.2', { origin: 'cscli', type: 'captcha' }),
      d('2001:db8::/32', { origin: 'lists:tor' }),
    ]),
    NOW,
  );
  t.same(s.stats(), {
    total: 4,
    byType: { ban: 3, captcha: 1 },
    byOrigin: { CAPI: 2, cscli: 1, 'lists:tor': 1 },
    byFamily: { ipv4: 3, ipv6: 1 },
    ranges: 1,
    countries: 0,
  });
  t.same(s.breakdown(), [
    { type: 'ban', origin: 'CAPI', family: 4, count: 2 },
    { type: 'ban', origin: 'lists:tor', family: 6, count: 1 },
    { type: 'captcha', origin: 'cscli', family: 4, count: 1 },
  ]);
  t.ok(s.has('1.1.1.2', 'captcha'));
  t.notOk(s.has('1.1.1.1', 'captcha'));
  s.clear();
  t.equal(s.size, 0);
  t.equal(s.lookup('1.1.1.1', NOW), undefined);
  t.same(s.stats().byType, {});
});

t.test('many entries with churn stay consistent', async (t) => {
  const s = new DecisionStore();
  const adds: LapiDecision[] = [];
  for (let i = 0; i < 5000; i++) adds.push(d(`10.${(i >> 8) & 255}.${i & 255}.1`, { type: i % 3 === 0 ? 'captcha' : 'ban' }));
  s.apply(resp(adds), NOW);
  s.apply(resp(adds.slice(0, 2500).map((x) => ({ ...x, type: 'throttle' }))), NOW);
  t.equal(s.size, 7500);
  s.apply(
    resp(
      null,
      adds.filter((_, i) => i % 2 === 0),
    ),
    NOW,
  );
  t.equal(s.size, 5000);
  let wrong = 0;
  for (let i = 0; i < 5000; i++) {
    const got = s.lookup(`10.${(i >> 8) & 255}.${i & 255}.1`, NOW)?.type;
    const want = i % 2 === 1 ? (i % 3 === 0 ? 'captcha' : 'ban') : i < 2500 ? 'throttle' : undefined;
    if (got !== want) wrong++;
  }
  t.equal(wrong, 0, 'every lookup as expected after adds, refreshes and deletions');
  s.apply(resp(adds), NOW + 1);
  t.equal(s.size, 7500, 'freed slots reused without duplicates');
});

t.test('randomised against a reference model (node:net BlockList for containment)', async (t) => {
  const { BlockList } = await import('node:net');
  let seed = 99;
  const rnd = (n: number): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return (seed >>> 8) % n;
  };
  // A small pool of canonical values so that types stack up, ranges nest and deletions hit.
  const values: string[] = [];
  for (let a = 0; a < 4; a++) {
    values.push(`10.${a}.0.0/16`);
    for (let b = 0; b < 4; b++) {
      values.push(`10.${a}.${b}.0/24`);
      for (let c = 1; c <= 4; c++) values.push(`10.${a}.${b}.${c}`);
    }
    values.push(`2001:db8:${a + 1}::/48`); // canonical text: no zero hextet outside the "::"
    for (let b = 1; b <= 3; b++) {
      values.push(`2001:db8:${a + 1}:${b}::/64`);
      for (let c = 1; c <= 3; c++) values.push(`2001:db8:${a + 1}:${b}::${c}`);
    }
  }
  const types = ['ban', 'captcha', 'throttle', 'mfa', 'alert'];
  interface RefEntry {
    value: string;
    type: string;
    expiresAt: number;
    origin: string;
    scenario: string;
  }
  const ref = new Map<string, RefEntry>();
  const lists = new Map<string, InstanceType<typeof BlockList>>();
  const contains = (value: string, ip: string): boolean => {
    let bl = lists.get(value);
    if (bl === undefined) {
      bl = new BlockList();
      const [net, len] = value.split('/');
      const fam = net.includes(':') ? 'ipv6' : 'ipv4';
      bl.addSubnet(net, len === undefined ? (fam === 'ipv4' ? 32 : 128) : Number(len), fam);
      lists.set(value, bl);
    }
    const fam = ip.includes(':') ? 'ipv6' : 'ipv4';
    return (value.includes(':') ? 'ipv6' : 'ipv4') === fam && bl.check(ip, fam);
  };
  const prefixOf = (v: string): number => (v.includes('/') ? Number(v.split('/')[1]) : v.includes(':') ? 128 : 32);
  const refLookup = (ip: string, now: number): RefEntry | undefined => {
    let best: RefEntry | undefined;
    for (const e of ref.values()) {
      if (e.expiresAt <= now || !contains(e.value, ip)) continue;
      if (best === undefined || prefixOf(e.value) > prefixOf(best.value) || (e.value === best.value && compareTypes(e.type, best.type) < 0)) best = e;
    }
    return best;
  };

  const s = new DecisionStore();
  let now = NOW;
  let checks = 0;
  let wrong = 0;
  let refHits = 0;
  let exactHits = 0;
  for (let round = 0; round < 300; round++) {
    const add: LapiDecision[] = [];
    const del: LapiDecision[] = [];
    for (let i = rnd(8); i > 0; i--) {
      const value = values[rnd(values.length)];
      const type = types[rnd(types.length)];
      const secs = 1 + rnd(60);
      add.push(d(value, { type, duration: `${secs}s`, origin: `o${rnd(3)}`, scenario: `s${rnd(5)}` }));
    }
    for (let i = rnd(4); i > 0; i--) del.push(d(values[rnd(values.length)], { type: types[rnd(types.length)] }));
    s.apply(resp(add, del), now);
    for (const x of del) ref.delete(`${x.value}|${x.type}`);
    for (const x of add) {
      const k = `${x.value}|${x.type}`;
      const exp = now + Number((x.duration as string).slice(0, -1)) * 1000;
      const old = ref.get(k);
      ref.set(k, {
        value: x.value as string,
        type: x.type as string,
        expiresAt: Math.max(exp, old?.expiresAt ?? 0),
        origin: x.origin as string,
        scenario: x.scenario as string,
      });
    }
    now += rnd(4000);
    if (round % 7 === 0) {
      s.sweep(now);
      for (const [k, e] of ref) if (e.expiresAt <= now) ref.delete(k);
      if (s.size !== ref.size) t.fail(`size ${s.size} vs reference ${ref.size} after sweep`);
    }
    for (let q = 0; q < 20; q++) {
      const v = values[rnd(values.length)].split('/')[0];
      const ip = v.includes(':')
        ? v.replace(/::(\d*)$/, (_m, x: string) => `::${x === '' ? rnd(5) : Number(x) + rnd(2)}`)
        : v.replace(/\.(\d+)$/, (_m, x: string) => `.${Number(x) + rnd(3)}`);
      const got = s.lookup(ip, now);
      const want = refLookup(ip, now);
      checks++;
      if (want !== undefined) refHits++;
      if (want !== undefined && !want.value.includes('/')) exactHits++;
      const same =
        got === undefined
          ? want === undefined
          : want !== undefined &&
            got.type === want.type &&
            got.value === want.value &&
            got.expiresAt === want.expiresAt &&
            got.origin === want.origin &&
            got.scenario === want.scenario;
      if (!same) {
        wrong++;
        if (wrong <= 5) t.fail(`${ip} at +${now - NOW}: got ${JSON.stringify(got)} want ${JSON.stringify(want)}`);
      }
    }
  }
  t.equal(wrong, 0, `${checks} lookups agree with the reference`);
  t.ok(refHits > checks / 4 && refHits < (checks * 3) / 4, `hits and misses both exercised (${refHits} hits, ${exactHits} exact)`);
  t.ok(exactHits > 200 && refHits - exactHits > 200, 'exact and range hits both exercised');
  const hits = [...ref.values()].length;
  t.ok(hits > 10, `reference holds entries at the end (${hits})`);
});

t.test('remediation fallback: ban keeps custom types, ignore skips them and keeps the built-in ones', async (t) => {
  const batch = [d('10.0.0.1', { type: 'mfa' }), d('10.0.0.2', { type: 'captcha' }), d('10.0.0.3', { type: 'ban' }), d('10.0.0.4', { type: 'throttle' })];
  const keep = new DecisionStore();
  t.equal(keep.fallback, 'ban', 'default');
  keep.apply(resp(batch), NOW);
  t.match(keep.lookup('10.0.0.1', NOW), { type: 'mfa' });
  const ignore = new DecisionStore({ fallback: 'ignore' });
  t.match(ignore.apply(resp(batch), NOW), { added: 3, skipped: 1 });
  t.equal(ignore.lookup('10.0.0.1', NOW), undefined, 'custom type not stored');
  for (const [ip, type] of [
    ['10.0.0.2', 'captcha'],
    ['10.0.0.3', 'ban'],
    ['10.0.0.4', 'throttle'],
  ])
    t.match(ignore.lookup(ip, NOW), { type });
  t.equal(ignore.skippedTotal, 1);
});
