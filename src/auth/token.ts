// Session tokens: `v1.<id>.<expiry>.<identity>.<mac>`, all base64url but the expiry (Unix
// seconds). The MAC is HMAC-SHA256 over the service name and the first four parts, so a cookie
// of one service is worthless on another, and any instance holding the same secret accepts it.
// The same format carries the OIDC login's state (with kind "o" in the MAC input).
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Identity } from './types';

const VERSION = 'v1';
const MAC_BYTES = 32;

export interface SessionToken {
  id: string;
  /** Unix milliseconds. */
  expiresMs: number;
  identity: Identity;
}

export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

function mac(secret: Buffer, kind: string, service: string, signed: string): Buffer {
  return createHmac('sha256', secret).update(`${kind}\n${service}\n${signed}`).digest();
}

/** Signs any JSON-able payload; `kind` separates the uses of one secret. */
export function signPayload(secret: Buffer, kind: string, service: string, id: string, expiresMs: number, payload: unknown): string {
  const signed = `${VERSION}.${id}.${Math.floor(expiresMs / 1000)}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${signed}.${mac(secret, kind, service, signed).toString('base64url')}`;
}

/** The payload of a token this secret signed for this service and kind, unexpired at `nowMs`; else undefined. */
export function verifyPayload(
  secret: Buffer,
  kind: string,
  service: string,
  token: string,
  nowMs: number,
): { id: string; expiresMs: number; payload: unknown } | undefined {
  const cut = token.lastIndexOf('.');
  if (cut < 0 || token.length > 8192) return undefined;
  const signed = token.slice(0, cut);
  const given = Buffer.from(token.slice(cut + 1), 'base64url');
  if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(secret, kind, service, signed))) return undefined;
  const parts = signed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION) return undefined;
  const [, id = '', expiry = '', body = ''] = parts;
  if (!/^\d{1,12}$/.test(expiry)) return undefined;
  const expiresMs = Number(expiry) * 1000;
  if (expiresMs <= nowMs) return undefined;
  try {
    return { id, expiresMs, payload: JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as unknown };
  } catch {
    return undefined;
  }
}

export function signSession(secret: Buffer, service: string, session: SessionToken): string {
  const { user, email, groups } = session.identity;
  return signPayload(secret, 's', service, session.id, session.expiresMs, { u: user, e: email, g: groups });
}

export function verifySession(secret: Buffer, service: string, token: string, nowMs: number): SessionToken | undefined {
  const v = verifyPayload(secret, 's', service, token, nowMs);
  if (v === undefined) return undefined;
  const p = v.payload as { u?: unknown; e?: unknown; g?: unknown } | null;
  if (p === null || typeof p !== 'object' || typeof p.u !== 'string' || typeof p.e !== 'string' || !Array.isArray(p.g)) return undefined;
  const groups = p.g.filter((g): g is string => typeof g === 'string');
  return { id: v.id, expiresMs: v.expiresMs, identity: { user: p.u, email: p.e, groups } };
}
