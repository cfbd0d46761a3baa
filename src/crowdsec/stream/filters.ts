// Stream filters (remediation-component spec): origins, scenarios_containing, scenarios_not_containing
// and scopes, sent as query parameters on every GET /v1/decisions/stream.

export interface StreamFilters {
  /** Empty = all origins. */
  origins: string[];
  scenariosContaining: string[];
  scenariosNotContaining: string[];
  /** Lower-case scope names; never empty. */
  scopes: string[];
}

export const DEFAULT_SCOPES: readonly string[] = ['ip', 'range'];
const KNOWN_SCOPES = new Set(['ip', 'range', 'country']);

export const DEFAULT_FILTERS: StreamFilters = { origins: [], scenariosContaining: [], scenariosNotContaining: [], scopes: [...DEFAULT_SCOPES] };

/** Splits a comma list, trimming and dropping empty items. */
export function commaList(raw: string | undefined): string[] {
  if (raw === undefined) return [];
  return raw
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** Validates --crowdsec-scopes; returns an error message or the scopes. */
export function parseScopes(raw: string | undefined): string[] | string {
  const scopes = raw === undefined ? [...DEFAULT_SCOPES] : commaList(raw).map((s) => s.toLowerCase());
  if (scopes.length === 0) return 'needs at least one scope (ip, range, country)';
  for (const s of scopes) {
    if (!KNOWN_SCOPES.has(s)) return `"${s}" is not a supported scope (ip, range, country)`;
  }
  return [...new Set(scopes)];
}

/** The query string (without "?") for a stream pull. */
export function streamQuery(filters: StreamFilters, startup: boolean): string {
  const q = new URLSearchParams();
  if (startup) q.set('startup', 'true');
  q.set('scopes', filters.scopes.join(','));
  if (filters.origins.length > 0) q.set('origins', filters.origins.join(','));
  if (filters.scenariosContaining.length > 0) q.set('scenarios_containing', filters.scenariosContaining.join(','));
  if (filters.scenariosNotContaining.length > 0) q.set('scenarios_not_containing', filters.scenariosNotContaining.join(','));
  return q.toString().replace(/%2C/gi, ',');
}
