// Everything a start checks before it binds or connects anything: the trusted proxies, the access
// log path, an explicitly given country database and services.yaml. `netbird-proxy validate` runs
// exactly this, so both report the same errors.
import { checkCidr } from '../config/addr';
import { loadServicesConfig } from '../config/load';
import type { ServicesConfig } from '../config/types';
import { CidrSet } from '../net/cidr-set';
import { SettingsError, type Settings } from '../settings/types';
import { accessLogProblem } from './access-log-path';
import { openGeoDatabase, type GeoDatabase } from './geo-database';

export interface Preflight {
  trusted: CidrSet;
  config: ServicesConfig;
  /** The --geoip-db database when one was given; undefined means "use the bundled one". */
  geo: GeoDatabase | undefined;
}

/** Throws SettingsError or ConfigError with the message a start would print. */
export async function preflight(settings: Settings): Promise<Preflight> {
  const { trusted, geo } = preflightSettings(settings);
  const config = await loadServicesConfig(settings.configPath, {
    crowdsecAvailable: settings.crowdsec !== undefined,
    appsecAvailable: settings.appsec !== undefined,
    denyTemplate: settings.denyTemplate,
  });
  return { trusted, config, geo };
}

/** The checks that do not read services.yaml (a worker of --workers > 1 is handed the config text). */
export function preflightSettings(settings: Settings): Omit<Preflight, 'config'> {
  const trusted = new CidrSet();
  for (const raw of settings.trustedProxies) {
    // The same rules and messages as a cidr list in services.yaml (host bits, octets, zones).
    const checked = checkCidr(raw);
    if (!checked.ok) throw new SettingsError(`--trusted-proxies / NB_PROXY_TRUSTED_PROXIES: ${checked.reason}`);
    trusted.add(checked.value);
  }
  if (settings.accessLog !== undefined) {
    const problem = accessLogProblem(settings.accessLog);
    if (problem !== undefined) throw new SettingsError(`--access-log / NB_PROXY_ACCESS_LOG ${settings.accessLog}: ${problem}`);
  }
  let geo: GeoDatabase | undefined;
  if (settings.geoipDb !== undefined) {
    try {
      geo = openGeoDatabase(settings.geoipDb);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code !== undefined ? `cannot read it (${code})` : 'not an mmdb country database';
      throw new SettingsError(`--geoip-db / NB_PROXY_GEOIP_DB ${settings.geoipDb}: ${why}: fix the path, or leave it out to use the bundled database`);
    }
  }
  return { trusted, geo };
}
