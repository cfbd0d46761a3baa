// PrefixIndex's summary filters and occupancy bitmaps kept true as entries come and go: entries
// added after a filter exists are found, a delete of an absent key changes nothing, filters are
// built only from 512 entries (however many deletions) and dropped below 256, and the 16384-entry
// IPv6 bitmap is counted in bytes like the IPv4 one.
import t from 'tap';
import { NONE } from '../../../src/net/bucket-table';
import { PrefixIndex } from '../../../src/net/prefix-index';

const tableBytes = (index: PrefixIndex): number => {
  let n = 0;
  index.forEachTable((table) => (n += table.bytes));
  return n;
};
const SUM4 = 65536 * 4;
const SUM6 = (1 << 17) * 4;
const OCC = (1 << 19) * 4;

t.test('IPv4 entries added after the filters exist are found', async (t) => {
  const index = new PrefixIndex();
  for (let i = 0; i < 512; i++) index.insertV4((0x0a000000 + i * 256) | 0, 24, i);
  t.equal(index.bytes, tableBytes(index) + SUM4, 'summary built');
  index.insertV4(0x14010000, 16, 1000); // 20.1.0.0/16, a /16 with nothing in it so far
  index.insertV4(0x15010200, 24, 1001); // 21.1.2.0/24
  t.equal(index.matchHead('20.1.9.9'), 1000);
  t.equal(index.matchHead('21.1.2.3'), 1001);
  for (let i = 513; i < 16384; i++) index.insertV4((0x0b000000 + i * 256) | 0, 24, i);
  t.equal(index.bytes, tableBytes(index) + SUM4 + OCC, 'bitmap built');
  index.insertV4(0x16010200, 24, 1002); // 22.1.2.0/24
  index.insertV4(0x17010203, 32, 1003); // 23.1.2.3/32
  index.insertV4(0x18000000, 8, 1004); // 24.0.0.0/8: below 16, never filtered
  t.equal(index.matchHead('22.1.2.200'), 1002, 'a /24 added after the bitmap');
  t.equal(index.matchHead('23.1.2.3'), 1003, 'a /32 added after the bitmap');
  t.equal(index.matchHead('24.9.9.9'), 1004);
  t.equal(index.matchHead('23.1.2.4'), NONE);
});

t.test('IPv6 entries added after the filters exist are found; the IPv6 bitmap counts in bytes', async (t) => {
  const index = new PrefixIndex();
  for (let i = 0; i < 512; i++) index.insertV6([0x20010db8, i, 0, 0], 64, i);
  t.equal(index.bytes, tableBytes(index) + SUM6, 'summary built');
  index.insertV6([0x20010db9, 0x00010000, 0, 0], 48, 1000); // 2001:db9:1::/48
  t.equal(index.matchHead('2001:db9:1:2::3'), 1000);
  index.insertV6([0x20010db9, 0x00020000, 0, 0], 48, 1001); // a second /48 keeps the length's bit
  t.equal(index.matchHead('2001:db9:1:2::3'), 1000, 'the first /48 still found');
  t.equal(index.matchHead('2001:db9:2::1'), 1001);
  for (let i = 512; i < 16384; i++) index.insertV6([0x20010db8, i, 0, 0], 64, i);
  t.equal(index.bytes, tableBytes(index) + SUM6 + OCC, 'bitmap built');
  index.insertV6([0x20010dba, 0x00010002, 0, 0], 64, 1001); // 2001:dba:1:2::/64
  index.insertV6([0x20010dbb, 0, 0, 5], 128, 1002); // 2001:dbb::5
  t.equal(index.matchHead('2001:dba:1:2::9'), 1001, 'a /64 added after the bitmap');
  t.equal(index.matchHead('2001:dbb::5'), 1002, 'a /128 added after the bitmap');
  t.equal(index.matchHead('2001:dbb::6'), NONE);
});

t.test('removing a key that is not there: false, nothing changes', async (t) => {
  const index = new PrefixIndex();
  index.insertV4(0x0a000000, 8, 1);
  index.insertV6([0x20010db8, 0, 0, 0], 32, 2);
  t.notOk(index.removeV4(0x0b000000, 8), 'IPv4, a length that is present');
  t.notOk(index.removeV6([0x20010db9, 0, 0, 0], 32), 'IPv6, a length that is present');
  t.notOk(index.removeV4(0x0a000000, 16), 'a length that is not');
  t.notOk(index.removeV6([0x20010db8, 0, 0, 0], 48), 'an IPv6 length that is not');
  t.equal(index.size, 2);
});

t.test('filters: never below 512 entries however many deletions; on a rebuild kept from 256 (summary) and 8192 (bitmap)', async (t) => {
  const small = new PrefixIndex();
  for (let i = 0; i < 300; i++) small.insertV4((0x0a000000 + i * 256) | 0, 24, i);
  for (let i = 0; i < 600; i++) {
    small.insertV4(0x0b000000, 24, 1);
    small.removeV4(0x0b000000, 24);
  }
  for (let i = 0; i < 300; i++) small.insertV6([0x20010db8, i, 0, 0], 64, i);
  for (let i = 0; i < 600; i++) {
    small.insertV6([0x20010db9, 0, 0, 0], 64, 1);
    small.removeV6([0x20010db9, 0, 0, 0], 64);
  }
  t.equal(small.bytes, tableBytes(small), '300 entries of each family, 600 deletions each: no filter');
  // Deletions rebuild the filters once they outnumber both 512 and the entries left: with n
  // entries, the first rebuild comes at deletion max(513, floor(n / 2) + 1).
  const rebuiltAt = (family: 4 | 6, n: number, removals: number): PrefixIndex => {
    const index = new PrefixIndex();
    const key = (i: number): [number, number, number, number] => [0x20010db8, i, 0, 0];
    for (let i = 0; i < n; i++) {
      if (family === 4) index.insertV4((0x0a000000 + i * 256) | 0, 24, i);
      else index.insertV6(key(i), 64, i);
    }
    for (let i = 0; i < removals; i++) {
      if (family === 4) index.removeV4((0x0a000000 + i * 256) | 0, 24);
      else index.removeV6(key(i), 64);
    }
    return index;
  };
  for (const [family, sum] of [
    [4, SUM4],
    [6, SUM6],
  ] as const) {
    let index = rebuiltAt(family, 256 + 513, 513);
    t.equal(index.bytes, tableBytes(index) + sum, `IPv${family}: 256 entries at the rebuild: summary kept`);
    index = rebuiltAt(family, 255 + 513, 513);
    t.equal(index.bytes, tableBytes(index), `IPv${family}: 255: dropped`);
    index = rebuiltAt(family, 16386, 8194);
    t.equal(index.bytes, tableBytes(index) + sum + OCC, `IPv${family}: 8192 entries at the rebuild: bitmap kept`);
    t.equal(index.matchHead(family === 4 ? '10.63.255.1' : '2001:db8:0:3fff::1'), 16383, 'found through the rebuilt bitmap');
    index = rebuiltAt(family, 16384, 8193);
    t.equal(index.bytes, tableBytes(index) + sum, `IPv${family}: 8191: bitmap dropped, summary kept`);
    t.equal(index.matchHead(family === 4 ? '10.0.255.1' : '2001:db8:0:ff::1'), NONE, 'deleted');
    t.equal(index.matchHead(family === 4 ? '10.63.255.1' : '2001:db8:0:3fff::1'), 16383, 'kept, found through the rebuilt filters');
  }
});
