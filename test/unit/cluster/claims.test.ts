// Challenge solutions claimed group-wide: the worker's side answers each claim with the primary's
// answer for that id, and refuses (never accepts) when the message cannot be sent.
import t from 'tap';
import { ReplayStore } from '../../../src/challenge/core';
import { PrimaryClaims } from '../../../src/cluster/claims';
import type { FromWorker } from '../../../src/cluster/messages';

t.test('each claim gets the answer for its own id', async (t) => {
  const sent: FromWorker[] = [];
  const claims = new PrimaryClaims((m) => sent.push(m) > 0);
  const a = claims.claim('key-a', 2000);
  const b = claims.claim('key-b', 3000);
  t.same(sent, [
    { t: 'claim', id: 1, key: 'key-a', expiresMs: 2000 },
    { t: 'claim', id: 2, key: 'key-b', expiresMs: 3000 },
  ]);
  claims.answered(2, false);
  claims.answered(1, true);
  claims.answered(1, false); // a late duplicate changes nothing
  t.same(await Promise.all([a, b]), [true, false]);
});

t.test('no channel to the primary: refused', async (t) => {
  const claims = new PrimaryClaims(() => false);
  t.equal(await claims.claim('key', 2000), false);
});

t.test("the primary's store: the first claim of a key wins until it expires", async (t) => {
  const group = new ReplayStore();
  t.equal(group.claim('k', 2000, 1000), true);
  t.equal(group.claim('k', 2000, 1500), false, 'a replay from any worker');
  t.equal(group.claim('other', 2000, 1500), true);
});
