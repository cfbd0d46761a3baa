import type { HttpServiceConfig } from '../config/types';

/** Whether a service or one of its routes has access.challenge on (the key is then needed). */
export function usesChallenge(config: HttpServiceConfig): boolean {
  return config.access.challenge.mode !== 'off' || (config.routes ?? []).some((r) => r.access.challenge.mode !== 'off');
}
