// The vocabulary of services.yaml: shared by the loader (load.ts) and the JSON Schema (schema.ts),
// so that the two cannot disagree on keys, names or modes.
import type { AppSecConfig, ChallengeConfig, CrowdSecMode } from './types';

export const NAME_RE = /^[a-z0-9-]+$/;
export const TOP_KEYS = ['services'] as const;
/** Keys of an http service's TLS settings (see tls.ts). */
export const HTTP_TLS_KEYS = ['tls', 'redirect_https', 'upstream_tls'] as const;
export const TLS_FILE_KEYS = ['cert', 'key'] as const;
export const UPSTREAM_TLS_KEYS = ['ca', 'insecure_skip_verify', 'server_name'] as const;
export const TLS_MODES = ['off', 'acme'] as const;
/** Keys of an http service's answer to denied clients and upstream hints (see deny.ts). */
export const HTTP_DENY_KEYS = ['deny', 'forward_verdict'] as const;
export const DENY_KEYS = ['status', 'template', 'contact_url', 'redirect'] as const;
export const DENY_REDIRECT_STATUSES = [302, 303, 307] as const;
/** Keys of a service's routing (see routes.ts). */
export const ROUTING_KEYS = ['targets', 'balance', 'health', 'routes'] as const;
export const SERVICE_KEYS = [
  'name',
  'protocol',
  'domains',
  'listen',
  'target',
  'access',
  ...HTTP_TLS_KEYS,
  ...HTTP_DENY_KEYS,
  ...ROUTING_KEYS,
  'auth',
] as const;
export const ACCESS_KEYS = ['cidr', 'countries', 'crowdsec', 'appsec', 'challenge'] as const;
export const CHALLENGE_KEYS = ['mode', 'site_key', 'secret_file'] as const;
export const CHALLENGE_MODES: readonly ChallengeConfig['mode'][] = ['off', 'pow', 'turnstile', 'hcaptcha', 'recaptcha'];
export const APPSEC_KEYS = ['mode', 'skip_paths'] as const;
export const APPSEC_MODES: readonly AppSecConfig['mode'][] = ['off', 'enforce', 'observe'];
export const ALLOW_DENY_KEYS = ['allow', 'deny'] as const;
export const PROTOCOLS = ['http', 'tcp'] as const;
export const CROWDSEC_MODES: readonly CrowdSecMode[] = ['off', 'enforce', 'observe'];
