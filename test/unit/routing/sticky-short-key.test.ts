// A sticky key too short to be a secret (under 32 characters) is not used: a new one is made and
// put in the environment for the workers.
import { createHmac } from 'node:crypto';
import t from 'tap';

process.env.NETBIRD_PROXY_INTERNAL_STICKY_KEY = 'short';

t.test('a short key is replaced', async (t) => {
  const { stickyId } = await import('../../../src/routing/sticky');
  const key = process.env.NETBIRD_PROXY_INTERNAL_STICKY_KEY ?? '';
  t.not(key, 'short');
  t.ok(key.length >= 32, 'the new key is at least 32 characters');
  t.equal(stickyId('s', 't'), createHmac('sha256', key).update('s\nt').digest('base64url').slice(0, 22), 'ids use the new key');
});
