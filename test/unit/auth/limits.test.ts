// The failed-login limiter and the revocation store at their bounds.
import t from 'tap';
import { FailureLimiter } from '../../../src/auth/limiter';
import { RevocationStore } from '../../../src/auth/revocations';

t.test('the default: 5 failures within a minute block for 5 minutes', async (t) => {
  const l = new FailureLimiter();
  for (let i = 0; i < 4; i++) t.notOk(l.fail('a', i * 10_000));
  t.ok(l.fail('a', 59_999));
  t.equal(l.blockedFor('a', 59_999), 300_000);
  const slow = new FailureLimiter();
  for (let i = 0; i < 5; i++) t.notOk(slow.fail('b', i * 15_000), 'one every 15 s: the 5th is a minute after the 1st');
});

t.test('the window: windowMs after its start a new one opens', async (t) => {
  const l = new FailureLimiter({ limit: 2, windowMs: 1000, blockMs: 5000, maxEntries: 10 });
  t.notOk(l.fail('a', 900));
  t.ok(l.fail('a', 950), 'a window that started late still counts');
  const edge = new FailureLimiter({ limit: 2, windowMs: 1000, blockMs: 5000, maxEntries: 10 });
  t.notOk(edge.fail('a', 0));
  t.notOk(edge.fail('a', 1000), 'exactly windowMs later: a new window');
});

t.test('a success does not lift a block', async (t) => {
  const l = new FailureLimiter({ limit: 1, windowMs: 1000, blockMs: 5000, maxEntries: 10 });
  t.ok(l.fail('a', 0));
  l.succeed('a');
  t.equal(l.blockedFor('a', 10), 4990);
});

t.test('bounded: unblocked entries go oldest first, a renewed window counts as new', async (t) => {
  const l = new FailureLimiter({ limit: 2, windowMs: 1000, blockMs: 5000, maxEntries: 2 });
  l.fail('a', 0);
  l.fail('b', 0);
  l.fail('a', 2000); // a new window: a is now the newest
  l.fail('c', 2000); // over the bound: b, the oldest, goes
  t.equal(l.size, 2);
  t.ok(l.fail('a', 2001), "a's failure at 2000 was kept");
  t.ok(l.fail('c', 2001), "c's failure at 2000 was kept");
  t.notOk(l.fail('b', 2001), "b's was dropped");
});

t.test('bounded: an entry whose window starts again counts as the newest, even while blocked', async (t) => {
  const l = new FailureLimiter({ limit: 2, windowMs: 2000, blockMs: 5000, maxEntries: 3 });
  l.fail('a', 0);
  t.ok(l.fail('a', 1), 'a blocked until 5001');
  l.fail('b', 1500);
  l.fail('c', 1500);
  l.fail('a', 2100); // a's window starts again: a moves behind b and c, the table has room
  t.equal(l.size, 3);
  t.ok(l.fail('b', 2200), "b's failure at 1500 was kept");
});

t.test('bounded: blocked entries stay while unblocked ones can go, and up to twice the bound', async (t) => {
  const two = new FailureLimiter({ limit: 2, windowMs: 1000, blockMs: 5000, maxEntries: 2 });
  two.fail('x', 0);
  t.ok(two.fail('x', 1), 'x blocked until 5001');
  two.fail('y', 2);
  two.fail('z', 3); // over the bound: y goes, not the blocked x
  t.ok(two.blockedFor('x', 3) > 0);
  t.ok(two.fail('z', 4), "z's failure kept");
  const expired = new FailureLimiter({ limit: 2, windowMs: 100, blockMs: 1000, maxEntries: 2 });
  expired.fail('x', 0);
  expired.fail('x', 0); // blocked until 1000
  expired.fail('y', 500);
  expired.fail('z', 1000); // over the bound at 1000: x's block has just ended, x goes first
  t.ok(expired.fail('y', 550), "y's failure kept");
  const all = new FailureLimiter({ limit: 1, windowMs: 1000, blockMs: 60_000, maxEntries: 2 });
  for (let i = 0; i < 10; i++) all.fail(`ip${i}`, i);
  t.equal(all.size, 4, 'all blocked: twice the bound');
  t.ok(all.blockedFor('ip9', 10) > 0, 'a new address is still blocked when the table is full of blocked ones');
  t.same(
    Array.from({ length: 10 }, (_, i) => all.blockedFor(`ip${i}`, 10) > 0),
    [false, false, false, false, false, false, true, true, true, true],
    'the newest blocks are kept',
  );
});

t.test('revocations: expired ones go first, wherever they are, then the oldest', async (t) => {
  const r = new RevocationStore(3);
  r.revoke('a', 300, 0);
  r.revoke('b', 150, 0);
  r.revoke('c', 300, 0);
  r.revoke('d', 400, 150);
  t.same(
    ['a', 'b', 'c', 'd'].map((id) => r.has(id)),
    [true, false, true, true],
    'b expired at 150',
  );
  const full = new RevocationStore(3);
  for (const id of ['a', 'b', 'c', 'd']) full.revoke(id, 1000, 0);
  t.same(
    ['a', 'b', 'c', 'd'].map((id) => full.has(id)),
    [false, true, true, true],
    'none expired: the oldest',
  );
  full.revoke('e', 1000, 0);
  t.same(
    ['b', 'c', 'd', 'e'].map((id) => full.has(id)),
    [false, true, true, true],
    'never more than the bound',
  );
});
