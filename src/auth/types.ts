// An http service's `auth:` block once validated (src/config/auth.ts). Secret files named in
// services.yaml are read at load into these values: a request never reads a file.

export type AuthMethod = 'password' | 'pin' | 'oidc' | 'header';

export interface OidcSettings {
  issuer: URL;
  clientId: string;
  /** Read from client_secret_file at load; undefined: a public client (PKCE only). */
  clientSecret: string | undefined;
  /** The absolute path it was read from, for validate --json. */
  clientSecretFile: string | undefined;
  scopes: string[];
  /** The claim holding the user's groups (a list, or one string). */
  groupsClaim: string;
  /** Empty: any group. */
  allowedGroups: string[];
  /** Lower-case; empty: any e-mail. */
  allowedEmails: string[];
}

export type AuthCredential =
  | { method: 'password'; hash: string }
  | { method: 'pin'; hash: string; length: number }
  | { method: 'oidc'; oidc: OidcSettings }
  /** `name` lower-case. */
  | { method: 'header'; name: string; value: string; valueFile: string };

/** The request headers the upstream receives the identity in; lower-case. */
export interface IdentityHeaders {
  user: string;
  email: string;
  groups: string;
}

export interface AuthConfig {
  credential: AuthCredential;
  /** Lifetime of the session cookie. */
  sessionMs: number;
  headers: IdentityHeaders;
}

export const DEFAULT_IDENTITY_HEADERS: IdentityHeaders = Object.freeze({ user: 'x-auth-user', email: 'x-auth-email', groups: 'x-auth-groups' });
export const DEFAULT_SESSION_MS = 12 * 3600_000;

/** Who a session is for; empty strings when the method knows nothing (password, PIN). */
export interface Identity {
  user: string;
  email: string;
  groups: string[];
}

/** What the access entry records about a request to a service with auth. */
export interface AuthOutcome {
  mechanism: AuthMethod;
  /** The user, when known (OIDC). */
  userId?: string;
  /** true: a valid session or credential; false: a wrong one (or a refused login); absent: none presented. */
  success?: boolean;
}
