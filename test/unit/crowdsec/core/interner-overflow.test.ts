import t from 'tap';
import { Interner } from '../../../../src/crowdsec/core/interner';
import { NIL, OverflowRecords } from '../../../../src/crowdsec/core/overflow';

t.test('Interner: one id per string, counted references, ids recycled', async (t) => {
  const i = new Interner();
  const seen: string[] = [];
  const ban = i.acquire('ban', (_id, s) => seen.push(s));
  t.equal(
    i.acquire('ban', (_id, s) => seen.push(s)),
    ban,
    'same string, same id',
  );
  t.same(seen, ['ban'], 'onNew only for a fresh id');
  const captcha = i.acquire('captcha');
  t.not(captcha, ban);
  t.equal(i.size, 2);
  t.equal(i.strs[ban], 'ban');

  i.release(ban);
  t.equal(i.idOf('ban'), ban, 'still held by one reference');
  i.release(ban);
  t.equal(i.idOf('ban'), undefined, 'gone with its last reference');
  t.equal(i.size, 1);
  t.equal(i.acquire('throttle'), ban, 'the freed id is reused');
  t.equal(i.strs[ban], 'throttle');

  const swapped = i.swap(captcha, 'crowdsec');
  t.equal(i.idOf('captcha'), undefined, 'swap drops the old reference');
  t.equal(i.strs[swapped], 'crowdsec');
  t.equal(i.swap(swapped, 'crowdsec'), swapped, 'swapping to the same string keeps it');
  t.equal(i.idOf('crowdsec'), swapped);
});

t.test('OverflowRecords: fields, chains, free list, growth', async (t) => {
  const o = new OverflowRecords();
  t.equal(o.bytes, 0, 'no buffer until the first record');
  const a = o.alloc(1.5e12, 1, 2, 3, NIL);
  const b = o.alloc(2.5e12, 4, 5, 6, a);
  t.same([o.expiresAt(b), o.type(b), o.origin(b), o.scenario(b), o.next(b)], [2.5e12, 4, 5, 6, a]);
  t.equal(o.next(a), NIL);
  t.equal(o.bytes, 64 * 32, 'first buffer holds 64 records of 32 bytes');

  o.setExpiresAt(a, 9e12);
  o.setOrigin(a, 7);
  o.setScenario(a, 8);
  o.setNext(b, NIL);
  t.same([o.expiresAt(a), o.origin(a), o.scenario(a), o.next(b)], [9e12, 7, 8, NIL]);

  o.free(a);
  t.equal(o.alloc(1, 1, 1, 1, NIL), a, 'a freed record is handed out again');

  const all = [b, a];
  for (let k = 0; k < 100; k++) all.push(o.alloc(k, k, k + 1, k + 2, all[all.length - 1]));
  t.equal(o.bytes, 128 * 32, 'doubled when full');
  t.same([o.expiresAt(b), o.type(b)], [2.5e12, 4], 'records survive the growth');
  const last = all[all.length - 1];
  t.same([o.expiresAt(last), o.type(last), o.origin(last), o.scenario(last), o.next(last)], [99, 99, 100, 101, all[all.length - 2]]);

  o.clear();
  t.equal(o.bytes, 0, 'clear releases the buffer');
  t.equal(o.alloc(1, 1, 1, 1, NIL), 0, 'and starts over at slot 0');
});
