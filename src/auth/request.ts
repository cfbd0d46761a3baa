// Pure helpers on a request: the reserved path, the session cookie, what a client is answered.

/** Never forwarded on a service with auth: the proxy's own login, callback and logout pages. */
export const AUTH_PREFIX = '/.netbird-proxy/auth/';
export const SESSION_COOKIE = 'nbp_session';
export const OIDC_COOKIE = 'nbp_oidc';

export type AuthRoute = 'login' | 'callback' | 'logout' | 'unknown';

/** The proxy's route for a path under AUTH_PREFIX, undefined for any other path. */
export function authRoute(url: string): AuthRoute | undefined {
  if (!url.startsWith(AUTH_PREFIX)) return undefined;
  const q = url.indexOf('?');
  const rest = url.slice(AUTH_PREFIX.length, q < 0 ? undefined : q);
  return rest === 'login' || rest === 'callback' || rest === 'logout' ? rest : 'unknown';
}

/** The value of cookie `name` in a Cookie header, the first one when repeated. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq < 0) continue;
    if (pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** nbp_session, or a route's own session cookie (nbp_session_<id>). */
function isSessionCookie(name: string): boolean {
  return name.startsWith(SESSION_COOKIE) && (name.length === SESSION_COOKIE.length || name[SESSION_COOKIE.length] === '_');
}

/** The path `rd` names in a URL of the reserved path (login?rd=/admin/), undefined when it has none or a foreign one. */
export function returnPathOf(url: string): string | undefined {
  if (!url.includes('rd=')) return undefined;
  const raw = new URL(url, 'http://x').searchParams.get('rd');
  return raw === null || safeReturnPath(raw) !== raw ? undefined : raw;
}

/** The Cookie header without the proxy's cookies; undefined when nothing else remains. */
export function withoutProxyCookies(header: string): string | undefined {
  if (!header.includes('nbp_')) return header;
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => {
      const name = p.slice(0, Math.max(0, p.indexOf('=')));
      return p !== '' && !isSessionCookie(name) && name !== OIDC_COOKIE;
    });
  return kept.length === 0 ? undefined : kept.join('; ');
}

export interface CookieOptions {
  secure: boolean;
  /** Seconds; 0 deletes it. */
  maxAge: number;
  path?: string;
}

export function setCookie(name: string, value: string, o: CookieOptions): string {
  return `${name}=${value}; Path=${o.path ?? '/'}; Max-Age=${o.maxAge}; HttpOnly; SameSite=Lax${o.secure ? '; Secure' : ''}`;
}

/**
 * Where to go after logging in: a local path only (no scheme, no `//host`, no backslash tricks),
 * never back into the reserved prefix; else "/".
 */
export function safeReturnPath(raw: string | null | undefined): string {
  if (raw === null || raw === undefined || raw === '' || raw.length > 2048) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//') || hasBackslashOrControl(raw)) return '/';
  if (raw.startsWith(AUTH_PREFIX)) return '/';
  return raw;
}

/** A navigation a person makes (a browser GET asking for HTML) gets the login page; anything else 401. */
export function isNavigation(method: string | undefined, accept: string | undefined): boolean {
  return (method === 'GET' || method === 'HEAD') && accept !== undefined && accept.includes('text/html');
}

/** Application/x-www-form-urlencoded body, at most the fields asked for. */
export function formFields(body: string): URLSearchParams {
  return new URLSearchParams(body);
}

/** Whether the user may in: allowed_groups and allowed_emails are each checked when non-empty. */
export function identityAllowed(groups: readonly string[], email: string, allowedGroups: readonly string[], allowedEmails: readonly string[]): boolean {
  if (allowedGroups.length > 0 && !groups.some((g) => allowedGroups.includes(g))) return false;
  if (allowedEmails.length > 0 && !allowedEmails.includes(email.toLowerCase())) return false;
  return true;
}

/** Browsers read a backslash as "/" and drop tabs and newlines in URLs, so "/\\evil.example" would leave the site. */
function hasBackslashOrControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 92 || c < 32 || c === 127) return true;
  }
  return false;
}
