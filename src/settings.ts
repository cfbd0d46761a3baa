// Process settings: every flag has an env var; precedence is flag > environment > env file > default.
import { availableParallelism } from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import { parse as parseDotenv } from 'dotenv';
import { formatHostPort, parseHostPort } from './config/load';
import type { HostPort } from './config/types';
import { resolveAppSecSettings, type AppSecSettings } from './appsec/settings';
import { resolveChallengeSettings, type ChallengeSettings } from './challenge/settings';
import type { CrowdSecSettings } from './crowdsec/stream/settings';
import { commaList, parseScopes, type StreamFilters } from './crowdsec/stream/filters';
import { resolveLogFormat, type LogFormat } from './telemetry/log-format';
import { parseHttpsRedirectPort } from './tls/redirect';
import type { AcmeSettings } from './tls/settings';
import { parseGoDuration } from './util/duration';

export interface SettingSpec {
  /** Key in the commander options object. */
  key: SettingKey;
  flag: string;
  env: string;
  description: string;
  default?: string;
  boolean?: boolean;
}

export type SettingKey =
  | 'config'
  | 'httpAddr'
  | 'httpsAddr'
  | 'httpsRedirectPort'
  | 'adminAddr'
  | 'crowdsecApiUrl'
  | 'crowdsecApiKey'
  | 'crowdsecPollInterval'
  | 'crowdsecCaCert'
  | 'crowdsecCert'
  | 'crowdsecKey'
  | 'crowdsecOrigins'
  | 'crowdsecScenariosContaining'
  | 'crowdsecScenariosNotContaining'
  | 'crowdsecScopes'
  | 'crowdsecRemediationFallback'
  | 'crowdsecMetricsInterval'
  | 'appsecUrl'
  | 'appsecApiKey'
  | 'appsecTimeout'
  | 'appsecMaxBody'
  | 'appsecFailureAction'
  | 'appsecMaxInflight'
  | 'geoipDb'
  | 'trustedProxies'
  | 'proxyProtocol'
  | 'upstreamTimeout'
  | 'headerTimeout'
  | 'maxHeaderSize'
  | 'http2'
  | 'http2MaxConcurrentStreams'
  | 'shutdownGrace'
  | 'logLevel'
  | 'logFormat'
  | 'accessLog'
  | 'acmeEmail'
  | 'acmeDirectory'
  | 'acmeCaCert'
  | 'acmeChallenge'
  | 'acmeRenewBefore'
  | 'certDir'
  | 'eventLogSize'
  | 'adminToken'
  | 'workers'
  | 'denyTemplate'
  | 'sessionSecret'
  | 'sessionSecretFile'
  | 'challengePowDifficulty'
  | 'challengeTtl'
  | 'challengeVerifyUrl';

export const LETS_ENCRYPT_PRODUCTION = 'https://acme-v02.api.letsencrypt.org/directory';

