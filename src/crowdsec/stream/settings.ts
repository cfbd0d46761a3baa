// How to reach the CrowdSec LAPI; resolved from flags/env by src/settings.ts.

export interface CrowdSecSettings {
  apiUrl: string;
  apiKey: string | undefined;
  pollIntervalMs: number;
  caCertPath: string | undefined;
  certPath: string | undefined;
  keyPath: string | undefined;
}
