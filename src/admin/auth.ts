// Who may use the admin UI and API, and whether a mutation really comes from our page.
//
// - No --admin-token (only allowed on a loopback address): everyone who can reach the socket; the
//   Host header must then name a loopback host, so a DNS-rebinding page cannot read the API.
// - --admin-token: `Authorization: Bearer <token>` (scripts) or the session cookie set by the
//   login form (browsers). The cookie holds an HMAC of the token, never the token itself.
// - Mutations by cookie (or without a token) need the X-CSRF-Token header and, when the browser
//   sends Origin, an Origin equal to the Host the request was sent to. Bearer requests are exempt:
//   a browser never adds that header on its own.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

export const SESSION_COOKIE = 'nbp_session';
export const CSRF_HEADER = 'x-csrf-token';

export type AuthResult = { ok: true; via: 'bearer' | 'cookie' | 'open' } | { ok: false; why: string };

export class AdminAuth {
  private readonly secret: Buffer;
  private readonly session: string | undefined;
  readonly csrfToken: string;

  constructor(private readonly token: string | undefined) {
    // Without a token the CSRF token only has to be unguessable for other origins: random per process.
    this.secret = token === undefined ? randomBytes(32) : Buffer.from(token, 'utf8');
    this.session = token === undefined ? undefined : this.mac('session-v1');
    this.csrfToken = this.mac('csrf-v1');
  }

  get required(): boolean {
    return this.token !== undefined;
  }

  private mac(label: string): string {
    return createHmac('sha256', this.secret).update(label).digest('base64url');
  }

  authenticate(req: IncomingMessage): AuthResult {
    if (this.token === undefined) {
      return isLoopbackHost(req.headers.host)
        ? { ok: true, via: 'open' }
        : { ok: false, why: 'the Host header must name a loopback address when no --admin-token is set' };
    }
    const authz = req.headers.authorization;
    if (authz !== undefined) {
      const m = /^Bearer\s+(.+)$/i.exec(authz);
      if (m !== null && safeEqual(m[1]?.trim() ?? '', this.token)) return { ok: true, via: 'bearer' };
      return { ok: false, why: 'invalid bearer token' };
    }
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie !== undefined && this.session !== undefined && safeEqual(cookie, this.session)) return { ok: true, via: 'cookie' };
    return { ok: false, why: 'authentication required' };
  }

  checkLogin(submitted: string): boolean {
    return this.token !== undefined && safeEqual(submitted, this.token);
  }

  sessionCookie(): string {
    return `${SESSION_COOKIE}=${this.session ?? ''}; Path=/; HttpOnly; SameSite=Strict`;
  }

  static clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  /** Undefined when the mutation may proceed, else why not. */
  checkMutation(req: IncomingMessage, via: 'bearer' | 'cookie' | 'open'): string | undefined {
    if (via === 'bearer') return undefined;
    const originProblem = checkOrigin(req);
    if (originProblem !== undefined) return originProblem;
    const header = req.headers[CSRF_HEADER];
    if (typeof header !== 'string' || !safeEqual(header, this.csrfToken)) return `missing or wrong ${CSRF_HEADER} header (GET /api/session gives it)`;
    return undefined;
  }
}

/** Origin, when sent, must be this very admin listener (scheme http, same host:port). */
export function checkOrigin(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  if (origin === undefined) return undefined;
  const host = req.headers.host;
  if (host === undefined || origin !== `http://${host}`) return `cross-origin request refused (Origin ${origin})`;
  return undefined;
}

export function isLoopbackHost(hostHeader: string | undefined): boolean {
  if (hostHeader === undefined) return false;
  const host = hostHeader
    .replace(/:\d+$/, '')
    .replace(/^\[(.*)\]$/, '$1')
    .toLowerCase();
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

function safeEqual(a: string, b: string): boolean {
  const x = createHmac('sha256', 'cmp').update(a).digest();
  const y = createHmac('sha256', 'cmp').update(b).digest();
  return timingSafeEqual(x, y);
}
