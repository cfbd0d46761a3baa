// PrefixIndex lookups at their edges: the match filter for IPv6, 0.0.0.0 as address text, and
// short IPv6 prefixes once the occupancy bitmap says nothing of length ≥ 64 is near the address.
import t from 'tap';
import { NONE } from '../../../src/net/bucket-table';
import { PrefixIndex } from '../../../src/net/prefix-index';

t.test('the match filter skips to shorter IPv6 prefixes', async (t) => {
  const index = new PrefixIndex();
  index.insertV6([0x20010db8, 0, 0, 0], 32, 32);
  index.insertV6([0x20010db8, 0x00010000, 0, 0], 48, 48);
  const h = [0x2001, 0x0db8, 1, 0, 0, 0, 0, 1];
  const head = (off: number): number => (off === NONE ? NONE : (index.matched?.buf[off] ?? NONE));
  t.equal(head(index.matchV6(h)), 48);
  t.equal(head(index.matchV6(h, (table, off) => table.buf[off] !== 48)), 32);
  t.equal(
    index.matchV6(h, () => false),
    NONE,
  );
});

t.test('0.0.0.0 is looked up as the IPv4 address it is', async (t) => {
  const index = new PrefixIndex();
  index.insertV4(0, 32, 7);
  t.equal(index.matchHead('0.0.0.0'), 7);
  t.equal(index.matchHead('::ffff:0.0.0.0'), 7);
});

t.test('a short IPv6 prefix is found where the bitmap has nothing of length ≥ 64', async (t) => {
  const index = new PrefixIndex();
  for (let i = 0; i < 16384; i++) index.insertV6([0x20010db8, i, 0, 0], 64, i);
  index.insertV6([0x20010db9, 0, 0, 0], 32, 100000);
  index.insertV6([0x20010dba, 0x00010000, 0, 0], 48, 100001);
  t.equal(index.matchHead('2001:db9:5:6::7'), 100000, 'a /32');
  t.equal(index.matchHead('2001:dba:1:2::3'), 100001, 'a /48');
  t.equal(index.matchHead('2001:db8:0:5::1'), 5);
});

t.test('removing a present key says so, for either family', async (t) => {
  const index = new PrefixIndex();
  index.insertV4(0x0a000000, 8, 1);
  index.insertV6([0x20010db8, 0, 0, 0], 32, 2);
  t.ok(index.removeV4(0x0a000000, 8));
  t.ok(index.removeV6([0x20010db8, 0, 0, 0], 32));
  t.equal(index.size, 0);
});