export const SETTINGS: ReadonlyArray<SettingSpec> = [
  {
    key: 'config',
    flag: '--config <path>',
    env: 'NB_PROXY_CONFIG',
    default: 'config/services.yaml',
    description: 'services.yaml to load (re-read on SIGHUP and when it changes on disk)',
  },
  {
    key: 'httpAddr',
    flag: '--http-addr <host:port>',
    env: 'NB_PROXY_HTTP_ADDR',
    default: '0.0.0.0:8080',
    description: 'HTTP entrypoint for every http service; [::]:8080 listens dual-stack',
  },
  {
    key: 'httpsAddr',
    flag: '--https-addr <host:port>',
    env: 'NB_PROXY_HTTPS_ADDR',
    default: '0.0.0.0:8443',
    description: 'HTTPS entrypoint, bound only when a service has tls; routes by SNI/Host',
  },
  {
    key: 'httpsRedirectPort',
    flag: '--https-redirect-port <port|auto>',
    env: 'NB_PROXY_HTTPS_REDIRECT_PORT',
    default: 'auto',
    description: "port of the 308's https:// URL; auto: 443 when the client came on port 80 (Host without a port), else --https-addr's port",
  },
  {
    key: 'adminAddr',
    flag: '--admin-addr <host:port>',
    env: 'NB_PROXY_ADMIN_ADDR',
    default: '127.0.0.1:9090',
    description: 'admin listener: admin UI and API, /healthz /readyz /metrics /status /capabilities',
  },
  { key: 'crowdsecApiUrl', flag: '--crowdsec-api-url <url>', env: 'NB_PROXY_CROWDSEC_API_URL', description: 'CrowdSec LAPI URL, e.g. http://crowdsec:8080' },
  { key: 'crowdsecApiKey', flag: '--crowdsec-api-key <key>', env: 'NB_PROXY_CROWDSEC_API_KEY', description: 'CrowdSec bouncer API key (cscli bouncers add)' },
  {
    key: 'crowdsecPollInterval',
    flag: '--crowdsec-poll-interval <duration>',
    env: 'NB_PROXY_CROWDSEC_POLL_INTERVAL',
    default: '10s',
    description: 'interval between decision stream pulls (Go duration: 500ms, 10s, 1m30s)',
  },
  {
    key: 'crowdsecCaCert',
    flag: '--crowdsec-ca-cert <path>',
    env: 'NB_PROXY_CROWDSEC_CA_CERT',
    description: 'CA bundle that signed the LAPI certificate (https URLs)',
  },
  {
    key: 'crowdsecCert',
    flag: '--crowdsec-cert <path>',
    env: 'NB_PROXY_CROWDSEC_CERT',
    description: 'client certificate for LAPI TLS authentication (the API key becomes optional)',
  },
  { key: 'crowdsecKey', flag: '--crowdsec-key <path>', env: 'NB_PROXY_CROWDSEC_KEY', description: 'private key of --crowdsec-cert' },
  {
    key: 'crowdsecOrigins',
    flag: '--crowdsec-origins <list>',
    env: 'NB_PROXY_CROWDSEC_ORIGINS',
    default: '(all)',
    description: 'only pull decisions of these origins, e.g. crowdsec,cscli,lists (restart to change)',
  },
  {
    key: 'crowdsecScenariosContaining',
    flag: '--crowdsec-scenarios-containing <list>',
    env: 'NB_PROXY_CROWDSEC_SCENARIOS_CONTAINING',
    default: '(all)',
    description: 'only pull decisions whose scenario contains one of these words (restart to change)',
  },
  {
    key: 'crowdsecScenariosNotContaining',
    flag: '--crowdsec-scenarios-not-containing <list>',
    env: 'NB_PROXY_CROWDSEC_SCENARIOS_NOT_CONTAINING',
    default: '(none)',
    description: 'skip decisions whose scenario contains one of these words (restart to change)',
  },
  {
    key: 'crowdsecScopes',
    flag: '--crowdsec-scopes <list>',
    env: 'NB_PROXY_CROWDSEC_SCOPES',
    default: 'ip,range',
    description: 'decision scopes to pull: ip, range, country (country needs a country database; restart to change)',
  },
  {
    key: 'crowdsecRemediationFallback',
    flag: '--crowdsec-remediation-fallback <ban|ignore>',
    env: 'NB_PROXY_CROWDSEC_REMEDIATION_FALLBACK',
    default: 'ban',
    description: 'decision types other than ban, captcha, throttle: ban (deny) or ignore (not stored)',
  },
  {
    key: 'crowdsecMetricsInterval',
    flag: '--crowdsec-metrics-interval <duration>',
    env: 'NB_PROXY_CROWDSEC_METRICS_INTERVAL',
    default: '30m',
    description: 'push usage metrics (dropped, processed, active decisions) to the LAPI this often; 0 disables, at least 10m',
  },
  {
    key: 'appsecUrl',
    flag: '--appsec-url <url>',
    env: 'NB_PROXY_APPSEC_URL',
    description: 'CrowdSec AppSec engine, e.g. http://crowdsec:7422/ (unset: access.appsec unavailable; docs/appsec.md)',
  },
  {
    key: 'appsecApiKey',
    flag: '--appsec-api-key <key>',
    env: 'NB_PROXY_APPSEC_API_KEY',
    default: '(--crowdsec-api-key)',
    description: 'bouncer key sent to the AppSec engine, which checks it against its LAPI',
  },
  {
    key: 'appsecTimeout',
    flag: '--appsec-timeout <duration>',
    env: 'NB_PROXY_APPSEC_TIMEOUT',
    default: '200ms',
    description: 'time the AppSec engine has to answer (10ms to 5s); then the failure action',
  },
  {
    key: 'appsecMaxBody',
    flag: '--appsec-max-body <bytes>',
    env: 'NB_PROXY_APPSEC_MAX_BODY',
    default: '64KiB',
    description: 'request bodies up to this size are sent to the engine (at most 10MiB); larger: headers only',
  },
  {
    key: 'appsecFailureAction',
    flag: '--appsec-failure-action <deny|allow>',
    env: 'NB_PROXY_APPSEC_FAILURE_ACTION',
    default: 'deny',
    description: 'what enforce does when the engine is unreachable, slow, refuses the key or answers garbage',
  },
  {
    key: 'appsecMaxInflight',
    flag: '--appsec-max-inflight <n>',
    env: 'NB_PROXY_APPSEC_MAX_INFLIGHT',
    default: '256',
    description: 'engine requests in flight at most; beyond, enforce applies the failure action',
  },
  {
    key: 'geoipDb',
    flag: '--geoip-db <path>',
    env: 'NB_PROXY_GEOIP_DB',
    default: '(bundled @ip-location-db/geo-whois-asn-country-mmdb)',
    description: 'country database in mmdb format (GeoLite2-Country, DB-IP, ip-location-db)',
  },
  {
    key: 'trustedProxies',
    flag: '--trusted-proxies <cidr,...>',
    env: 'NB_PROXY_TRUSTED_PROXIES',
    default: '(none)',
    description: 'peers whose X-Forwarded-For and PROXY headers are believed',
  },
  {
    key: 'proxyProtocol',
    flag: '--proxy-protocol',
    env: 'NB_PROXY_PROXY_PROTOCOL',
    default: 'false',
    boolean: true,
    description: 'accept PROXY protocol v1/v2 headers on the listeners, from trusted peers only',
  },
  {
    key: 'upstreamTimeout',
    flag: '--upstream-timeout <duration>',
    env: 'NB_PROXY_UPSTREAM_TIMEOUT',
    default: '60s',
    description: 'time to wait for an upstream response (504 after) or TCP connect',
  },
  {
    key: 'headerTimeout',
    flag: '--header-timeout <duration>',
    env: 'NB_PROXY_HEADER_TIMEOUT',
    default: '30s',
    description: 'time a client has to send a complete request head (408 after)',
  },
  {
    key: 'maxHeaderSize',
    flag: '--max-header-size <bytes>',
    env: 'NB_PROXY_MAX_HEADER_SIZE',
    default: '16384',
    description: 'largest request head accepted, in bytes (431 above)',
  },
  {
    key: 'http2',
    flag: '--http2 <true|false>',
    env: 'NB_PROXY_HTTP2',
    default: 'true',
    description: 'offer HTTP/2 (ALPN h2, then http/1.1) on the HTTPS entrypoint; its header list limit is --max-header-size',
  },
  {
    key: 'http2MaxConcurrentStreams',
    flag: '--http2-max-concurrent-streams <n>',
    env: 'NB_PROXY_HTTP2_MAX_CONCURRENT_STREAMS',
    default: '100',
    description: 'streams one HTTP/2 client connection may have open at once (1 to 1000)',
  },
  {
    key: 'shutdownGrace',
    flag: '--shutdown-grace <duration>',
    env: 'NB_PROXY_SHUTDOWN_GRACE',
    default: '10s',
    description: 'how long in-flight requests may finish on SIGTERM/SIGINT',
  },
  { key: 'logLevel', flag: '--log-level <level>', env: 'NB_PROXY_LOG_LEVEL', default: 'info', description: 'trace, debug, info, warn, error, fatal, silent' },
  {
    key: 'logFormat',
    flag: '--log-format <format>',
    env: 'NB_PROXY_LOG_FORMAT',
    default: '(pretty on a terminal, else json)',
    description: 'json (one JSON object a line) or pretty (pino-pretty, colour unless NO_COLOR)',
  },
  {
    key: 'accessLog',
    flag: '--access-log <path>',
    env: 'NB_PROXY_ACCESS_LOG',
    default: '(stdout)',
    description: 'write access entries to this file; reopened on SIGUSR2',
  },
  { key: 'acmeEmail', flag: '--acme-email <address>', env: 'NB_PROXY_ACME_EMAIL', description: 'contact address for the ACME account (expiry notices)' },
  {
    key: 'acmeDirectory',
    flag: '--acme-directory <url>',
    env: 'NB_PROXY_ACME_DIRECTORY',
    default: LETS_ENCRYPT_PRODUCTION,
    description: "ACME directory URL (Let's Encrypt production by default)",
  },
  {
    key: 'acmeCaCert',
    flag: '--acme-ca-cert <pem>',
    env: 'NB_PROXY_ACME_CA_CERT',
    description: "CA bundle trusted for a private ACME server's own HTTPS (step-ca, Pebble)",
  },
  {
    key: 'acmeChallenge',
    flag: '--acme-challenge <type>',
    env: 'NB_PROXY_ACME_CHALLENGE',
    default: 'tls-alpn-01',
    description: 'tls-alpn-01 (on --https-addr) or http-01 (on --http-addr)',
  },
  {
    key: 'acmeRenewBefore',
    flag: '--acme-renew-before <duration>',
    env: 'NB_PROXY_ACME_RENEW_BEFORE',
    default: '(a third of the lifetime)',
    description: 'renew when less than this remains; a large value forces renewal (tests)',
  },
  {
    key: 'certDir',
    flag: '--cert-dir <dir>',
    env: 'NB_PROXY_CERT_DIR',
    default: './certs',
    description: 'ACME account key and certificates (mode 0600); may be shared by several instances',
  },
  {
    key: 'workers',
    flag: '--workers <n|auto>',
    env: 'NB_PROXY_WORKERS',
    default: '1',
    description: 'processes serving the listeners; auto = one per available core (see docs/workers.md)',
  },
  {
    key: 'eventLogSize',
    flag: '--event-log-size <n>',
    env: 'NB_PROXY_EVENT_LOG_SIZE',
    default: '10000',
    description: 'access entries kept in memory for the admin event log (0 disables it)',
  },
  {
    key: 'adminToken',
    flag: '--admin-token <token>',
    env: 'NB_PROXY_ADMIN_TOKEN',
    description: 'token for the admin UI and API (required when --admin-addr is not loopback)',
  },
  {
    key: 'denyTemplate',
    flag: '--deny-template <path>',
    env: 'NB_PROXY_DENY_TEMPLATE',
    default: '(built in)',
    description: 'HTML page for denied browsers of services without deny.template; read with services.yaml (docs/deny-page.md)',
  },
  {
    key: 'sessionSecret',
    flag: '--session-secret <secret>',
    env: 'NB_PROXY_SESSION_SECRET',
    default: '(--session-secret-file)',
    description: 'key signing auth session cookies, at least 32 characters; share it between instances (docs/auth.md)',
  },
  {
    key: 'sessionSecretFile',
    flag: '--session-secret-file <path>',
    env: 'NB_PROXY_SESSION_SECRET_FILE',
    default: '(<cert-dir>/session-secret)',
    description: 'file holding the session key; by default created in --cert-dir (0600) when a service first uses auth',
  },
  {
    key: 'challengePowDifficulty',
    flag: '--challenge-pow-difficulty <n>',
    env: 'NB_PROXY_CHALLENGE_POW_DIFFICULTY',
    default: '30000',
    description: 'access.challenge pow: key derivations a browser may need (random from half to all of it; docs/challenge.md)',
  },
  {
    key: 'challengeTtl',
    flag: '--challenge-ttl <duration>',
    env: 'NB_PROXY_CHALLENGE_TTL',
    default: '30m',
    description: 'how long a solved challenge lets the address in (its cookie, bound to the address and service)',
  },
  {
    key: 'challengeVerifyUrl',
    flag: '--challenge-verify-url <url>',
    env: 'NB_PROXY_CHALLENGE_VERIFY_URL',
    default: "(the provider's siteverify)",
    description: "siteverify URL for the turnstile, hcaptcha and recaptcha modes instead of the provider's own",
  },
];

