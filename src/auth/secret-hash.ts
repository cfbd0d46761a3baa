// Password and PIN hashes: `$scrypt$N=<n>,r=<r>,p=<p>$<salt>$<key>` (base64 without padding), made
// and checked with node:crypto's scrypt off the event loop. `netbird-proxy hash-password` prints one.
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const DEFAULTS = { N: 1 << 15, r: 8, p: 1 };
const KEY_BYTES = 32;
const HASH_RE = /^\$scrypt\$N=(\d+),r=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

export interface ParsedHash {
  N: number;
  r: number;
  p: number;
  salt: Buffer;
  key: Buffer;
}

function derive(secret: string, salt: Buffer, bytes: number, o: { N: number; r: number; p: number }): Promise<Buffer> {
  const options: ScryptOptions = { N: o.N, r: o.r, p: o.p, maxmem: 256 * o.N * o.r + 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(secret.normalize('NFC'), salt, bytes, options, (err, key) => (err ? reject(err) : resolve(key))));
}

const b64 = (b: Buffer): string => b.toString('base64').replace(/=+$/, '');

export async function hashSecret(secret: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(secret, salt, KEY_BYTES, DEFAULTS);
  return `$scrypt$N=${DEFAULTS.N},r=${DEFAULTS.r},p=${DEFAULTS.p}$${b64(salt)}$${b64(key)}`;
}

/** The hash's parts, or why it is not one this proxy can check. */
export function parseHash(text: string): ParsedHash | { error: string } {
  const m = HASH_RE.exec(text);
  if (m === null) return { error: 'is not a $scrypt$N=...,r=...,p=...$salt$key hash (run `netbird-proxy hash-password`)' };
  const N = Number(m[1]);
  const r = Number(m[2]);
  const p = Number(m[3]);
  if (N < 1024 || N > 1 << 20 || (N & (N - 1)) !== 0) return { error: 'has an N that is not a power of two from 1024 to 1048576' };
  if (r < 1 || r > 32 || p < 1 || p > 16) return { error: 'has r or p out of range (r 1..32, p 1..16)' };
  const salt = Buffer.from(m[4] ?? '', 'base64');
  const key = Buffer.from(m[5] ?? '', 'base64');
  if (salt.length < 8 || key.length < 16) return { error: 'has a salt or key that is too short' };
  return { N, r, p, salt, key };
}

export async function verifySecret(secret: string, hash: ParsedHash): Promise<boolean> {
  const key = await derive(secret, hash.salt, hash.key.length, hash);
  return timingSafeEqual(key, hash.key);
}
