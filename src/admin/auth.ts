// Who may use the admin UI and API, and whether a mutation really comes from our page.
//
// - No --admin-token (only allowed on a loopback address): everyone who can reach the socket; the
//   Host header must then name a loopback host, so a DNS-rebinding page cannot read the API.
// - --admin-token: `Authorization: Bearer <token>` (scripts) or the session cookie set by the
//   login form (browsers). The cookie holds a random session id (sessions.ts), never the token:
//   it expires, logout revokes it, a restart (and so a new token) revokes them all.
// - Mutations by cookie (or without a token) need the X-CSRF-Token header and, when the browser
//   sends Origin, an Origin equal to the Host the request was sent to. Bearer requests are exempt:
//   a browser never adds that header on its own.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { SessionStore, type Session } from './sessions';

export const SESSION_COOKIE = 'nbp_session';
export const CSRF_HEADER = 'x-csrf-token';

export type AuthResult = { ok: true; via: 'bearer' | 'open' } | { ok: true; via: 'cookie'; session: Session } | { ok: false; why: string };
export type Authenticated = Extract<AuthResult, { ok: true }>;

export class AdminAuth {
  private readonly secret = randomBytes(32);
  private readonly csrfToken: string;
  readonly sessions: SessionStore;

  constructor(
    private readonly token: string | undefined,
    sessions = new SessionStore(),
  ) {
    // The CSRF token only has to be unguessable for other origins: keyed by a per-process secret,
    // and by the session when there is one.
    this.csrfToken = this.mac('csrf-v1');
    this.sessions = sessions;
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
    const session = cookie === undefined || cookie === '' ? undefined : this.sessions.get(cookie);
    if (session !== undefined) return { ok: true, via: 'cookie', session };
    return { ok: false, why: cookie === undefined ? 'authentication required' : 'the session has expired or was signed out: log in again' };
  }

  /** The CSRF token for this caller: bound to the session when signed in by cookie. */
  csrfFor(who: Authenticated): string {
    return who.via === 'cookie' ? this.mac(`csrf-v1:${who.session.id}`) : this.csrfToken;
  }

  checkLogin(submitted: string): boolean {
    return this.token !== undefined && safeEqual(submitted, this.token);
  }

  /** Starts a session (after checkLogin) and returns its Set-Cookie value. */
  login(): string {
    const session = this.sessions.create();
    const maxAge = Math.max(0, Math.floor((session.expiresAt - Date.now()) / 1000));
    return `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAge}`;
  }

  /** Revokes the session the request's cookie names, if any. */
  logout(req: IncomingMessage): void {
    const cookie = readCookie(req.headers.cookie, SESSION_COOKIE);
    if (cookie !== undefined) this.sessions.revoke(cookie);
  }

  static clearCookie(): string {
    return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0`;
  }

  /** Undefined when the mutation may proceed, else why not. */
  checkMutation(req: IncomingMessage, who: Authenticated): string | undefined {
    if (who.via === 'bearer') return undefined;
    const originProblem = checkOrigin(req);
    if (originProblem !== undefined) return originProblem;
    const header = req.headers[CSRF_HEADER];
    if (typeof header !== 'string' || !safeEqual(header, this.csrfFor(who))) return `missing or wrong ${CSRF_HEADER} header (GET /api/session gives it)`;
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
