// The canonical request target (RFC 9112 §3.2): origin-form as received, absolute-form http(s)
// rewritten to origin-form with its authority, "*" for OPTIONS only. Everything else is refused
// (400; CONNECT and its authority-form: 405). Pure.

export type TargetResult =
  | { ok: true; /** origin-form, or "*" */ target: string; /** absolute-form: its authority, which wins over the Host */ authority: string | undefined }
  | { ok: false; status: 400 | 405 };

const BAD_REQUEST = { ok: false, status: 400 } as const;

export function canonicalTarget(method: string, raw: string): TargetResult {
  if (method === 'CONNECT') return { ok: false, status: 405 };
  if (raw === '*') return method === 'OPTIONS' ? { ok: true, target: raw, authority: undefined } : BAD_REQUEST;
  if (raw.charCodeAt(0) === 47 /* / */) return originForm(raw) ? { ok: true, target: raw, authority: undefined } : BAD_REQUEST;
  const scheme = schemeLength(raw);
  if (scheme === 0) return BAD_REQUEST;
  // scheme "://" authority [ path-abempty [ "?" query ] ]
  const authStart = scheme + 3;
  let authEnd = raw.length;
  for (let i = authStart; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 47 || c === 63 /* ? */) {
      authEnd = i;
      break;
    }
  }
  const authority = raw.slice(authStart, authEnd);
  // userinfo is refused (RFC 9110 §4.2.4): "a@b" is where hosts are confused.
  if (authority.length === 0 || authority.includes('@')) return BAD_REQUEST;
  let target = raw.slice(authEnd);
  if (target.length === 0) target = '/';
  else if (target.charCodeAt(0) === 63) target = `/${target}`;
  return originForm(target) ? { ok: true, target, authority } : BAD_REQUEST;
}

/** "http://" or "https://" (any case): the length of the scheme, else 0. */
function schemeLength(raw: string): number {
  const colon = raw.indexOf('://');
  if (colon !== 4 && colon !== 5) return 0;
  const scheme = raw.slice(0, colon).toLowerCase();
  return scheme === 'http' || scheme === 'https' ? colon : 0;
}

/**
 * absolute-path [ "?" query ], as bytes Node's parser passed: visible ASCII and obs bytes, no
 * fragment. A second "/" or "\" right after the first is refused: WHATWG URL parsers (Node's
 * `new URL(req.url, base)`) read "//host/x" and "/\host/x" as another host.
 */
export function originForm(t: string): boolean {
  const len = t.length;
  if (len === 0 || t.charCodeAt(0) !== 47) return false;
  if (len > 1) {
    const second = t.charCodeAt(1);
    if (second === 47 || second === 92) return false;
  }
  for (let i = 1; i < len; i++) {
    const c = t.charCodeAt(i);
    if (c <= 32 || c === 35 /* # */ || c === 127 || c > 255) return false;
  }
  return true;
}
