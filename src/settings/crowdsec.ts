// The --crowdsec-* flags → CrowdSecSettings, or undefined when no LAPI is configured.
import type { CrowdSecSettings } from '../crowdsec/stream/settings';
import { commaList, parseScopes, type StreamFilters } from '../crowdsec/stream/filters';
import { parseGoDuration } from '../util/duration';
import type { Source } from './sources';
import { SettingsError } from './types';
import { duration } from './values';

/** Test-only: lifts the 10m floor of --crowdsec-metrics-interval so that end-to-end tests see pushes in seconds. */
export const SHORT_METRICS_INTERVAL_ENV = 'NB_PROXY_TEST_SHORT_METRICS_INTERVAL';
export const MIN_METRICS_INTERVAL_MS = 10 * 60_000;

export function crowdsecSettings(source: Source, env: NodeJS.ProcessEnv): CrowdSecSettings | undefined {
  const { get, withDefault } = source;
  const apiUrl = get('crowdsecApiUrl');
  const apiKey = get('crowdsecApiKey');
  const certPath = get('crowdsecCert');
  const keyPath = get('crowdsecKey');
  if ((certPath === undefined) !== (keyPath === undefined)) {
    throw new SettingsError('--crowdsec-cert and --crowdsec-key (NB_PROXY_CROWDSEC_CERT / NB_PROXY_CROWDSEC_KEY) go together');
  }
  // Checked whether or not CrowdSec is configured, so that a typo shows before the LAPI is added.
  const pollIntervalMs = duration(source, 'crowdsecPollInterval');
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
  if (apiUrl === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(apiUrl);
  } catch {
    throw new SettingsError(`--crowdsec-api-url / NB_PROXY_CROWDSEC_API_URL: "${apiUrl}" is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SettingsError(`--crowdsec-api-url / NB_PROXY_CROWDSEC_API_URL: "${apiUrl}" must be http:// or https://`);
  }
  return {
    apiUrl: apiUrl.replace(/\/+$/, ''),
    apiKey,
    pollIntervalMs,
    caCertPath: get('crowdsecCaCert'),
    certPath,
    keyPath,
    filters: streamFilters(source),
    remediationFallback: remediationFallback(get('crowdsecRemediationFallback')),
    metricsIntervalMs,
  };
}

function remediationFallback(raw: string | undefined): 'ban' | 'ignore' {
  const v = (raw ?? 'ban').trim().toLowerCase();
  if (v !== 'ban' && v !== 'ignore')
    throw new SettingsError(`--crowdsec-remediation-fallback / NB_PROXY_CROWDSEC_REMEDIATION_FALLBACK: "${raw}" is not ban or ignore`);
  return v;
}

function streamFilters({ get }: Source): StreamFilters {
  const scopes = parseScopes(get('crowdsecScopes'));
  if (typeof scopes === 'string') throw new SettingsError(`--crowdsec-scopes / NB_PROXY_CROWDSEC_SCOPES: ${scopes}`);
  return {
    origins: commaList(get('crowdsecOrigins')),
    scenariosContaining: commaList(get('crowdsecScenariosContaining')),
    scenariosNotContaining: commaList(get('crowdsecScenariosNotContaining')),
    scopes,
  };
}

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
