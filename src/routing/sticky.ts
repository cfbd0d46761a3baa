// The sticky cookie of `balance: cookie`: its value is an opaque id of the target, an HMAC of the
// target under a key of this proxy, so it names no address and cannot be forged for a target the
// proxy did not hand out. The key is made once per proxy start and shared with the workers of
// --workers through the environment they inherit (a cookie from before a restart is simply
// replaced: the client is balanced anew).
import { createHmac, randomBytes } from 'node:crypto';

export const STICKY_COOKIE = 'nbp_sticky';
const KEY_ENV = 'NETBIRD_PROXY_INTERNAL_STICKY_KEY';

function key(): string {
  let k = process.env[KEY_ENV];
  if (k === undefined || k.length < 32) {
    k = randomBytes(32).toString('base64url');
    process.env[KEY_ENV] = k;
  }
  return k;
}
// Made when this module loads, so that a primary has it in its environment before it forks.
const KEY = key();

/** The opaque id of target `target` in the pool `scope` (service and route). */
export function stickyId(scope: string, target: string): string {
  return createHmac('sha256', KEY).update(`${scope}\n${target}`).digest('base64url').slice(0, 22);
}

/** Each value of the sticky cookie in a Cookie header (a nested route's cookie may be sent too). */
export function stickyValues(header: string | undefined, out: string[]): string[] {
  out.length = 0;
  if (header === undefined) return out;
  let at = header.indexOf(STICKY_COOKIE);
  while (at >= 0) {
    const before = at === 0 ? ' ' : header.charAt(at - 1);
    if ((before === ' ' || before === ';') && header.charAt(at + STICKY_COOKIE.length) === '=') {
      const start = at + STICKY_COOKIE.length + 1;
      const end = header.indexOf(';', start);
      out.push(header.slice(start, end < 0 ? header.length : end).trim());
    }
    at = header.indexOf(STICKY_COOKIE, at + 1);
  }
  return out;
}

/** The Set-Cookie for a target chosen for a client without a valid cookie. */
export function stickySetCookie(id: string, path: string, secure: boolean): string {
  return `${STICKY_COOKIE}=${id}; Path=${path}; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
}
