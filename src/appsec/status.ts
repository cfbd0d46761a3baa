// The "appsec" block of GET /status: the engine the proxy asks, how, and who uses it.
import type { AppSecConfig } from '../config/types';
import type { AppSecSettings } from './settings';

export interface AppSecStatus {
  configured: boolean;
  /** The engine's origin (no path, never the key); null when not configured. */
  url: string | null;
  failure_action: 'deny' | 'allow' | null;
  timeout_ms: number | null;
  max_body: number | null;
  /** Engine requests waiting for an answer now, and the cap. */
  in_flight: number;
  max_inflight: number | null;
  /** http services with appsec enforce or observe. */
  services: Array<{ service: string; mode: 'enforce' | 'observe'; skip_paths: string[] }>;
}

export function appsecStatus(
  settings: AppSecSettings | undefined,
  inFlight: number,
  services: Iterable<{ name: string; config: { access: { appsec: AppSecConfig } } }>,
): AppSecStatus {
  const using: AppSecStatus['services'] = [];
  for (const s of services) {
    const a = s.config.access.appsec;
    if (a.mode !== 'off') using.push({ service: s.name, mode: a.mode, skip_paths: [...a.skipPaths] });
  }
  return {
    configured: settings !== undefined,
    url: settings?.url.origin ?? null,
    failure_action: settings?.failureAction ?? null,
    timeout_ms: settings?.timeoutMs ?? null,
    max_body: settings?.maxBody ?? null,
    in_flight: inFlight,
    max_inflight: settings?.maxInflight ?? null,
    services: using,
  };
}
