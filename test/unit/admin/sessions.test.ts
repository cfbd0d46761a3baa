// The admin session store with a hand-driven clock: expiry, revocation, the cap.
import t from 'tap';
import { SESSION_TTL_MS, SessionStore } from '../../../src/admin/sessions';

t.test('a session lives until its expiry, then is gone', async (t) => {
  let now = 1_000;
  const store = new SessionStore(100, 10, () => now);
  const s = store.create();
  t.equal(s.expiresAt, 1_100);
  t.match(s.id, /^[A-Za-z0-9_-]{43}$/, '32 random bytes');
  now = 1_099;
  t.equal(store.get(s.id), s, 'one ms before');
  now = 1_100;
  t.equal(store.get(s.id), undefined, 'at the expiry');
  t.equal(store.size, 0, 'and removed');
});

t.test('revoke, revokeAll, unknown ids', async (t) => {
  const store = new SessionStore(1_000, 10, () => 0);
  const a = store.create();
  const b = store.create();
  t.not(a.id, b.id);
  t.equal(store.get('nope'), undefined);
  t.equal(store.revoke(a.id), true);
  t.equal(store.revoke(a.id), false, 'once');
  t.equal(store.get(a.id), undefined);
  t.equal(store.get(b.id), b);
  store.revokeAll();
  t.equal(store.get(b.id), undefined);
});

t.test('past the cap the oldest goes; expired ones go first', async (t) => {
  let now = 0;
  const store = new SessionStore(100, 3, () => now);
  const [a, b, c] = [store.create(), store.create(), store.create()];
  const d = store.create();
  t.equal(store.size, 3);
  t.equal(store.get(a.id), undefined, 'the oldest was revoked');
  t.same(
    [b, c, d].map((s) => store.get(s.id) === s),
    [true, true, true],
  );
  now = 100; // b, c, d expire at this very moment
  store.create();
  t.equal(store.size, 1, 'a session is swept at its expiry time');
  t.equal(SESSION_TTL_MS, 12 * 3_600_000, 'the default lifetime is 12 hours');
  now = 250; // everything expired
  const e = store.create();
  t.equal(store.size, 1, 'expired sessions are swept when a new one starts');
  t.equal(store.get(e.id), e);
});