/**
 * The env file flag. Node 20, 22 and 24 read `--env-file` out of a script's own arguments when the
 * script is started as `node bin/netbird-proxy ...` and exit 9 when the file is missing, before any
 * of our code runs; so the flag is --proxy-env, and --env-file is kept as an alias that reaches us
 * when Node does not look (./bin/netbird-proxy, npm start, `node -- bin/netbird-proxy`).
 */
export const ENV_FILE_FLAG = '--proxy-env <path>';
export const ENV_FILE_ALIAS = '--env-file <path>';
export const DEFAULT_ENV_FILE = 'proxy.env';

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

function remediationFallback(raw: string | undefined): 'ban' | 'ignore' {
  const v = (raw ?? 'ban').trim().toLowerCase();
  if (v !== 'ban' && v !== 'ignore')
    throw new SettingsError(`--crowdsec-remediation-fallback / NB_PROXY_CROWDSEC_REMEDIATION_FALLBACK: "${raw}" is not ban or ignore`);
  return v;
}

function streamFilters(get: (k: SettingKey) => string | undefined): StreamFilters {
  const scopes = parseScopes(get('crowdsecScopes'));
  if (typeof scopes === 'string') throw new SettingsError(`--crowdsec-scopes / NB_PROXY_CROWDSEC_SCOPES: ${scopes}`);
  return {
    origins: commaList(get('crowdsecOrigins')),
    scenariosContaining: commaList(get('crowdsecScenariosContaining')),
    scenariosNotContaining: commaList(get('crowdsecScenariosNotContaining')),
    scopes,
  };
}

