// OpenID Connect through openid-client (v6, ESM-only: loaded with require(esm), Node >= 20.19 /
// 22.12; loaded at the first OIDC login so that other services never load it). Authorization code
// with PKCE (S256), state and nonce; the login's state travels in a signed cookie, so any
// instance sharing the session secret can finish a login another one started.
import type * as OidcClient from 'openid-client';
import type { Identity, OidcSettings } from './types';

type Lib = typeof OidcClient;
let lib: Promise<Lib> | undefined;
function load(): Promise<Lib> {
  lib ??= import('openid-client');
  return lib;
}

/** What the login cookie carries between the redirect and the callback. */
export interface PendingLogin {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
}

/** One service's provider: discovered once, again after a failure. */
export class OidcProvider {
  private config: Promise<OidcClient.Configuration> | undefined;

  constructor(private readonly settings: OidcSettings) {}

  private discover(): Promise<OidcClient.Configuration> {
    if (this.config === undefined) {
      const s = this.settings;
      this.config = load().then((c) => {
        const auth = s.clientSecret === undefined ? c.None() : c.ClientSecretBasic(s.clientSecret);
        // Plain http only for an issuer on this machine (a provider in a test, or on loopback).
        const local = s.issuer.protocol === 'http:' && isLoopbackHost(s.issuer.hostname);
        return c.discovery(s.issuer, s.clientId, undefined, auth, local ? { execute: [c.allowInsecureRequests], timeout: 10 } : { timeout: 10 });
      });
      this.config.catch(() => (this.config = undefined));
    }
    return this.config;
  }

  async start(redirectUri: string, returnTo: string): Promise<{ url: string; pending: PendingLogin }> {
    const [c, config] = await Promise.all([load(), this.discover()]);
    const pending: PendingLogin = { state: c.randomState(), nonce: c.randomNonce(), verifier: c.randomPKCECodeVerifier(), returnTo };
    const url = c.buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope: this.settings.scopes.join(' '),
      code_challenge: await c.calculatePKCECodeChallenge(pending.verifier),
      code_challenge_method: 'S256',
      state: pending.state,
      nonce: pending.nonce,
    });
    return { url: url.href, pending };
  }

  /** The identity of the user the provider sent back; throws when any check fails (state, nonce, PKCE, tokens). */
  async finish(callbackUrl: URL, pending: PendingLogin): Promise<Identity> {
    const [c, config] = await Promise.all([load(), this.discover()]);
    const tokens = await c.authorizationCodeGrant(config, callbackUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const claims: Record<string, unknown> = { ...(tokens.claims() ?? {}) };
    const sub = String(claims['sub'] ?? '');
    // Providers that follow the spec put profile claims in the userinfo answer, not the ID token.
    if (config.serverMetadata().userinfo_endpoint !== undefined) {
      Object.assign(claims, await c.fetchUserInfo(config, tokens.access_token, sub));
    }
    return identityOf(claims, this.settings.groupsClaim);
  }
}

export function identityOf(claims: Record<string, unknown>, groupsClaim: string): Identity {
  const raw = claims[groupsClaim];
  const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? [raw] : [];
  const pick = (k: string): string => (typeof claims[k] === 'string' ? (claims[k] as string) : '');
  const email = pick('email');
  return { user: pick('preferred_username') || email || pick('sub'), email, groups };
}

function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
