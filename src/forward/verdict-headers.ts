// Upstream hints of a service with forward_verdict: the CrowdSec remediation an observe-mode
// service let through, and the client's country when the chain looked it up. Both headers are
// removed from every client request first, whatever the service, so that a client cannot forge them.
import type { IncomingHttpHeaders } from 'node:http';
import type { Verdict } from '../restrictions/types';

export const REMEDIATION_HEADER = 'x-crowdsec-remediation';
export const COUNTRY_HEADER = 'x-country-code';

export function setVerdictHeaders(headers: IncomingHttpHeaders, forwardVerdict: boolean, verdict: Verdict): void {
  if (headers[REMEDIATION_HEADER] !== undefined) delete headers[REMEDIATION_HEADER];
  if (headers[COUNTRY_HEADER] !== undefined) delete headers[COUNTRY_HEADER];
  if (!forwardVerdict) return;
  const remediation = verdict.metadata?.crowdsec_mode === 'observe' ? verdict.metadata.crowdsec_verdict : undefined;
  // "unavailable" (no sync yet) is not a decision the application could act on.
  if (remediation !== undefined && remediation !== 'unavailable') headers[REMEDIATION_HEADER] = remediation;
  if (verdict.country !== undefined) headers[COUNTRY_HEADER] = verdict.country;
}
