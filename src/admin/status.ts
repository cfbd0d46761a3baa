// The JSON body of GET /status: built by the daemon, read by `netbird-proxy status`.
import type { AuthSummary } from '../auth/summary';
import type { AppSecStatus } from '../appsec/status';
import type { CertificateStatus } from '../tls/status';
import type { CrowdSecMode } from '../config/types';
import type { BouncerStatus } from '../crowdsec/stream/bouncer';

/** Whether CrowdSec country-scope decisions can match (daemon/country-scope.ts decides). */
export type CountryScopeState = 'enabled' | 'off: not in --crowdsec-scopes' | 'unavailable: no country database';

export interface ListenerStatus {
  kind: 'http' | 'https' | 'admin' | 'tcp';
  address: string;
  /** The tcp service it serves; null for the shared http entrypoint and the admin listener. */
  service: string | null;
  bound: boolean;
}

export interface ServiceStatus {
  name: string;
  protocol: 'http' | 'tcp';
  /** http: the domains; tcp: the listen address. */
  match: string[];
  target: string;
  crowdsec: CrowdSecMode;
  cidr: { allow: string[]; deny: string[] };
  countries: { allow: string[]; deny: string[] };
  /** Services with routes or several targets: each route ("default" first) and its targets' health. */
  routes?: RouteStatus[];
  /** http services with auth: the method and its public settings; null without. */
  auth: AuthSummary | null;
}

export interface RouteStatus {
  route: string;
  balance: string;
  /** http services: who may use the route (its own login, the service's, or null for none). */
  auth?: AuthSummary | null;
  targets: Array<{
    target: string;
    weight: number;
    backup: boolean;
    health: 'up' | 'down';
    /** probe: the active health check; failures: passive (max_fails within fail_timeout). */
    down_reason?: 'probe' | 'failures';
    probe_error?: string;
    active: number;
    requests: number;
    failures: number;
  }>;
}

export type CrowdSecStatus = {
  configured: boolean;
  url: string | null;
  /** True once the running bouncer completed its initial sync; false while stopped. */
  synced: boolean;
  /** Whether Country-scope decisions can match (they need "country" in --crowdsec-scopes and a country database). */
  country_scope: CountryScopeState;
  /** Services with CrowdSec enforce or observe. */
  services: Array<{ service: string; mode: CrowdSecMode }>;
} & (BouncerStatus | { state: 'stopped' });

export interface StatusReport {
  version: string;
  ready: boolean;
  not_ready_reasons: string[];
  /** TCP connections and WebSockets open now (those the live re-judgement watches). */
  open_connections: number;
  /** TLS certificates: names, issuer, not_after, source, last error, next renewal. */
  certificates: CertificateStatus[];
  listeners: ListenerStatus[];
  services: ServiceStatus[];
  crowdsec: CrowdSecStatus;
  /** CrowdSec AppSec (docs/appsec.md); absent from a --workers group's primary. */
  appsec?: AppSecStatus;
}
