// Every flag with its env var and default: the one table the CLI, the help, `npm run docs:settings`
// and the resolver (resolve.ts) read. A new flag is a SettingKey, a row here, a Settings field
// (types.ts) and its reading in resolve.ts.
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

export function specOf(key: SettingKey): SettingSpec {
  const spec = SETTINGS.find((s) => s.key === key);
  if (!spec) throw new Error(`unknown setting ${key}`);
  return spec;
}

/** `--http-addr` of `--http-addr <host:port>`. */
export function flagName(key: SettingKey): string {
  return specOf(key).flag.split(' ')[0];
}
