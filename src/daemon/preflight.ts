// Everything a start checks before it binds or connects anything: the trusted proxies and
// services.yaml. `netbird-proxy validate` runs exactly this, so both report the same errors.
import { loadServicesConfig } from '../config/load';
import type { ServicesConfig } from '../config/types';
import { CidrSet } from '../net/cidr-set';
import { SettingsError, type Settings } from '../settings';

export interface Preflight {
  trusted: CidrSet;
  config: ServicesConfig;
}

/** Throws SettingsError or ConfigError with the message a start would print. */
export async function preflight(settings: Settings): Promise<Preflight> {
  let trusted: CidrSet;
  try {
    trusted = new CidrSet(settings.trustedProxies);
  } catch (err) {
    throw new SettingsError(`--trusted-proxies / NB_PROXY_TRUSTED_PROXIES: ${(err as Error).message}`);
  }
  const config = await loadServicesConfig(settings.configPath, { crowdsecAvailable: settings.crowdsec !== undefined });
  return { trusted, config };
}
