// The auth layer of the HTTP path, after the restriction chain admitted the client (a refused
// client never gets here, so never sees a login page): the reserved pages, the session check,
// and the identity headers the upstream receives. Answers what it does not forward itself.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { rejectUpgrade } from '../util/responses';
import { FailureLimiter } from './limiter';
import { loginPage, messagePage } from './login-page';
import type { PendingLogin } from './oidc';
import {
  AUTH_PREFIX,
  OIDC_COOKIE,
  authRoute,
  cookieValue,
  identityAllowed,
  isNavigation,
  returnPathOf,
  safeReturnPath,
  setCookie,
  withoutProxyCookies,
} from './request';
import { RevocationStore } from './revocations';
import { verifySecret } from './secret-hash';
import { sessionScope, type ServiceAuth } from './service';
import { newSessionId, signPayload, signSession, verifyPayload, verifySession, type SessionToken } from './token';
import type { AuthOutcome, Identity, OidcSettings } from './types';
import { readForm } from '../util/form';

/** What the gate needs of a request's admission: the service and where the outcome goes. */
export interface AuthTarget {
  clientIp: string;
  service: { readonly name: string; readonly auth?: ServiceAuth };
  auth?: AuthOutcome;
}

const LOGIN_STATE_MS = 10 * 60_000;
const MAX_FORM_BYTES = 8 * 1024;
const FORM_TIMEOUT_MS = 10_000;
const NO_IDENTITY: Identity = { user: '', email: '', groups: [] };

export class AuthGate {
  private secretKey: Buffer | undefined;
  readonly limiter = new FailureLimiter();
  private readonly revoked = new RevocationStore();

  constructor(
    private readonly loadSecret: () => Buffer,
    private readonly log: Logger,
  ) {}

  /** Loads the session secret now (at config load), so that a problem with it fails the load; throws what loading threw. */
  prepare(): void {
    this.secretKey ??= this.loadSecret();
  }

  private get secret(): Buffer {
    this.secretKey ??= this.loadSecret();
    return this.secretKey;
  }

