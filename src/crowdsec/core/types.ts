// Shapes of the CrowdSec LAPI bouncer API and of what the decision store answers.

/** One decision as /v1/decisions/stream sends it. */
export interface LapiDecision {
  id?: number;
  origin?: string;
  type?: string;
  scope?: string;
  value?: string;
  duration?: string;
  scenario?: string;
  uuid?: string;
}

/** Body of /v1/decisions/stream: either array may be null. */
export interface StreamResponse {
  new: LapiDecision[] | null;
  deleted: LapiDecision[] | null;
}

/** What a lookup returns: the decision that applies to a client. */
export interface ActiveDecision {
  /** Lower-case remediation type: ban, captcha, throttle or a custom word. */
  readonly type: string;
  readonly origin: string;
  readonly scenario: string;
  /** Canonical value the decision was stored under ("1.2.3.4" or "1.2.3.0/24"). */
  readonly value: string;
  /** Epoch milliseconds after which the entry no longer applies. */
  readonly expiresAt: number;
}

export interface ApplyResult {
  added: number;
  deleted: number;
  skipped: number;
  /** New decisions whose duration had already run out (neither stored nor counted as skipped). */
  expired?: number;
}

/** The read side the restriction chain needs; no I/O behind it. */
export interface DecisionLookup {
  lookup(ip: string, nowMs: number): ActiveDecision | undefined;
}

/** Country-scope decisions as the chain reads them (value = the upper-case ISO code). */
export interface CountryDecisionLookup {
  /** Country-scope entries held; 0 means the chain need not look up the client's country. */
  readonly countryDecisionCount: number;
  lookupCountry(country: string, nowMs: number): ActiveDecision | undefined;
}

/** Decision counts for /status (DecisionStore.stats()). */
export interface DecisionStoreStats {
  /** (value, type) entries. */
  total: number;
  byType: Record<string, number>;
  byOrigin: Record<string, number>;
  /** Keys "ipv4" and "ipv6". */
  byFamily: Record<string, number>;
  /** Entries on ranges (not /32 or /128). */
  ranges: number;
  /** Country-scope entries (counted in total, byType and byOrigin, not in byFamily). */
  countries: number;
}

/** One (type, origin, family) count, for the Prometheus gauge (DecisionStore.breakdown()). */
export interface DecisionBreakdownRow {
  type: string;
  origin: string;
  family: 4 | 6;
  count: number;
}

export type BouncerState = 'stopped' | 'connecting' | 'synced' | 'degraded';

/** What the metrics read from the running bouncer (StreamBouncer implements it). */
export interface BouncerStats {
  /** True once the initial sync completed; stays true through later outages. */
  readonly synced: boolean;
  readonly pollIntervalMs: number;
  readonly pullsOk: number;
  readonly pullsFailed: number;
  /** Epoch ms of the last successful pull; undefined before the first. */
  readonly lastSuccessAt: number | undefined;
  /** From start to the initial decisions being applied; undefined until then. */
  readonly initialSyncMs: number | undefined;
  /** Entries held (expired-but-not-swept included), one row per (type, origin, family). */
  breakdown(): DecisionBreakdownRow[];
}
