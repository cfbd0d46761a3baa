// scrypt hashes: checked against node:crypto's scrypt with the hash's own parameters, and every
// bound of parseHash.
import { scryptSync } from 'node:crypto';
import t from 'tap';
import { hashSecret, parseHash, verifySecret } from '../../../src/auth/secret-hash';

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');
const SALT = Buffer.from('0123456789abcdef');

t.test("a hash made elsewhere with small parameters verifies: the hash's N, r and p are used", async (t) => {
  const key = scryptSync('pin-1234', SALT, 32, { N: 1024, r: 1, p: 1 });
  const parsed = parseHash(`$scrypt$N=1024,r=1,p=1$${b64(SALT)}$${b64(key)}`);
  if ('error' in parsed) throw new Error(parsed.error);
  t.same([parsed.N, parsed.r, parsed.p], [1024, 1, 1]);
  t.ok(await verifySecret('pin-1234', parsed));
  t.notOk(await verifySecret('pin-1235', parsed));
  const p2 = parseHash(`$scrypt$N=1024,r=2,p=2$${b64(SALT)}$${b64(scryptSync('x', SALT, 16, { N: 1024, r: 2, p: 2 }))}`);
  if ('error' in p2) throw new Error(p2.error);
  t.ok(await verifySecret('x', p2), 'a 16-byte key, r 2, p 2');
});

t.test('hashSecret: N=32768, r=8, p=1 as node:crypto computes it', async (t) => {
  const hash = await hashSecret('pässword');
  const parsed = parseHash(hash);
  if ('error' in parsed) throw new Error(parsed.error);
  const want = scryptSync('pässword', parsed.salt, 32, { N: 32768, r: 8, p: 1, maxmem: 64 * 1024 * 1024 });
  t.ok(want.equals(parsed.key));
});

t.test('the bounds of a hash', async (t) => {
  const salt = 'AAAAAAAAAAA'; // 8 bytes
  const key = 'A'.repeat(22); // 16 bytes
  const h = (n: number | string, r: number | string, p: number | string, s = salt, k = key): string => `$scrypt$N=${n},r=${r},p=${p}$${s}$${k}`;
  const ok = (text: string): void => {
    t.notOk('error' in parseHash(text), text);
  };
  const bad = (text: string, why: RegExp): void => {
    t.match(parseHash(text), { error: why }, text);
  };
  ok(h(1024, 1, 1));
  ok(h(1 << 20, 32, 16));
  ok(h(2048, 16, 10));
  bad(h(512, 8, 1), /power of two from 1024/);
  bad(h(3072, 8, 1), /power of two/);
  bad(h(1 << 21, 8, 1), /power of two/);
  bad(h(1024, 0, 1), /r or p out of range/);
  bad(h(1024, 33, 1), /r or p out of range/);
  bad(h(1024, 8, 0), /r or p out of range/);
  bad(h(1024, 8, 17), /r or p out of range/);
  bad(h(1024, 8, 1, 'AAAAAAAAAA'), /salt or key that is too short/);
  bad(h(1024, 8, 1, salt, 'A'.repeat(20)), /salt or key that is too short/);
  bad(`x${h(1024, 8, 1)}`, /is not a \$scrypt\$/);
  bad(`${h(1024, 8, 1)}!`, /is not a \$scrypt\$/);
  bad(h(1024, 8, 1, `${salt}=`), /is not a \$scrypt\$/);
});
