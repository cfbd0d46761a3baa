// Memory as documented in bucket-table.ts and prefix-index.ts: bucket strides, load at most 3/4,
// shrinking below 1/8, summary filters from 512 entries of a family and the 2 MB occupancy bitmap
// from 16384, dropped again when the family shrinks. What /status reports as the store's bytes.
import t from 'tap';
import { BucketTable, NONE } from '../../../src/net/bucket-table';
import { PrefixIndex } from '../../../src/net/prefix-index';

t.test('bucket strides: head, payload, key words; even with a payload', async (t) => {
  t.equal(new BucketTable(1, 0).stride, 2);
  t.equal(new BucketTable(2, 0).stride, 3, 'odd without a payload');
  t.equal(new BucketTable(1, 5).stride, 8, '1 + 5 + 1 rounded up to even');
  t.equal(new BucketTable(4, 5).stride, 10);
  t.equal(new BucketTable(1, 5).keyOff, 6);
  t.equal(new BucketTable(1, 0).bytes, 8 * 2 * 4, '8 buckets to start');
});

t.test('load at most 3/4, shrink below 1/8', async (t) => {
  const b = new BucketTable(1, 0);
  for (let k = 1; k <= 6; k++) b.insert(k, 0, 0, 0, k);
  t.equal(b.bytes, 64, '6 of 8');
  b.insert(7, 0, 0, 0, 7);
  t.equal(b.bytes, 128, 'the 7th doubles');
  for (let k = 8; k <= 12; k++) b.insert(k, 0, 0, 0, k);
  t.equal(b.bytes, 128, '12 of 16');
  b.insert(13, 0, 0, 0, 13);
  t.equal(b.bytes, 256);
  for (let k = 13; k >= 5; k--) b.removeAt(b.find(k, 0, 0, 0));
  t.equal(b.bytes, 256, '4 of 32: not below 1/8');
  b.removeAt(b.find(4, 0, 0, 0));
  t.equal(b.bytes, 128, '3 of 32: halved');
  b.removeAt(b.find(3, 0, 0, 0));
  t.equal(b.bytes, 128, '2 of 16: not below 1/8');
  b.removeAt(b.find(2, 0, 0, 0));
  t.equal(b.bytes, 64, '1 of 16: halved');
  b.removeAt(b.find(1, 0, 0, 0));
  t.equal(b.bytes, 64, 'never below 8 buckets');
  t.equal(b.size, 0);
  t.equal(b.find(1, 0, 0, 0), NONE);
});

t.test('every key stays reachable through growth, shrinking and backward-shift deletion', async (t) => {
  for (const words of [1, 2, 3, 4]) {
    const b = new BucketTable(words, 1);
    const key = (i: number): [number, number, number, number] => [words === 1 ? i : i & 3, words > 1 ? i >> 2 : 0, words > 2 ? i * 7 : 0, words > 3 ? -i : 0];
    for (let i = 0; i < 200; i++) b.insert(...key(i), i);
    let wrong = 0;
    for (let i = 0; i < 200; i += 2) b.removeAt(b.find(...key(i)));
    for (let i = 0; i < 200; i++) {
      const off = b.find(...key(i));
      if (i % 2 === 0 ? off !== NONE : off === NONE || b.buf[off] !== i || b.keyWord(off, 0) !== (words === 1 ? i : i & 3)) wrong++;
    }
    t.equal(wrong, 0, `${words} word(s)`);
    t.equal(b.size, 100);
    t.equal(b.keyWord(b.find(...key(1)), 3), words > 3 ? -1 : 0, 'key words beyond the table read 0');
  }
});

t.test('summary filters from 512 entries of a family, the bitmap from 16384', async (t) => {
  const index = new PrefixIndex();
  const tables = (): number => {
    let n = 0;
    index.forEachTable((table) => (n += table.bytes));
    return n;
  };
  for (let i = 0; i < 511; i++) index.insertV4((0x0a000000 + i * 256) | 0, 24, i);
  t.equal(index.bytes, tables(), '511 entries: tables only');
  index.insertV4(0x0b000000, 24, 511);
  t.equal(index.bytes, tables() + 65536 * 4, '512: one word per /16');
  for (let i = 0; i < 511; i++) index.insertV6([0x20010db8, i, 0, 0], 64, i);
  t.equal(index.bytes, tables() + 65536 * 4, 'the IPv6 family counts on its own');
  index.insertV6([0x20010db8, 511, 0, 0], 64, 511);
  t.equal(index.bytes, tables() + 65536 * 4 + (1 << 17) * 4, '512 IPv6 entries: their own summary');
  for (let i = 512; i < 16383; i++) index.insertV4((0x0c000000 + i * 256) | 0, 24, i);
  t.equal(index.bytes, tables() + 65536 * 4 + (1 << 17) * 4, '16383 IPv4 entries: no bitmap yet');
  index.insertV4(0x0d000000, 24, 16383);
  t.equal(index.bytes, tables() + 65536 * 4 + (1 << 17) * 4 + (1 << 19) * 4, '16384: the 2 MB bitmap');
  t.equal(index.matchHead('10.0.1.9'), 1, 'lookups go through the filters');
  t.equal(index.matchHead('11.0.0.1'), 511);
  t.equal(index.matchHead('12.0.3.0'), NONE, 'below the first inserted /24 of 12.0.0.0');
  t.equal(index.matchHead('2001:db8:0:5::1'), 5);
  index.clear();
  t.equal(index.bytes, 0);
});

t.test('the filters are rebuilt once deletions outnumber the entries, and dropped under 256', async (t) => {
  const index = new PrefixIndex();
  for (let i = 0; i < 512; i++) index.insertV4((0x0a000000 + i * 256) | 0, 24, i);
  const filtered = index.bytes;
  for (let i = 0; i < 400; i++) index.removeV4((0x0a000000 + i * 256) | 0, 24);
  const extra = 0x0b000000;
  // 400 deletions so far; 112 more (each after an insert) make 512: not more than the 512 minimum.
  for (let i = 0; i < 112; i++) {
    index.insertV4(extra, 24, 1);
    index.removeV4(extra, 24);
  }
  let tablesBytes = 0;
  index.forEachTable((table) => (tablesBytes += table.bytes));
  t.equal(index.bytes, tablesBytes + 65536 * 4, '512 deletions: the summary is kept');
  index.insertV4(extra, 24, 1);
  index.removeV4(extra, 24);
  tablesBytes = 0;
  index.forEachTable((table) => (tablesBytes += table.bytes));
  t.equal(index.bytes, tablesBytes, '513: rebuilt, and with 112 entries left it is dropped');
  t.ok(filtered > index.bytes);
  t.equal(index.matchHead('10.1.144.1'), 400, 'still found without filters');
  t.equal(index.matchHead('10.0.1.1'), NONE, 'removed');
});
