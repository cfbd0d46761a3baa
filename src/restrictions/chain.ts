// The restriction chain: CIDR, then country, then CrowdSec; the first denial wins.
// Pure: every input it needs is handed in, so it is unit-tested without sockets or a LAPI.
import type { ClientAddress } from '../client-ip/peer';
import type { ChallengeConfig, CrowdSecMode } from '../config/types';
import { compareTypes } from '../crowdsec/core/precedence';
import type { ActiveDecision, CountryDecisionLookup, DecisionLookup } from '../crowdsec/core/types';
import type { IpSet } from '../net/ip-set';
import type { DenyReason, Verdict } from './types';

export interface CountryLookup {
  /** ISO code, or undefined when the database has no answer for the address. */
  country(ip: string): string | undefined;
}

/** The decision cache as the chain sees it; `synced` turns true once the initial sync completed and stays so through later outages. */
export type CrowdSecSource = DecisionLookup & Partial<CountryDecisionLookup> & { readonly synced: boolean };

/** One service's access rules, compiled once per config load. */
export interface CompiledAccess {
  cidrAllow: IpSet | undefined;
  cidrDeny: IpSet | undefined;
  countryAllow: ReadonlySet<string> | undefined;
  countryDeny: ReadonlySet<string> | undefined;
  crowdsec: CrowdSecMode;
  /** access.challenge; undefined when off, so that services without it test one field, and only for captcha verdicts. */
  challenge?: ChallengeConfig;
}

export interface ChainContext {
  /** Undefined when no country database could be loaded. */
  geo: CountryLookup | undefined;
  crowdsec: CrowdSecSource | undefined;
}

const ALLOWED: Verdict = Object.freeze({ allowed: true, denyReason: '', country: undefined, metadata: undefined });

export function evaluate(access: CompiledAccess, ip: ClientAddress, ctx: ChainContext, nowMs: number): Verdict {
  if (access.cidrAllow !== undefined && !access.cidrAllow.contains(ip)) return deny('ip_restricted', undefined);
  if (access.cidrDeny !== undefined && access.cidrDeny.contains(ip)) return deny('ip_restricted', undefined);

  let country: string | undefined;
  const countryRules = access.countryAllow !== undefined || access.countryDeny !== undefined;
  if (countryRules) {
    if (ctx.geo === undefined) return deny('geo_unavailable', undefined);
    country = ctx.geo.country(ip);
    if (access.countryAllow !== undefined && (country === undefined || !access.countryAllow.has(country))) {
      return deny('country_restricted', country);
    }
    if (country !== undefined && access.countryDeny !== undefined && access.countryDeny.has(country)) {
      return deny('country_restricted', country);
    }
  }

  if (access.crowdsec === 'off') return country === undefined ? ALLOWED : allow(country, undefined);
  const source = ctx.crowdsec;
  if (source === undefined || !source.synced) return crowdsecResult(access.crowdsec, country, { crowdsec_verdict: 'unavailable' }, 'unavailable', undefined);
  let hit = source.lookup(ip, nowMs);
  let scope: 'ip' | 'range' | 'country' | undefined = hit === undefined ? undefined : hit.value.indexOf('/') >= 0 ? 'range' : 'ip';
  // The client's country is looked up for CrowdSec only while country-scope decisions exist.
  if (ctx.geo !== undefined && source.lookupCountry !== undefined && (source.countryDecisionCount ?? 0) > 0) {
    if (!countryRules) country = ctx.geo.country(ip);
    const byCountry = country === undefined ? undefined : source.lookupCountry(country, nowMs);
    // Same precedence as between the types on one address; on a tie the address decision is kept.
    if (byCountry !== undefined && (hit === undefined || compareTypes(byCountry.type, hit.type) < 0)) {
      hit = byCountry;
      scope = 'country';
    }
  }
  if (hit === undefined || scope === undefined) return country === undefined ? ALLOWED : allow(country, undefined);
  return crowdsecResult(access.crowdsec, country, crowdsecMetadata(hit, scope), hit.type, hit);
}

/** Access-log metadata of a CrowdSec hit: the type, the scope, and the decision's value for ranges and countries. */
function crowdsecMetadata(hit: ActiveDecision, scope: 'ip' | 'range' | 'country'): Record<string, string> {
  return scope === 'ip'
    ? { crowdsec_verdict: hit.type, crowdsec_scope: scope }
    : { crowdsec_verdict: hit.type, crowdsec_scope: scope, crowdsec_value: hit.value };
}

/** Observe records the verdict and lets the client through; enforce denies with crowdsec_<type>. */
function crowdsecResult(
  mode: 'enforce' | 'observe',
  country: string | undefined,
  meta: Record<string, string>,
  verdict: string,
  decision: ActiveDecision | undefined,
): Verdict {
  if (mode === 'observe') return { allowed: true, denyReason: '', country, metadata: { ...meta, crowdsec_mode: 'observe' }, decision };
  return { allowed: false, denyReason: `crowdsec_${verdict}`, country, metadata: { ...meta, crowdsec_mode: 'enforce' }, decision };
}

function deny(reason: DenyReason, country: string | undefined): Verdict {
  return { allowed: false, denyReason: reason, country, metadata: undefined };
}

function allow(country: string | undefined, metadata: Record<string, string> | undefined): Verdict {
  return { allowed: true, denyReason: '', country, metadata };
}
