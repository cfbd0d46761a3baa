// --admin-addr and --admin-token: a listener beyond loopback needs the token.
import { formatHostPort } from '../config/load';
import type { HostPort } from '../config/types';
import type { Source } from './sources';
import { SettingsError } from './types';
import { hostPort, isLoopbackAddress } from './values';

export function adminSettings(source: Source): { adminAddr: HostPort; adminToken: string | undefined } {
  const adminAddr = hostPort(source, 'adminAddr');
  const adminToken = source.get('adminToken');
  if (adminToken !== undefined && adminToken.length < 16) {
    throw new SettingsError('--admin-token / NB_PROXY_ADMIN_TOKEN: must be at least 16 characters (e.g. openssl rand -hex 16)');
  }
  if (adminToken === undefined && !isLoopbackAddress(adminAddr.host)) {
    throw new SettingsError(
      `--admin-addr ${formatHostPort(adminAddr)} is not a loopback address: set --admin-token / NB_PROXY_ADMIN_TOKEN to expose the admin listener`,
    );
  }
  return { adminAddr, adminToken };
}
