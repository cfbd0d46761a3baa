// A service's auth as the data path uses it: compiled once per load from its config.
import { parseHash, type ParsedHash } from './secret-hash';
import { OidcProvider } from './oidc';
import type { AuthConfig } from './types';

export interface ServiceAuth {
  readonly config: AuthConfig;
  /** password and pin. */
  readonly hash: ParsedHash | undefined;
  readonly oidc: OidcProvider | undefined;
}

export function compileAuth(config: AuthConfig): ServiceAuth {
  const c = config.credential;
  let hash: ParsedHash | undefined;
  if (c.method === 'password' || c.method === 'pin') {
    const parsed = parseHash(c.hash);
    // The loader checked it; a failure here is a bug, not bad input.
    if ('error' in parsed) throw new Error(`auth hash ${parsed.error}`);
    hash = parsed;
  }
  return { config, hash, oidc: c.method === 'oidc' ? new OidcProvider(c.oidc) : undefined };
}
