// How to reach the CrowdSec LAPI; resolved from flags/env by src/settings.ts.
import type { StreamFilters } from './filters';
import type { RemediationFallback } from '../core/store';

export interface CrowdSecSettings {
  apiUrl: string;
  apiKey: string | undefined;
  pollIntervalMs: number;
  caCertPath: string | undefined;
  certPath: string | undefined;
  keyPath: string | undefined;
  /** Sent on every stream pull; a change needs a restart. Absent = DEFAULT_FILTERS. */
  filters?: StreamFilters;
  /** Types other than ban/captcha/throttle; absent = "ban". */
  remediationFallback?: RemediationFallback;
  /** Usage metrics push interval (POST /v1/usage-metrics); 0 or absent = not pushed. */
  metricsIntervalMs?: number;
}
