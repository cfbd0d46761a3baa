// Turns one LAPI decision into the normalised form the store keeps, or says why it cannot be used.
//   scope:  "Ip" or "Range", any case; "Country" through parseCountryTarget() (AS, Username... are skipped)
//   value:  strict address / CIDR; IPv4-mapped IPv6 becomes IPv4; range host bits are zeroed;
//           a /32 or /128 range is the same entry as the exact address
//   type:   lower-cased, every character outside [a-z0-9_] replaced by "_", at most 64 characters
//           (it ends up in "crowdsec_<type>" deny reasons and metric labels)
//   duration: Go duration, expiresAt = receivedAt + duration

import { parsePrefixKey, type PrefixKey } from '../../net/ip';
import { tryParseGoDuration } from '../../util/duration';
import type { LapiDecision } from './types';

export type SkipReason = 'scope' | 'value' | 'type' | 'duration' | 'expired';

/** What identifies a stored entry: (value, type). */
export interface DecisionTarget {
  readonly prefix: PrefixKey;
  /** Sanitised, lower-case type. */
  readonly type: string;
}

export interface NormalizedDecision extends DecisionTarget {
  readonly origin: string;
  readonly scenario: string;
  readonly durationMs: number;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export interface NormalizedCountryDecision {
  /** Upper-case ISO code. */
  readonly country: string;
  readonly type: string;
  readonly origin: string;
  readonly scenario: string;
  readonly durationMs: number;
  readonly expiresAt: number;
}

export const MAX_TYPE_LENGTH = 64;

/** Case-insensitive ASCII comparison of `s` with a lower-case word, without allocating. */
function eqLower(s: string, lower: string): boolean {
  if (s.length !== lower.length) return false;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) c += 32;
    if (c !== lower.charCodeAt(i)) return false;
  }
  return true;
}

/** Scope "Ip" → "ip", "Range" → "range" (any case); undefined for every other scope. */
export function normalizeScope(scope: string | undefined): 'ip' | 'range' | undefined {
  if (typeof scope !== 'string') return undefined;
  if (eqLower(scope, 'ip')) return 'ip';
  if (eqLower(scope, 'range')) return 'range';
  return undefined;
}

/**
 * Lower-cases a type and replaces characters outside [a-z0-9_] with "_" (truncated to 64);
 * undefined when empty or not a string. Returns the input itself when it is already clean.
 */
export function sanitizeType(type: string | undefined): string | undefined {
  if (typeof type !== 'string' || type.length === 0) return undefined;
  if (type === 'ban' || type === 'captcha' || type === 'throttle') return type;
  let clean = type.length <= MAX_TYPE_LENGTH;
  for (let i = 0; clean && i < type.length; i++) {
    const c = type.charCodeAt(i);
    clean = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95;
  }
  if (clean) return type;
  let out = '';
  const s = type.slice(0, MAX_TYPE_LENGTH).toLowerCase();
  for (let i = 0; i < s.length && out.length < MAX_TYPE_LENGTH; i++) {
    const c = s.charCodeAt(i);
    out += (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 ? s[i] : '_';
  }
  return out;
}

/** Whether a decision's scope is "Country" (any case). */
export function isCountryScope(scope: string | undefined): boolean {
  return typeof scope === 'string' && eqLower(scope, 'country');
}

/** A country decision's value as an upper-case two-letter ISO code; undefined when it is not one. */
export function parseCountryCode(value: string | undefined): string | undefined {
  if (typeof value !== 'string') return undefined;
  const code = value.trim().toUpperCase();
  return /^[A-Z]{2}$/.test(code) ? code : undefined;
}

/** (country, type) of a Country-scope decision — enough for a deletion. A SkipReason when unusable. */
export function parseCountryTarget(d: LapiDecision): { readonly country: string; readonly type: string } | SkipReason {
  const country = parseCountryCode(d.value);
  if (country === undefined) return 'value';
  const type = sanitizeType(d.type);
  if (type === undefined) return 'type';
  return { country, type };
}

/** A Country-scope decision from the "new" list, normalised (see normalizeDecision()). */
export function normalizeCountryDecision(d: LapiDecision, receivedAt: number): NormalizedCountryDecision | SkipReason {
  const target = parseCountryTarget(d);
  if (typeof target === 'string') return target;
  const rest = normalizeRest(d, receivedAt);
  return typeof rest === 'string' ? rest : { country: target.country, type: target.type, ...rest };
}

/** Parses a decision value under its scope; undefined when not usable. */
export function parseDecisionValue(scope: 'ip' | 'range', value: string | undefined): PrefixKey | undefined {
  if (typeof value !== 'string') return undefined;
  if (scope === 'ip' && value.indexOf('/') >= 0) return undefined;
  return parsePrefixKey(value);
}

/** (value, type) of a decision — enough for a deletion. A SkipReason when unusable. */
export function parseDecisionTarget(d: LapiDecision): DecisionTarget | SkipReason {
  const scope = normalizeScope(d.scope);
  if (scope === undefined) return 'scope';
  const prefix = parseDecisionValue(scope, d.value);
  if (prefix === undefined) return 'value';
  const type = sanitizeType(d.type);
  if (type === undefined) return 'type';
  return { prefix, type };
}

/**
 * A decision from the "new" list, normalised; a SkipReason when it cannot be applied, including
 * "expired" for a non-positive duration.
 */
export function normalizeDecision(d: LapiDecision, receivedAt: number): NormalizedDecision | SkipReason {
  const target = parseDecisionTarget(d);
  if (typeof target === 'string') return target;
  const rest = normalizeRest(d, receivedAt);
  return typeof rest === 'string' ? rest : { prefix: target.prefix, type: target.type, ...rest };
}

/** Origin, scenario and duration of a decision, whatever its scope. */
function normalizeRest(d: LapiDecision, receivedAt: number): Pick<NormalizedDecision, 'origin' | 'scenario' | 'durationMs' | 'expiresAt'> | SkipReason {
  const durationMs = typeof d.duration === 'string' ? tryParseGoDuration(d.duration) : NaN;
  if (Number.isNaN(durationMs)) return 'duration';
  if (durationMs <= 0) return 'expired';
  return {
    origin: typeof d.origin === 'string' ? d.origin : '',
    scenario: typeof d.scenario === 'string' ? d.scenario : '',
    durationMs,
    expiresAt: receivedAt + durationMs,
  };
}