/** Test-only: lifts the 10m floor of --crowdsec-metrics-interval so that end-to-end tests see pushes in seconds. */
export const SHORT_METRICS_INTERVAL_ENV = 'NB_PROXY_TEST_SHORT_METRICS_INTERVAL';
export const MIN_METRICS_INTERVAL_MS = 10 * 60_000;

/** Usage-metrics push interval in ms; 0 disables. CrowdSec's spec recommends 15m or more between pushes. */
function metricsInterval(value: string, allowShort: boolean): number {
  const where = '--crowdsec-metrics-interval / NB_PROXY_CROWDSEC_METRICS_INTERVAL';
  let ms: number;
  try {
    ms = parseGoDuration(value);
  } catch {
    throw new SettingsError(`${where}: "${value}" is not a duration such as 30m or 1h (0 disables)`);
  }
  if (ms < 0 || !Number.isFinite(ms)) throw new SettingsError(`${where}: "${value}" must be 0 (disabled) or positive`);
  if (ms > 0 && ms < MIN_METRICS_INTERVAL_MS && !allowShort) {
    throw new SettingsError(`${where}: "${value}" is below the 10m minimum (CrowdSec recommends 15m or more; 0 disables)`);
  }
  return ms;
}

const LOG_LEVELS = new Set(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']);

type RawValues = Partial<Record<SettingKey, string | boolean>>;

/**
 * Merges flags, environment and env file. `flags` holds only options given on the command line.
 */
export function resolveSettings(flags: RawValues, env: NodeJS.ProcessEnv, envFileFlag: string | undefined): Settings {
  const envFile = envFileFlag ?? (existsSync(DEFAULT_ENV_FILE) ? DEFAULT_ENV_FILE : undefined);
  let fileEnv: Record<string, string> = {};
  if (envFile !== undefined) {
    let text: Buffer;
    try {
      text = readFileSync(envFile);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const fix = code === 'ENOENT' ? ': create it (cp proxy.env.example proxy.env) or leave the flag out' : '';
      throw new SettingsError(`env file ${envFile} (--proxy-env / --env-file): cannot read it (${code ?? (err as Error).message})${fix}`);
    }
    fileEnv = parseDotenv(text);
  }
  const envFileVars = Object.keys(fileEnv).filter((k) => k.startsWith('NB_PROXY_')).length;
  const envFileReason = envFileReasonOf(envFileFlag, envFile);
  const raw = (spec: SettingSpec): string | undefined => {
    const flag = flags[spec.key];
    if (flag !== undefined) return typeof flag === 'boolean' ? String(flag) : flag;
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
    const fromFile = fileEnv[spec.env];
    if (fromFile !== undefined && fromFile !== '') return fromFile;
    return undefined;
  };
  const get = (key: SettingKey): string | undefined => raw(specOf(key));
  const withDefault = (key: SettingKey): string => {
    const spec = specOf(key);
    const value = raw(spec);
    if (value !== undefined) return value;
    if (spec.default === undefined) throw new Error(`setting ${key} has no default`);
    return spec.default;
  };

  const addr = (key: SettingKey): HostPort => {
    const value = withDefault(key);
    const hp = parseHostPort(value);
    if (!hp) throw new SettingsError(`${flagName(key)} / ${specOf(key).env}: "${value}" is not host:port`);
    return hp;
  };
  const duration = (key: SettingKey): number => {
    const value = withDefault(key);
    let ms: number;
    try {
      ms = parseGoDuration(value);
    } catch {
      throw new SettingsError(`${flagName(key)} / ${specOf(key).env}: "${value}" is not a duration such as 500ms, 10s or 1m30s`);
    }
    if (!(ms > 0)) throw new SettingsError(`${flagName(key)} / ${specOf(key).env}: "${value}" must be positive`);
    return ms;
  };

  const byteCount = (key: SettingKey): number => {
    const value = withDefault(key);
    if (!/^[1-9][0-9]{0,9}$/.test(value)) throw new SettingsError(`${flagName(key)} / ${specOf(key).env}: "${value}" is not a number of bytes such as 16384`);
    return Number(value);
  };

  const logLevel = withDefault('logLevel').toLowerCase();
  if (!LOG_LEVELS.has(logLevel)) throw new SettingsError(`--log-level / NB_PROXY_LOG_LEVEL: "${logLevel}" is not one of ${[...LOG_LEVELS].join(', ')}`);

  const logFormat = resolveLogFormat(get('logFormat'), process.stdout.isTTY === true);
  if (logFormat === undefined) throw new SettingsError(`--log-format / NB_PROXY_LOG_FORMAT: "${get('logFormat')}" is not json or pretty`);
  const httpsRedirectPort = parseHttpsRedirectPort(withDefault('httpsRedirectPort'));
  if (httpsRedirectPort === undefined) {
    throw new SettingsError(
      `--https-redirect-port / NB_PROXY_HTTPS_REDIRECT_PORT: "${withDefault('httpsRedirectPort')}" is not auto or a port from 1 to 65535`,
    );
  }

  const proxyProtocolRaw = get('proxyProtocol');
  const proxyProtocol = proxyProtocolRaw === undefined ? false : parseBool(proxyProtocolRaw, 'proxyProtocol');

  const trustedRaw = get('trustedProxies');
  const trustedProxies =
    trustedRaw === undefined
      ? []
      : trustedRaw
          .split(',')
          .map((s) => s.trim())
          .filter((s) => s !== '');

  const apiUrl = get('crowdsecApiUrl');
  const apiKey = get('crowdsecApiKey');
  const certPath = get('crowdsecCert');
  const keyPath = get('crowdsecKey');
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new SettingsError('--crowdsec-cert and --crowdsec-key (NB_PROXY_CROWDSEC_CERT / NB_PROXY_CROWDSEC_KEY) go together');
  }
  // Checked whether or not CrowdSec is configured, so that a typo shows before the LAPI is added.
  const pollIntervalMs = duration('crowdsecPollInterval');
  const metricsIntervalMs = metricsInterval(withDefault('crowdsecMetricsInterval'), env[SHORT_METRICS_INTERVAL_ENV] === '1');
  if (apiUrl === undefined && (apiKey !== undefined || certPath !== undefined)) {
    const given = apiKey !== undefined ? '--crowdsec-api-key (NB_PROXY_CROWDSEC_API_KEY)' : '--crowdsec-cert (NB_PROXY_CROWDSEC_CERT)';
    throw new SettingsError(
      `${given} is set but --crowdsec-api-url (NB_PROXY_CROWDSEC_API_URL) is not: set the LAPI URL, e.g. http://crowdsec:8080, or remove the key`,
    );
  }
  if (apiUrl !== undefined && apiKey === undefined && certPath === undefined) {
    throw new SettingsError(
      '--crowdsec-api-url (NB_PROXY_CROWDSEC_API_URL) is set but --crowdsec-api-key (NB_PROXY_CROWDSEC_API_KEY) is not: set the bouncer key (npm run gen-key, or cscli bouncers add), or remove the URL',
    );
  }
  let crowdsec: CrowdSecSettings | undefined;
  if (apiUrl !== undefined) {
    let url: URL;
    try {
      url = new URL(apiUrl);
    } catch {
      throw new SettingsError(`--crowdsec-api-url / NB_PROXY_CROWDSEC_API_URL: "${apiUrl}" is not a URL`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SettingsError(`--crowdsec-api-url / NB_PROXY_CROWDSEC_API_URL: "${apiUrl}" must be http:// or https://`);
    }
    crowdsec = {
      apiUrl: apiUrl.replace(/\/+$/, ''),
      apiKey,
      pollIntervalMs,
      caCertPath: get('crowdsecCaCert'),
      certPath,
      keyPath,
      filters: streamFilters(get),
      remediationFallback: remediationFallback(get('crowdsecRemediationFallback')),
      metricsIntervalMs,
    };
  }

  const challenge = withDefault('acmeChallenge');
  if (challenge !== 'tls-alpn-01' && challenge !== 'http-01') {
    throw new SettingsError(`--acme-challenge / NB_PROXY_ACME_CHALLENGE: "${challenge}" is not tls-alpn-01 or http-01`);
  }
  const directoryUrl = withDefault('acmeDirectory');
  if (!/^https?:\/\/[^/]/.test(directoryUrl)) {
    throw new SettingsError(`--acme-directory / NB_PROXY_ACME_DIRECTORY: "${directoryUrl}" is not an http(s) URL`);
  }
  const acme: AcmeSettings = {
    email: get('acmeEmail'),
    directoryUrl,
    caCertPath: get('acmeCaCert'),
    challenge,
    renewBeforeMs: get('acmeRenewBefore') === undefined ? undefined : duration('acmeRenewBefore'),
    certDir: withDefault('certDir'),
  };
  const eventLogRaw = withDefault('eventLogSize');
  if (!/^\d+$/.test(eventLogRaw.trim()) || Number(eventLogRaw) > 1_000_000) {
    throw new SettingsError(`--event-log-size / NB_PROXY_EVENT_LOG_SIZE: "${eventLogRaw}" is not a whole number from 0 to 1000000`);
  }
  const adminAddr = addr('adminAddr');
  const adminToken = get('adminToken');
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new SettingsError('--admin-token / NB_PROXY_ADMIN_TOKEN: must be at least 16 characters (e.g. openssl rand -hex 16)');
  }
  if (adminToken === undefined && !isLoopbackAddress(adminAddr.host)) {
    throw new SettingsError(
      `--admin-addr ${formatHostPort(adminAddr)} is not a loopback address: set --admin-token / NB_PROXY_ADMIN_TOKEN to expose the admin listener`,
    );
  }

  return {
    configPath: withDefault('config'),
    envFile,
    envFileVars,
    envFileReason,
    httpAddr: addr('httpAddr'),
    httpsAddr: addr('httpsAddr'),
    httpsRedirectPort,
    adminAddr,
    crowdsec,
    appsec: resolveAppSecSettings(
      {
        url: get('appsecUrl'),
        apiKey: get('appsecApiKey') ?? apiKey,
        timeout: withDefault('appsecTimeout'),
        maxBody: withDefault('appsecMaxBody'),
        failureAction: withDefault('appsecFailureAction'),
        maxInflight: withDefault('appsecMaxInflight'),
      },
      (message) => new SettingsError(message),
    ),
    geoipDb: get('geoipDb'),
    trustedProxies,
    proxyProtocol,
    upstreamTimeoutMs: duration('upstreamTimeout'),
    headerTimeoutMs: duration('headerTimeout'),
    maxHeaderSize: byteCount('maxHeaderSize'),
    http2: parseBool(withDefault('http2'), 'http2'),
    http2MaxConcurrentStreams: streamLimit(withDefault('http2MaxConcurrentStreams')),
    shutdownGraceMs: duration('shutdownGrace'),
    logLevel,
    logFormat,
    accessLog: get('accessLog'),
    acme,
    eventLogSize: Number(eventLogRaw),
    adminToken,
    workers: workerCount(withDefault('workers')),
    denyTemplate: get('denyTemplate'),
    session: { secret: get('sessionSecret'), secretFile: get('sessionSecretFile') },
    challenge: resolveChallengeSettings(
      { powDifficulty: withDefault('challengePowDifficulty'), ttl: withDefault('challengeTtl'), verifyUrl: get('challengeVerifyUrl') },
      (m) => new SettingsError(m),
    ),
  };
}

