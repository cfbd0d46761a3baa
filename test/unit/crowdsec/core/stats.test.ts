// The rows of the decision breakdown and of the usage metrics' active decisions come out sorted
// whatever order the store's tables hand the entries in.
import t from 'tap';
import { activeDecisionRows, breakdownEntries, type EntryFn } from '../../../../src/crowdsec/core/stats';

type Entry = [type: number, origin: number, family: 4 | 6, scenario: number];
const walkOf =
  (entries: readonly Entry[]) =>
  (fn: EntryFn): void => {
    for (const [type, origin, family, scenario] of entries) fn(type, origin, family, false, scenario);
  };

const TYPES = ['captcha', 'ban'];
const ORIGINS = ['cscli', 'CAPI', 'lists', 'crowdsec'];
const SCENARIOS = ['', 'tor', 'firehol'];
const ENTRIES: Entry[] = [];
for (const type of [0, 1])
  for (const origin of [0, 1, 2, 3]) for (const family of [4, 6] as const) for (const scenario of [0, 1, 2]) ENTRIES.push([type, origin, family, scenario]);

/** Some orders of the entries: as built, reversed, and rotated. */
function orders(): Entry[][] {
  const out: Entry[][] = [ENTRIES, [...ENTRIES].reverse()];
  for (let k = 5; k < ENTRIES.length; k += 11) out.push([...ENTRIES.slice(k), ...ENTRIES.slice(0, k)].reverse());
  return out;
}

t.test('breakdown rows: by type, origin, family', async (t) => {
  const want = breakdownEntries(walkOf(ENTRIES), TYPES, ORIGINS).map((r) => `${r.type} ${r.origin} ${r.family} ${r.count}`);
  t.same(
    want,
    [...want].sort((a, b) => {
      const [ta, oa, fa] = a.split(' ');
      const [tb, ob, fb] = b.split(' ');
      return ta !== tb ? (ta < tb ? -1 : 1) : oa !== ob ? (oa < ob ? -1 : 1) : Number(fa) - Number(fb);
    }),
  );
  t.equal(want[0], 'ban CAPI 4 3');
  t.equal(want.length, 16);
  for (const order of orders())
    t.same(
      breakdownEntries(walkOf(order), TYPES, ORIGINS).map((r) => `${r.type} ${r.origin} ${r.family} ${r.count}`),
      want,
    );
});

t.test('active decision rows: by origin label, then family; lists by scenario', async (t) => {
  const rows = activeDecisionRows(walkOf(ENTRIES), ORIGINS, SCENARIOS);
  t.same(
    rows.map((r) => `${r.origin} ${r.ipType} ${r.count}`),
    [
      'CAPI ipv4 6',
      'CAPI ipv6 6',
      'crowdsec ipv4 6',
      'crowdsec ipv6 6',
      'cscli ipv4 6',
      'cscli ipv6 6',
      'lists ipv4 2',
      'lists ipv6 2',
      'lists:firehol ipv4 2',
      'lists:firehol ipv6 2',
      'lists:tor ipv4 2',
      'lists:tor ipv6 2',
    ],
  );
  for (const order of orders()) t.same(activeDecisionRows(walkOf(order), ORIGINS, SCENARIOS), rows);
});