  /** True: forward the request (its headers now carry the identity); false: answered here. `auth`: the service's or its route's. */
  request(req: IncomingMessage, res: ServerResponse, target: AuthTarget, auth: ServiceAuth): boolean {
    const url = req.url ?? '/';
    const route = authRoute(url);
    if (route !== undefined) {
      target.auth = { mechanism: auth.config.credential.method };
      this.page(route, req, res, target, auth).catch((err: unknown) => {
        this.log.error({ service: target.service.name, err: (err as Error).message }, 'auth page failed');
        if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'Internal Server Error\n');
        else res.destroy();
      });
      return false;
    }
    const verdict = this.check(req.headers, target, auth);
    if (verdict === true) return true;
    if (verdict === 429) {
      send(res, 429, 'text/plain; charset=utf-8', 'Too Many Requests\n', { 'retry-after': retryAfter(this.limiter.blockedFor(target.clientIp, Date.now())) });
    } else if (auth.config.credential.method !== 'header' && isNavigation(req.method, req.headers.accept)) {
      res.writeHead(302, { location: `${AUTH_PREFIX}login?rd=${encodeURIComponent(url)}`, 'cache-control': 'no-store', 'content-length': 0 });
      res.end();
    } else {
      send(res, 401, 'text/plain; charset=utf-8', 'Unauthorized\n');
    }
    return false;
  }

  /** WebSocket upgrades need the session (or the header) like any request; no pages. Undefined: forward; else the status answered. */
  upgrade(req: IncomingMessage, socket: Duplex, target: AuthTarget, auth: ServiceAuth): number | undefined {
    if (authRoute(req.url ?? '/') !== undefined) {
      target.auth = { mechanism: auth.config.credential.method };
      rejectUpgrade(socket, 404);
      return 404;
    }
    const verdict = this.check(req.headers, target, auth);
    if (verdict === true) return undefined;
    rejectUpgrade(socket, verdict);
    return verdict;
  }

  /** The session or header check of a request to forward; on success the identity headers are set. */
  private check(headers: IncomingHttpHeaders, target: AuthTarget, auth: ServiceAuth): true | 401 | 429 {
    const c = auth.config.credential;
    const names = auth.config.headers;
    delete headers[names.user];
    delete headers[names.email];
    delete headers[names.groups];
    if (c.method === 'header') {
      const given = headers[c.name];
      delete headers[c.name];
      target.auth = { mechanism: 'header' };
      if (typeof given !== 'string') return 401;
      const now = Date.now();
      if (this.limiter.blockedFor(target.clientIp, now) > 0) {
        target.auth.success = false;
        return 429;
      }
      if (!sameSecret(given, c.value)) {
        target.auth.success = false;
        this.limiter.fail(target.clientIp, now);
        return 401;
      }
      target.auth.success = true;
      return true;
    }
    const cookie = headers.cookie;
    const token = cookieValue(cookie, auth.cookie);
    const session = token === undefined ? undefined : verifySession(this.secret, scopeOf(target, auth), token, Date.now());
    // OIDC: allowed_groups / allowed_emails as they are now (a reload may have narrowed them).
    if (session === undefined || this.revoked.has(session.id) || (c.method === 'oidc' && !allowedNow(session.identity, c.oidc))) {
      target.auth = token === undefined ? { mechanism: c.method } : { mechanism: c.method, success: false };
      return 401;
    }
    const rest = withoutProxyCookies(cookie as string);
    if (rest === undefined) delete headers.cookie;
    else headers.cookie = rest;
    const id = session.identity;
    if (id.user !== '') headers[names.user] = id.user;
    if (id.email !== '') headers[names.email] = id.email;
    if (id.groups.length > 0) headers[names.groups] = id.groups.join(',');
    target.auth = id.user === '' ? { mechanism: c.method, success: true } : { mechanism: c.method, userId: id.user, success: true };
    return true;
  }

  private async page(route: string, req: IncomingMessage, res: ServerResponse, target: AuthTarget, auth: ServiceAuth): Promise<void> {
    const c = auth.config.credential;
    if (route === 'logout') return this.logout(req, res, target, auth);
    if (c.method === 'header' || route === 'unknown') return send(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
    if (route === 'callback') {
      if (c.method !== 'oidc') return send(res, 404, 'text/plain; charset=utf-8', 'Not Found\n');
      return this.callback(req, res, target, auth);
    }
    const query = new URL(req.url ?? '/', 'http://x').searchParams;
    if (c.method === 'oidc') return this.startOidc(req, res, target, auth, safeReturnPath(query.get('rd')));
    const host = req.headers.host ?? '';
    const form = { kind: c.method, host, pinLength: c.method === 'pin' ? c.length : undefined };
    if (req.method === 'GET' || req.method === 'HEAD') return html(res, 200, loginPage({ ...form, returnTo: safeReturnPath(query.get('rd')) }));
    if (req.method !== 'POST') return send(res, 405, 'text/plain; charset=utf-8', 'Method Not Allowed\n', { allow: 'GET, POST' });
    const now = Date.now();
    const blocked = this.limiter.blockedFor(target.clientIp, now);
    if (blocked > 0) {
      target.auth = { mechanism: c.method, success: false };
      req.resume();
      return html(res, 429, loginPage({ ...form, returnTo: '/', error: 'Too many failed attempts. Try again later.' }), { 'retry-after': retryAfter(blocked) });
    }
    const body = await readForm(req, MAX_FORM_BYTES, FORM_TIMEOUT_MS);
    if (typeof body === 'number') return send(res, body, 'text/plain; charset=utf-8', `${body === 413 ? 'Payload Too Large' : 'Request Timeout'}\n`);
    const returnTo = safeReturnPath(body.get('rd'));
    const given = body.get(c.method) ?? '';
    const ok =
      given !== '' &&
      (c.method !== 'pin' || /^\d+$/.test(given)) &&
      given.length <= 1024 &&
      (await verifySecret(given, auth.hash as NonNullable<ServiceAuth['hash']>));
    if (!ok) {
      target.auth = { mechanism: c.method, success: false };
      const nowBlocked = this.limiter.fail(target.clientIp, Date.now());
      const error = nowBlocked ? 'Too many failed attempts. Try again later.' : `Wrong ${c.method === 'pin' ? 'PIN' : 'password'}.`;
      return html(res, nowBlocked ? 429 : 401, loginPage({ ...form, returnTo, error }));
    }
    this.limiter.succeed(target.clientIp);
    target.auth = { mechanism: c.method, success: true };
    this.startSession(req, res, target, auth, NO_IDENTITY, returnTo);
  }

  private startSession(
    req: IncomingMessage,
    res: ServerResponse,
    target: AuthTarget,
    auth: ServiceAuth,
    identity: Identity,
    returnTo: string,
    extraCookies: string[] = [],
  ): void {
    const session: SessionToken = { id: newSessionId(), expiresMs: Date.now() + auth.config.sessionMs, identity };
    const cookie = setCookie(auth.cookie, signSession(this.secret, scopeOf(target, auth), session), {
      secure: isHttps(req),
      maxAge: Math.floor(auth.config.sessionMs / 1000),
    });
    res.writeHead(303, { location: returnTo, 'set-cookie': [cookie, ...extraCookies], 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  }

  private async startOidc(req: IncomingMessage, res: ServerResponse, target: AuthTarget, auth: ServiceAuth, returnTo: string): Promise<void> {
    let started: { url: string; pending: PendingLogin };
    try {
      started = await (auth.oidc as NonNullable<ServiceAuth['oidc']>).start(callbackUrl(req), returnTo);
    } catch (err) {
      this.log.warn({ service: target.service.name, err: (err as Error).message }, 'OIDC discovery failed');
      return html(res, 502, messagePage('Sign-in unavailable', 'The identity provider cannot be reached. Try again in a moment.'));
    }
    const token = signPayload(this.secret, 'o', scopeOf(target, auth), newSessionId(), Date.now() + LOGIN_STATE_MS, started.pending);
    const cookie = setCookie(OIDC_COOKIE, token, { secure: isHttps(req), maxAge: LOGIN_STATE_MS / 1000, path: AUTH_PREFIX });
    res.writeHead(302, { location: started.url, 'set-cookie': cookie, 'cache-control': 'no-store', 'content-length': 0 });
    res.end();
  }

  private async callback(req: IncomingMessage, res: ServerResponse, target: AuthTarget, auth: ServiceAuth): Promise<void> {
    const now = Date.now();
    const token = cookieValue(req.headers.cookie, OIDC_COOKIE);
    const state = token === undefined ? undefined : verifyPayload(this.secret, 'o', scopeOf(target, auth), token, now);
    const clear = setCookie(OIDC_COOKIE, '', { secure: isHttps(req), maxAge: 0, path: AUTH_PREFIX });
    const retry = { href: `${AUTH_PREFIX}login`, label: 'Sign in again' };
    const failed = (why: string): void => {
      target.auth = { mechanism: 'oidc', success: false };
      this.log.info({ service: target.service.name, client_ip: target.clientIp, reason: why }, 'OIDC login refused');
      html(res, 400, messagePage('Sign-in failed', 'The sign-in could not be completed. Start again.', retry), { 'set-cookie': clear });
    };
    // A login's state is good for one callback: a replayed one (same cookie) is refused.
    const consumed = state === undefined ? undefined : `o:${state.id}`;
    if (state === undefined || consumed === undefined || this.revoked.has(consumed))
      return failed(state === undefined ? 'no or invalid login state' : 'login state already used');
    this.revoked.revoke(consumed, state.expiresMs, now);
    const pending = state.payload as PendingLogin;
    const settings = auth.config.credential.method === 'oidc' ? auth.config.credential.oidc : undefined;
    let identity: Identity;
    try {
      identity = await (auth.oidc as NonNullable<ServiceAuth['oidc']>).finish(new URL(req.url ?? '/', callbackUrl(req)), pending);
    } catch (err) {
      return failed((err as Error).message);
    }
    if (settings !== undefined && !identityAllowed(identity.groups, identity.email, settings.allowedGroups, settings.allowedEmails)) {
      target.auth = { mechanism: 'oidc', userId: identity.user, success: false };
      return html(res, 403, messagePage('Not allowed', `${identity.user || 'This account'} may not use this site.`), { 'set-cookie': clear });
    }
    target.auth = { mechanism: 'oidc', userId: identity.user, success: true };
    this.startSession(req, res, target, auth, identity, safeReturnPath(pending.returnTo), [clear]);
  }

  private logout(req: IncomingMessage, res: ServerResponse, target: AuthTarget, auth: ServiceAuth): void {
    const now = Date.now();
    const token = cookieValue(req.headers.cookie, auth.cookie);
    const session = token === undefined ? undefined : verifySession(this.secret, scopeOf(target, auth), token, now);
    if (session !== undefined) {
      this.revoked.revoke(session.id, session.expiresMs, now);
      const user = session.identity.user;
      target.auth = user === '' ? { mechanism: target.auth?.mechanism ?? 'password' } : { mechanism: target.auth?.mechanism ?? 'oidc', userId: user };
    }
    const clear = setCookie(auth.cookie, '', { secure: isHttps(req), maxAge: 0 });
    // Signed out of a route (logout?rd=/admin/): "Sign in" goes back to the route's login.
    const rd = returnPathOf(req.url ?? '/');
    const again = rd === undefined ? `${AUTH_PREFIX}login` : `${AUTH_PREFIX}login?rd=${encodeURIComponent(rd)}`;
    html(res, 200, messagePage('Signed out', 'You are signed out.', { href: again, label: 'Sign in' }), { 'set-cookie': clear });
  }
}

/** What a token is bound to: the service and its credential (a new password signs everyone out); a route's own auth binds its route too. */
function scopeOf(target: AuthTarget, auth: ServiceAuth): string {
  return sessionScope(target.service.name, auth);
}

function allowedNow(id: Identity, o: OidcSettings): boolean {
  return identityAllowed(id.groups, id.email, o.allowedGroups, o.allowedEmails);
}

function sameSecret(given: string, expected: string): boolean {
  // Digests first: equal lengths for timingSafeEqual, and no length leak.
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

function retryAfter(ms: number): string {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/** The scheme the client used: admission set X-Forwarded-Proto (kept only from trusted proxies). */
function isHttps(req: IncomingMessage): boolean {
  return req.headers['x-forwarded-proto'] === 'https';
}

function callbackUrl(req: IncomingMessage): string {
  return `${isHttps(req) ? 'https' : 'http'}://${req.headers.host ?? ''}${AUTH_PREFIX}callback`;
}

function send(res: ServerResponse, status: number, type: string, body: string, extra: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store', ...extra });
  res.end(body);
}

function html(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  send(res, status, 'text/html; charset=utf-8', body, {
    'x-frame-options': 'DENY',
    'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    ...extra,
  });
}
