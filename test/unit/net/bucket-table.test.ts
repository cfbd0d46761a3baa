// BucketTable as PrefixIndex relies on it: a hash seeded per table over every key word, keys told
// apart by every word, payload floats and key words kept through growth, nothing written past a key.
import t from 'tap';
import { BucketTable, NONE } from '../../../src/net/bucket-table';

type Key = [number, number, number, number];
/** A key of `words` words (unused words 0, as find/insert require) with word `p` set to `v`. */
function keyOf(words: number, p: number, v: number): Key {
  const k: Key = [7, 0, 0, 0];
  for (let i = 1; i < words; i++) k[i] = 7 * i;
  k[p] = v;
  return k;
}

t.test('each table hashes with its own seed', async (t) => {
  // The same key in 40 fresh 8-bucket tables: one shared hash would put it in the same bucket in
  // all of them (a fixed seed lets a client pick decisions that all collide).
  const offsets = new Set<number>();
  for (let i = 0; i < 40; i++) offsets.add(new BucketTable(1, 0).insert(1, 0, 0, 0, 0));
  t.ok(offsets.size > 1, `${offsets.size} distinct buckets`);
});

t.test('every key word goes into the hash', async (t) => {
  // Two keys differing only in word p: if p were left out of the hash they would share a home
  // bucket, and the second would always land in the bucket right after the first. With p hashed that
  // happens in about 1 table of 8 (other home, or a collision), never in all 40.
  for (const words of [1, 2, 3, 4]) {
    for (let p = 0; p < words; p++) {
      let adjacent = 0;
      for (let i = 0; i < 40; i++) {
        const b = new BucketTable(words, 0);
        const first = b.insert(...keyOf(words, p, 1), 0);
        const second = b.insert(...keyOf(words, p, 2), 0);
        if (second === (first + b.stride) % b.buf.length) adjacent++;
      }
      t.ok(adjacent < 40, `${words} word(s), word ${p}: ${adjacent} of 40 adjacent`);
    }
  }
});

t.test('keys that differ in one word only are told apart', async (t) => {
  for (const words of [1, 2, 3, 4]) {
    for (let p = 0; p < words; p++) {
      const b = new BucketTable(words, 0);
      for (let v = 0; v < 100; v++) b.insert(...keyOf(words, p, v), v);
      let wrong = 0;
      for (let v = 0; v < 100; v++) if (b.buf[b.find(...keyOf(words, p, v))] !== v) wrong++;
      t.equal(wrong, 0, `${words} word(s), word ${p}`);
      t.equal(b.find(...keyOf(words, p, 100)), NONE, 'an absent value of that word');
    }
  }
});

t.test('with and without a payload: keys reachable, key words past the key read 0, heads intact', async (t) => {
  for (const extra of [0, 1, 2]) {
    for (const words of [1, 2, 3, 4]) {
      const b = new BucketTable(words, extra);
      const key = (i: number): Key => [i, words > 1 ? i * 3 : 0, words > 2 ? i * 5 : 0, words > 3 ? -i : 0];
      for (let i = 1; i <= 300; i++) b.insert(...key(i), i);
      for (let i = 1; i <= 300; i += 3) b.removeAt(b.find(...key(i)));
      let wrong = 0;
      for (let i = 1; i <= 300; i++) {
        const off = b.find(...key(i));
        if (i % 3 === 1 ? off !== NONE : off === NONE || b.buf[off] !== i) wrong++;
        else if (off !== NONE) for (let w = 0; w < 4; w++) if (b.keyWord(off, w) !== key(i)[w]) wrong++;
      }
      t.equal(wrong, 0, `${words} word(s), ${extra} payload int(s)`);
      let used = 0;
      for (let off = 0; off < b.buf.length; off += b.stride) if (b.buf[off] !== NONE) used++;
      t.equal(used, b.size, 'as many buckets in use as entries: nothing written into a free bucket');
    }
  }
});

t.test('backward-shift deletion in small tables, clusters wrapping past the last bucket', async (t) => {
  // Six keys in eight buckets, removed one by one: with a new seed each round, clusters wrap around
  // the table's end in many rounds, and every entry after a hole must stay findable from its home.
  let lost = 0;
  for (let round = 0; round < 3000; round++) {
    const b = new BucketTable(1, 0);
    for (let k = 1; k <= 6; k++) b.insert(k, 0, 0, 0, k);
    const removed = new Set<number>();
    for (let r = 1; r <= 6; r++) {
      const gone = ((round + r * 5) % 6) + 1; // 5 and 6 coprime: each key once per round
      b.removeAt(b.find(gone, 0, 0, 0));
      removed.add(gone);
      for (let k = 1; k <= 6; k++) {
        const off = b.find(k, 0, 0, 0);
        if (removed.has(k) ? off !== NONE : off === NONE || b.buf[off] !== k) lost++;
      }
    }
  }
  t.equal(lost, 0);
});

t.test('payload floats survive growth and shrinking', async (t) => {
  // [head, int, float64 over ints 2-3, key]: the decision store's layout.
  const b = new BucketTable(1, 3);
  const exp = (off: number): number => (off + 2) >> 1;
  for (let i = 0; i < 40; i++) b.f64[exp(b.insert(i, 0, 0, 0, 0))] = i + 0.5;
  const grown = b.bytes;
  for (let i = 0; i < 36; i++) b.removeAt(b.find(i, 0, 0, 0));
  let wrong = 0;
  for (let i = 36; i < 40; i++) if (b.f64[exp(b.find(i, 0, 0, 0))] !== i + 0.5) wrong++;
  t.equal(wrong, 0);
  t.ok(grown > 8 * b.stride * 4 && b.bytes < grown, 'grown, then shrunk');
});
