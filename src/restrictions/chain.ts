// The restriction chain: CIDR, then country, then CrowdSec; the first denial wins.
// Pure: every input it needs is handed in, so it is unit-tested without sockets or a LAPI.
import type { ClientAddress } from '../client-ip/peer';
import type { CrowdSecMode } from '../config/types';
import type { ActiveDecision, DecisionLookup } from '../crowdsec/core/types';
import type { IpSet } from '../net/ip-set';
import type { DenyReason, Verdict } from './types';

export interface CountryLookup {
  /** ISO code, or undefined when the database has no answer for the address. */
  country(ip: string): string | undefined;
}

/** The decision cache as the chain sees it; `synced` turns true once the initial sync completed and stays so through later outages. */
export type CrowdSecSource = DecisionLookup & { readonly synced: boolean };

/** One service's access rules, compiled once per config load. */
export interface CompiledAccess {
  cidrAllow: IpSet | undefined;
  cidrDeny: IpSet | undefined;
  countryAllow: ReadonlySet<string> | undefined;
  countryDeny: ReadonlySet<string> | undefined;
  crowdsec: CrowdSecMode;
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
  if (access.countryAllow !== undefined || access.countryDeny !== undefined) {
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
  const hit = crowdsecDecision(ctx.crowdsec, ip, nowMs);
  if (hit === undefined) return country === undefined ? ALLOWED : allow(country, undefined);
  const decision = hit === UNAVAILABLE ? undefined : hit;
  const verdict = decision === undefined ? 'unavailable' : decision.type;
  if (access.crowdsec === 'observe') {
    return { allowed: true, denyReason: '', country, metadata: { crowdsec_verdict: verdict, crowdsec_mode: 'observe' }, decision };
  }
  return {
    allowed: false,
    denyReason: `crowdsec_${verdict}`,
    country,
    metadata: { crowdsec_verdict: verdict, crowdsec_mode: 'enforce' },
    decision,
  };
}

const UNAVAILABLE = 'unavailable';

/** The decision that applies, "unavailable" before the first sync, or undefined when the client is clean. */
function crowdsecDecision(source: CrowdSecSource | undefined, ip: ClientAddress, nowMs: number): ActiveDecision | typeof UNAVAILABLE | undefined {
  if (source === undefined || !source.synced) return UNAVAILABLE;
  return source.lookup(ip, nowMs);
}

function deny(reason: DenyReason, country: string | undefined): Verdict {
  return { allowed: false, denyReason: reason, country, metadata: undefined };
}

function allow(country: string | undefined, metadata: Record<string, string> | undefined): Verdict {
  return { allowed: true, denyReason: '', country, metadata };
}
