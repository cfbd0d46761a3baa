// Whether CrowdSec country-scope decisions can match: they need "country" in --crowdsec-scopes
// and a loaded country database. Shown in /status and warned about once at start.
import type { CountryScopeState } from '../admin/status';
import type { CrowdSecSettings } from '../crowdsec/stream/settings';
import type { CountryLookup } from '../restrictions/chain';

export function countryScopeState(crowdsec: CrowdSecSettings | undefined, geo: CountryLookup | undefined): CountryScopeState {
  if (crowdsec?.filters?.scopes.includes('country') !== true) return 'off: not in --crowdsec-scopes';
  return geo === undefined ? 'unavailable: no country database' : 'enabled';
}
