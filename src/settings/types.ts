// The resolved process settings, as the rest of the program reads them.
import type { AppSecSettings } from '../appsec/settings';
import type { ChallengeSettings } from '../challenge/settings';
import type { HostPort } from '../config/types';
import type { CrowdSecSettings } from '../crowdsec/stream/settings';
import type { LogFormat } from '../telemetry/log-format';
import type { AcmeSettings } from '../tls/settings';

export interface Settings {
  configPath: string;
  envFile: string | undefined;
  /** How many NB_PROXY_ variables the env file set (values are never logged). */
  envFileVars: number;
  /** Why that env file (or none) was read, for the start-up line. */
  envFileReason: string;
  httpAddr: HostPort;
  httpsAddr: HostPort;
  httpsRedirectPort: number | 'auto';
  adminAddr: HostPort;
  /** Undefined when CrowdSec is not configured (no URL, or neither a key nor a client certificate). */
  crowdsec: CrowdSecSettings | undefined;
  /** Undefined when --appsec-url is not set. */
  appsec: AppSecSettings | undefined;
  geoipDb: string | undefined;
  trustedProxies: string[];
  proxyProtocol: boolean;
  upstreamTimeoutMs: number;
  headerTimeoutMs: number;
  maxHeaderSize: number;
  http2: boolean;
  http2MaxConcurrentStreams: number;
  shutdownGraceMs: number;
  logLevel: string;
  logFormat: LogFormat;
  accessLog: string | undefined;
  acme: AcmeSettings;
  eventLogSize: number;
  adminToken: string | undefined;
  /** Serving processes; 1 = the single-process daemon. */
  workers: number;
  /** --deny-template: read with services.yaml at every load. */
  denyTemplate: string | undefined;
  /** Where auth's session key comes from (src/auth/session-secret.ts); read when a service first uses auth. */
  session: { secret: string | undefined; secretFile: string | undefined };
  /** access.challenge (src/challenge/settings.ts). */
  challenge: ChallengeSettings;
}

export class SettingsError extends Error {}
