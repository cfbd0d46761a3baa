import type { ActiveDecision } from '../crowdsec/core/types';

export type DenyReason =
  | ''
  | 'ip_restricted'
  | 'country_restricted'
  | 'geo_unavailable'
  | 'crowdsec_unavailable'
  /** An open connection whose service was removed by a reload. */
  | 'service_removed'
  | `crowdsec_${string}`
  /** CrowdSec AppSec (src/appsec/): appsec_ban, appsec_captcha, appsec_<action>, appsec_unavailable. */
  | `appsec_${string}`;

export interface Verdict {
  allowed: boolean;
  denyReason: DenyReason;
  /** ISO code when a country lookup was made and answered. */
  country: string | undefined;
  /** Layer annotations for the access log (crowdsec_verdict, crowdsec_mode). */
  metadata: Record<string, string> | undefined;
  /** The CrowdSec decision that applied (enforce or observe), for the usage metrics' origin label. */
  decision?: ActiveDecision;
}
