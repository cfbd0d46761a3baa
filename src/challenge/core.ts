// The challenge's pure core: which requests it concerns, the reserved path, the pass cookie
// (signed, bound to the client address, the service and an expiry), and the store that makes a
// solution single-use. No I/O: the gate (gate.ts) holds the key and answers the requests.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Verdict } from '../restrictions/types';

/** Never forwarded on a service with a challenge: the page's script, the widget, new challenges, the verification. */
export const CHALLENGE_PREFIX = '/.netbird-proxy/challenge/';
export const PASS_COOKIE = 'nbp_challenge';

export type ChallengeOutcome = 'issued' | 'passed' | 'failed';
export type ChallengeRoute = 'widget' | 'script' | 'new' | 'verify' | 'unknown';

/** The proxy's route for a path under CHALLENGE_PREFIX, undefined for any other path. */
export function challengeRoute(url: string): ChallengeRoute | undefined {
  if (!url.startsWith(CHALLENGE_PREFIX)) return undefined;
  const q = url.indexOf('?');
  const rest = url.slice(CHALLENGE_PREFIX.length, q < 0 ? undefined : q);
  switch (rest) {
    case 'altcha.js':
      return 'widget';
    case 'page.js':
      return 'script';
    case 'new':
      return 'new';
    case 'verify':
      return 'verify';
    default:
      return 'unknown';
  }
}

/** A verdict a challenge can answer: a CrowdSec captcha decision (enforce or observe) or an AppSec captcha action. */
export function isCaptchaVerdict(v: Verdict): boolean {
  const m = v.metadata;
  return m !== undefined && (m.crowdsec_verdict === 'captcha' || m.appsec_verdict === 'captcha');
}

/** Enforce: the denial a challenge replaces; observe verdicts are allowed and never challenged. */
export function isChallengeable(v: Verdict): boolean {
  return !v.allowed && (v.denyReason === 'crowdsec_captcha' || v.denyReason === 'appsec_captcha');
}

/** A captcha denial that a pass cookie lifts: allowed, the metadata saying why. */
export function passedVerdict(v: Verdict): Verdict {
  return { allowed: true, denyReason: '', country: v.country, metadata: { ...v.metadata, challenge: 'passed' }, decision: v.decision };
}

/** An observed captcha verdict, annotated with what a challenge would have done. */
export function observedVerdict(v: Verdict, hasPass: boolean): Verdict {
  return { ...v, metadata: { ...v.metadata, challenge: hasPass ? 'would_pass' : 'would_issue' } };
}

/** A failed challenge: still the captcha denial, with `challenge: failed` and why in the metadata. */
export function failedVerdict(v: Verdict, why: string): Verdict {
  return { ...v, allowed: false, metadata: { ...v.metadata, challenge: 'failed', challenge_failure: why } };
}

function mac(secret: Buffer, service: string, clientIp: string, expiry: string): Buffer {
  return createHmac('sha256', secret).update(`challenge\n${service}\n${clientIp}\n${expiry}`).digest();
}

/** The pass cookie's value: `v1.<expiry in Unix seconds>.<MAC>`; the address and service are in the MAC only. */
export function signPass(secret: Buffer, service: string, clientIp: string, expiresMs: number): string {
  const expiry = String(Math.floor(expiresMs / 1000));
  return `v1.${expiry}.${mac(secret, service, clientIp, expiry).toString('base64url')}`;
}

/** True when `token` is a pass this key signed for this service and address, unexpired at `nowMs`. */
export function verifyPass(secret: Buffer, service: string, clientIp: string, token: string, nowMs: number): boolean {
  if (token.length > 128) return false;
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== 'v1') return false;
  const [, expiry = '', given = ''] = parts;
  if (!/^\d{1,12}$/.test(expiry) || Number(expiry) * 1000 <= nowMs) return false;
  const got = Buffer.from(given, 'base64url');
  const want = mac(secret, service, clientIp, expiry);
  return got.length === want.length && timingSafeEqual(got, want);
}

/** The value of cookie `name` in a Cookie header, the first one when repeated. */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (header === undefined || !header.includes(name)) return undefined;
  for (const pair of header.split(';')) {
    const eq = pair.indexOf('=');
    if (eq >= 0 && pair.slice(0, eq).trim() === name) return pair.slice(eq + 1).trim();
  }
  return undefined;
}

/** The Cookie header without the pass cookie (the upstream has no use for it); undefined when nothing remains. */
export function withoutPassCookie(header: string): string | undefined {
  const kept = header
    .split(';')
    .map((p) => p.trim())
    .filter((p) => p !== '' && p.slice(0, Math.max(0, p.indexOf('='))) !== PASS_COOKIE);
  return kept.length === 0 ? undefined : kept.join('; ');
}

/** Where to go once solved: a local path only (no scheme, `//host` or backslash), never into the reserved prefix; else "/". */
export function safeReturnPath(raw: string | null | undefined): string {
  if (raw === null || raw === undefined || raw === '' || raw.length > 2048) return '/';
  if (!raw.startsWith('/') || raw.startsWith('//') || raw.startsWith(CHALLENGE_PREFIX)) return '/';
  for (let i = 0; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === 92 || c < 32 || c === 127) return '/';
  }
  return raw;
}

/**
 * Where a solution is claimed: this process's ReplayStore, or with --workers > 1 the primary's
 * (src/cluster/claims.ts), so that a replay sent to another worker is refused too.
 */
export interface SolutionClaims {
  /** True the first time `key` is claimed before `expiresMs`; false for a replay (or when it cannot be told). */
  claim(key: string, expiresMs: number, nowMs: number): boolean | Promise<boolean>;
}

/**
 * Solutions already accepted, each kept until its challenge expires: a replay is refused. Bounded:
 * when full of unexpired entries, a new solution is refused too (never accepted unrecorded).
 */
export class ReplayStore implements SolutionClaims {
  private readonly used = new Map<string, number>();
  private nextSweepMs = 0;

  constructor(private readonly capacity = 100_000) {}

  /** True the first time `key` is seen before `expiresMs`; false for a replay or when full. */
  claim(key: string, expiresMs: number, nowMs: number): boolean {
    if (nowMs >= this.nextSweepMs || this.used.size >= this.capacity) this.sweep(nowMs);
    const seen = this.used.get(key);
    if (seen !== undefined && seen > nowMs) return false;
    if (this.used.size >= this.capacity) return false;
    this.used.set(key, expiresMs);
    return true;
  }

  get size(): number {
    return this.used.size;
  }

  private sweep(nowMs: number): void {
    this.nextSweepMs = nowMs + 60_000;
    for (const [key, expires] of this.used) if (expires <= nowMs) this.used.delete(key);
  }
}
