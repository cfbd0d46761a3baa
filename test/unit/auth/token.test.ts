// Session tokens at their edges: the format, the size limit, a token signed with the right key but
// of another shape, the expiry field, and the identity's groups.
import { createHmac } from 'node:crypto';
import t from 'tap';
import { signPayload, signSession, verifyPayload, verifySession } from '../../../src/auth/token';

const KEY = Buffer.from('unit-test-key-unit-test-key-unit-test-key');
const NOW = 1_800_000_000_000;
const EXP = String(NOW / 1000 + 60);
const body = (payload: unknown): string => Buffer.from(JSON.stringify(payload)).toString('base64url');

/** A token with a valid MAC over any text: what a holder of the key (or a bug) could produce. */
function forge(kind: string, service: string, signed: string): string {
  return `${signed}.${createHmac('sha256', KEY).update(`${kind}\n${service}\n${signed}`).digest('base64url')}`;
}

t.test('the format: v1.<id>.<expiry seconds>.<payload>.<mac>', async (t) => {
  const token = signPayload(KEY, 'o', 'web', 'id1', NOW + 60_000, { a: 1 });
  t.equal(token, forge('o', 'web', `v1.id1.${EXP}.${body({ a: 1 })}`));
  t.same(verifyPayload(KEY, 'o', 'web', forge('o', 'web', `v1.id1.${EXP}.${body({ a: 1 })}`), NOW), { id: 'id1', expiresMs: NOW + 60_000, payload: { a: 1 } });
});

t.test('a valid MAC over another shape is refused', async (t) => {
  const payload = body({ u: 'alice', e: 'a@x', g: [] });
  t.equal(verifySession(KEY, 'web', forge('s', 'web', `v2.id.${EXP}.${payload}`), NOW), undefined, 'another version');
  t.equal(verifySession(KEY, 'web', forge('s', 'web', `v1.id.${EXP}.${payload}.extra`), NOW), undefined, 'five parts');
  t.equal(verifySession(KEY, 'web', forge('s', 'web', `v1.id.${EXP}`), NOW), undefined, 'three parts');
  for (const expiry of ['x', `x${EXP}`, `${EXP}x`, '', '1234567890123', '-1'])
    t.equal(verifySession(KEY, 'web', forge('s', 'web', `v1.id.${expiry}.${payload}`), NOW), undefined, `expiry ${JSON.stringify(expiry)}`);
  t.equal(verifySession(KEY, 'web', forge('s', 'web', `v1.id.${EXP}.${body('alice')}`), NOW), undefined, 'a payload that is not an object');
  t.equal(verifySession(KEY, 'web', forge('s', 'web', `v1.id.${EXP}.${body({ u: 'a', e: 'b', g: 'admins' })}`), NOW), undefined, 'groups not a list');
  t.equal(verifySession(KEY, 'web', forge('s', 'web', `v1.id.${EXP}.!!`), NOW), undefined, 'a payload that is not JSON');
});

t.test('groups that are not strings are dropped', async (t) => {
  const token = signPayload(KEY, 's', 'web', 'id', NOW + 60_000, { u: 'alice', e: 'a@x', g: ['admins', 1, null, { x: 1 }, 'ops'] });
  t.same(verifySession(KEY, 'web', token, NOW)?.identity, { user: 'alice', email: 'a@x', groups: ['admins', 'ops'] });
});

t.test('tokens of up to 8192 characters', async (t) => {
  const at = (length: number): string => {
    const probe = signSession(KEY, 'web', { id: 'x', expiresMs: NOW + 60_000, identity: { user: 'u', email: 'e', groups: [] } });
    return signSession(KEY, 'web', { id: 'x'.repeat(1 + length - probe.length), expiresMs: NOW + 60_000, identity: { user: 'u', email: 'e', groups: [] } });
  };
  const longest = at(8192);
  t.equal(longest.length, 8192);
  t.not(verifySession(KEY, 'web', longest, NOW), undefined, '8192: accepted');
  const over = at(8193);
  t.equal(over.length, 8193);
  t.equal(verifySession(KEY, 'web', over, NOW), undefined, '8193: refused before any MAC is computed');
});
