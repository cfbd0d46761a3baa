// Typed services.yaml, produced once by the loader and never re-validated downstream.
import type { AuthConfig } from '../auth/types';
import type { DenyTemplate } from '../util/deny-template';

export type CrowdSecMode = 'off' | 'enforce' | 'observe';

/** access.appsec: the request itself judged by CrowdSec's AppSec engine (http services only; docs/appsec.md). */
export interface AppSecConfig {
  mode: 'off' | 'enforce' | 'observe';
  /** Path prefixes never sent to the engine (each starts with "/"). */
  skipPaths: readonly string[];
}

/** access.challenge: what a client with a captcha decision gets instead of a denial (docs/challenge.md). */
export type ChallengeConfig =
  | { mode: 'off' | 'pow' }
  | { mode: 'turnstile' | 'hcaptcha' | 'recaptcha'; siteKey: string; secretFile: string; /** Read at load; never logged. */ secret: string };

/** A CIDR in canonical form, e.g. "10.0.0.0/8" or "2001:db8::/32"; a bare address becomes /32 or /128. */
export type CanonicalCidr = string;

export interface AccessConfig {
  cidr: { allow: CanonicalCidr[]; deny: CanonicalCidr[] };
  /** Upper-case ISO 3166-1 alpha-2 codes. */
  countries: { allow: string[]; deny: string[] };
  crowdsec: CrowdSecMode;
  appsec: AppSecConfig;
  challenge: ChallengeConfig;
}

export interface HostPort {
  host: string;
  port: number;
}

/** How an http service is served over HTTPS. File paths are absolute (resolved against services.yaml's directory). */
export type ServiceTls = { mode: 'off' } | { mode: 'acme' } | { mode: 'file'; cert: string; key: string };

/** How the proxy verifies an https:// target; only present when services.yaml sets upstream_tls. */
export interface UpstreamTlsConfig {
  /** Absolute path of a PEM bundle trusted instead of the system roots. */
  ca?: string;
  insecureSkipVerify: boolean;
  /** SNI and the name verified, instead of the target host. */
  serverName?: string;
}

export interface HttpServiceConfig {
  name: string;
  protocol: 'http';
  /** Lower-case; "*.example.org" matches exactly one label in front of example.org. */
  domains: string[];
  target: URL;
  access: AccessConfig;
  tls: ServiceTls;
  /** 308 from http:// to https:// (never for ACME http-01 challenge paths). */
  redirectHttps: boolean;
  upstreamTls?: UpstreamTlsConfig;
  /** What a denied client gets (docs/deny-page.md). */
  deny: DenyResponseConfig;
  /** Send X-Crowdsec-Remediation / X-Country-Code upstream (observe verdicts, known country). */
  forwardVerdict: boolean;
  /** `targets:` / `balance:` / `health:` at service level; absent: the one `target` (which is then also targets[0]). */
  pool?: PoolConfig<URL>;
  /** `routes:`, longest path prefix first; absent when none. */
  routes?: RouteConfig[];
  /** Who may use the service (docs/auth.md); absent: anyone the access rules admit. */
  auth?: AuthConfig;
}

/**
 * A denied HTTP request's answer: a page (HTML for browsers, text/plain "Forbidden" otherwise) or
 * a redirect for every client. `template` undefined: the built-in page.
 */
export type DenyResponseConfig =
  | { kind: 'page'; status: number; template: DenyTemplate | undefined; templatePath?: string; contactUrl?: string }
  | { kind: 'redirect'; status: 302 | 303 | 307; location: string };

export interface TcpServiceConfig {
  name: string;
  protocol: 'tcp';
  listen: HostPort;
  target: HostPort;
  access: AccessConfig;
  /** `targets:` (several upstreams); `target` is then targets[0]. */
  pool?: PoolConfig<HostPort>;
}

export type ServiceConfig = HttpServiceConfig | TcpServiceConfig;

export interface ServicesConfig {
  /** Path of the file it was read from, for messages. */
  file: string;
  /** The text it was parsed from, so that a reload can tell a real change from a touch. */
  text: string;
  services: ServiceConfig[];
}

export type BalancePolicy = 'round_robin' | 'least_conn' | 'ip_hash' | 'cookie';

/** One upstream of a pool: `address` is a URL (http) or host:port (tcp). */
export interface TargetConfig<A> {
  address: A;
  /** Share of the requests relative to the others (round_robin, least_conn); 1 by default. */
  weight: number;
  /** Used only when every non-backup target is down. */
  backup: boolean;
}

/** Active probing: an HTTP GET of `path` (http) or a TCP connect (tcp) every `intervalMs`. */
export interface ActiveHealthConfig {
  path: string;
  intervalMs: number;
  timeoutMs: number;
  /** Consecutive successes that bring a down target back. */
  healthy: number;
  /** Consecutive failures that take an up target down. */
  unhealthy: number;
}

/** Several upstreams and how they share the load. */
export interface PoolConfig<A> {
  targets: TargetConfig<A>[];
  balance: BalancePolicy;
  /** Passive health (nginx's names): `maxFails` failures within `failTimeoutMs` take a target down for `failTimeoutMs`. */
  maxFails: number;
  failTimeoutMs: number;
  active?: ActiveHealthConfig;
}

/** One entry of an http service's `routes:`. */
export interface RouteConfig {
  /** A path prefix starting with "/"; the longest one that prefixes the request path wins. */
  path: string;
  /** Its own targets; absent: the service's (the default route's) pool. */
  pool?: PoolConfig<URL>;
  /** The prefix is removed (strip_prefix) or replaced (rewrite) before the request goes upstream. */
  rewrite?: string;
  /** Request headers sent upstream: lower-case names. */
  headers: { set: [string, string][]; remove: string[] };
  /** The service's access with the route's `access:` fields laid over it. */
  access: AccessConfig;
  deny: DenyResponseConfig;
  /** Who may use the route: its own `auth:`, else the service's (the same object); absent: anyone the access rules admit. */
  auth?: AuthConfig;
}
