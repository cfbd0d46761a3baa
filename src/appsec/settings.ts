// The --appsec-* flags, validated into what the AppSec client needs. Pure.
import { parseGoDuration } from '../util/duration';

export type AppSecFailureAction = 'deny' | 'allow';

export interface AppSecSettings {
  /** The engine's URL; requests go to its path (usually "/"). */
  url: URL;
  /** Bouncer key, X-Crowdsec-Appsec-Api-Key: never logged. */
  apiKey: string;
  timeoutMs: number;
  /** Bodies up to this many bytes are sent to the engine; larger ones: headers only. */
  maxBody: number;
  failureAction: AppSecFailureAction;
  maxInflight: number;
}

export interface AppSecRawSettings {
  url: string | undefined;
  /** --appsec-api-key, else --crowdsec-api-key. */
  apiKey: string | undefined;
  timeout: string;
  maxBody: string;
  failureAction: string;
  maxInflight: string;
}

export const MIN_TIMEOUT_MS = 10;
export const MAX_TIMEOUT_MS = 5000;
export const MAX_BODY_LIMIT = 10 * 1024 * 1024;

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, kb: 1024, kib: 1024, m: 1024 * 1024, mb: 1024 * 1024, mib: 1024 * 1024 };

/** "65536", "64KiB", "64k", "1MiB": bytes (KiB = KB = k = 1024), or undefined. */
export function parseByteSize(raw: string): number | undefined {
  const m = /^\s*(\d{1,9})\s*([a-zA-Z]*)\s*$/.exec(raw);
  if (m === null) return undefined;
  const unit = UNITS[(m[2] ?? '').toLowerCase()];
  return unit === undefined ? undefined : Number(m[1]) * unit;
}

/** Every value is checked even without --appsec-url, so that a typo shows before the engine is added. */
export function resolveAppSecSettings(raw: AppSecRawSettings, fail: (message: string) => Error): AppSecSettings | undefined {
  let timeoutMs: number;
  try {
    timeoutMs = parseGoDuration(raw.timeout);
  } catch {
    throw fail(`--appsec-timeout / NB_PROXY_APPSEC_TIMEOUT: "${raw.timeout}" is not a duration such as 200ms or 1s`);
  }
  if (!(timeoutMs >= MIN_TIMEOUT_MS && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw fail(`--appsec-timeout / NB_PROXY_APPSEC_TIMEOUT: "${raw.timeout}" must be from 10ms to 5s`);
  }
  const maxBody = parseByteSize(raw.maxBody);
  if (maxBody === undefined || maxBody > MAX_BODY_LIMIT) {
    throw fail(`--appsec-max-body / NB_PROXY_APPSEC_MAX_BODY: "${raw.maxBody}" is not a size from 0 to 10MiB such as 65536, 64KiB or 1MiB`);
  }
  const failureAction = raw.failureAction.trim().toLowerCase();
  if (failureAction !== 'deny' && failureAction !== 'allow') {
    throw fail(`--appsec-failure-action / NB_PROXY_APPSEC_FAILURE_ACTION: "${raw.failureAction}" is not deny or allow`);
  }
  if (!/^\d{1,6}$/.test(raw.maxInflight.trim()) || Number(raw.maxInflight) < 1 || Number(raw.maxInflight) > 100_000) {
    throw fail(`--appsec-max-inflight / NB_PROXY_APPSEC_MAX_INFLIGHT: "${raw.maxInflight}" is not a whole number from 1 to 100000`);
  }
  if (raw.url === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(raw.url);
  } catch {
    throw fail(`--appsec-url / NB_PROXY_APPSEC_URL: "${raw.url}" is not a URL such as http://crowdsec:7422/`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw fail(`--appsec-url / NB_PROXY_APPSEC_URL: "${raw.url}" must be http:// or https://`);
  }
  if (url.username !== '' || url.password !== '')
    throw fail('--appsec-url / NB_PROXY_APPSEC_URL: must not contain credentials (the key goes in --appsec-api-key)');
  if (raw.apiKey === undefined || raw.apiKey === '') {
    throw fail(
      '--appsec-url (NB_PROXY_APPSEC_URL) is set but no bouncer key is: set --appsec-api-key (NB_PROXY_APPSEC_API_KEY) or --crowdsec-api-key; the engine checks it against its LAPI',
    );
  }
  return { url, apiKey: raw.apiKey, timeoutMs, maxBody, failureAction, maxInflight: Number(raw.maxInflight) };
}
