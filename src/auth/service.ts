// A service's auth as the data path uses it: compiled once per load from its config.
import { createHash } from 'node:crypto';
import { parseHash, type ParsedHash } from './secret-hash';
import { OidcProvider } from './oidc';
import { SESSION_COOKIE } from './request';
import type { AuthConfig } from './types';

export interface ServiceAuth {
  readonly config: AuthConfig;
  /** password and pin. */
  readonly hash: ParsedHash | undefined;
  readonly oidc: OidcProvider | undefined;
  /**
   * Part of what sessions are signed for: a digest of the password/PIN hash, or the OIDC issuer
   * and client, so that changing them invalidates the sessions made with the old ones.
   */
  readonly binding: string;
  /** The session cookie's name: nbp_session for a service's auth, one of its own for a route's (both may be held at once). */
  readonly cookie: string;
}

/** `route`: the path of the route whose own auth this is; its sessions and cookie are the route's alone. */
export function compileAuth(config: AuthConfig, route?: string): ServiceAuth {
  const c = config.credential;
  let hash: ParsedHash | undefined;
  if (c.method === 'password' || c.method === 'pin') {
    const parsed = parseHash(c.hash);
    // The loader checked it; a failure here is a bug, not bad input.
    if ('error' in parsed) throw new Error(`auth hash ${parsed.error}`);
    hash = parsed;
  }
  const bound = c.method === 'oidc' ? `${c.oidc.issuer.href} ${c.oidc.clientId}` : c.method === 'header' ? '' : c.hash;
  const site = route === undefined ? '' : ` route ${route}`;
  const binding = createHash('sha256').update(`${c.method} ${bound}${site}`).digest('base64url').slice(0, 16);
  const cookie = route === undefined ? SESSION_COOKIE : `${SESSION_COOKIE}_${createHash('sha256').update(route).digest('hex').slice(0, 12)}`;
  return { config, hash, oidc: c.method === 'oidc' ? new OidcProvider(c.oidc) : undefined, binding, cookie };
}

/** What a service's tokens are signed for: its name and its credential's binding. */
export function sessionScope(service: string, auth: ServiceAuth): string {
  return `${service}\n${auth.binding}`;
}
