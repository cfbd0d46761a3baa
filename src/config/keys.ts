// The vocabulary of services.yaml: shared by the loader (load.ts) and the JSON Schema (schema.ts),
// so that the two cannot disagree on keys, names or modes.
import type { CrowdSecMode } from './types';

export const NAME_RE = /^[a-z0-9-]+$/;
export const TOP_KEYS = ['services'] as const;
export const SERVICE_KEYS = ['name', 'protocol', 'domains', 'listen', 'target', 'access'] as const;
export const ACCESS_KEYS = ['cidr', 'countries', 'crowdsec'] as const;
export const ALLOW_DENY_KEYS = ['allow', 'deny'] as const;
export const PROTOCOLS = ['http', 'tcp'] as const;
export const CROWDSEC_MODES: readonly CrowdSecMode[] = ['off', 'enforce', 'observe'];
