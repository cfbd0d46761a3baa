import t from 'tap';
import { newRequestId, requestIdFor } from '../../../src/listeners/request-id';
import { toClientAddress } from '../../../src/client-ip/peer';

const address = toClientAddress('10.0.0.1');
if (address === undefined) throw new Error('address');
const trusted = { address, trusted: true };
const untrusted = { address, trusted: false };

t.test('generated ids: one process prefix, then a counter; all distinct', async (t) => {
  const ids = Array.from({ length: 1000 }, () => newRequestId());
  t.equal(new Set(ids).size, ids.length);
  const prefix = /^([0-9a-f]{12})-[0-9a-z]+$/.exec(ids[0] ?? '')?.[1];
  t.ok(prefix, ids[0]);
  t.ok(ids.every((id) => id.startsWith(`${prefix}-`)));
});

t.test("a client's X-Request-Id is kept only from a trusted peer, and only when sane", async (t) => {
  t.equal(requestIdFor(trusted, 'edge-4f2a.7_x'), 'edge-4f2a.7_x');
  t.not(requestIdFor(untrusted, 'edge-4f2a.7_x'), 'edge-4f2a.7_x', 'an untrusted client cannot choose its id');
  t.not(requestIdFor(trusted, 'a'.repeat(129)), 'a'.repeat(129), 'longer than 128');
  t.equal(requestIdFor(trusted, 'a'.repeat(128)), 'a'.repeat(128));
  for (const bad of ['', 'a b', 'a,b', 'x\u00e9', '<script>', 'a/b']) t.not(requestIdFor(trusted, bad), bad, JSON.stringify(bad));
  t.match(requestIdFor(trusted, ['a', 'b']), /^[0-9a-f]{12}-/, 'repeated header: generated');
  t.match(requestIdFor(trusted, undefined), /^[0-9a-f]{12}-/);
});