function envFileReasonOf(flag: string | undefined, file: string | undefined): string {
  if (flag !== undefined) return 'given with --proxy-env / --env-file';
  const where = `./${DEFAULT_ENV_FILE} in ${process.cwd()}`;
  return file === undefined ? `none: no --proxy-env and no ${where}` : `${where} exists (the default; --proxy-env names another)`;
}

function specOf(key: SettingKey): SettingSpec {
  const spec = SETTINGS.find((s) => s.key === key);
  if (!spec) throw new Error(`unknown setting ${key}`);
  return spec;
}

function flagName(key: SettingKey): string {
  return specOf(key).flag.split(' ')[0];
}

function streamLimit(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > 1000) {
    throw new SettingsError(`--http2-max-concurrent-streams / NB_PROXY_HTTP2_MAX_CONCURRENT_STREAMS: "${value}" is not a whole number from 1 to 1000`);
  }
  return n;
}

function parseBool(value: string, key: SettingKey): boolean {
  const v = value.trim().toLowerCase();
  if (v === 'true' || v === '1' || v === 'yes' || v === 'on') return true;
  if (v === 'false' || v === '0' || v === 'no' || v === 'off') return false;
  throw new SettingsError(`${flagName(key)} / ${specOf(key).env}: "${value}" is not true or false`);
}

/** 127.0.0.0/8, ::1 and localhost: the addresses only this machine can reach. */
function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/** --workers: a whole number from 1 to 64, or auto (os.availableParallelism()). */
function workerCount(raw: string): number {
  const v = raw.trim().toLowerCase();
  if (v === 'auto') return Math.max(1, Math.min(64, availableParallelism()));
  if (!/^\d+$/.test(v) || Number(v) < 1 || Number(v) > 64) {
    throw new SettingsError(`--workers / NB_PROXY_WORKERS: "${raw}" is not auto or a whole number from 1 to 64`);
  }
  return Number(v);
}
