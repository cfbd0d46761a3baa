// What /status, the admin API and the Access Control page say about a service's auth: the
// method and its public settings, never a hash or a secret.
import type { AuthConfig } from './types';

export interface AuthSummary {
  method: 'password' | 'pin' | 'oidc' | 'header';
  /** Session lifetime in seconds; absent for header. */
  session_seconds?: number;
  issuer?: string;
  allowed_groups?: string[];
  allowed_emails?: string[];
  /** header: the header's name. */
  header?: string;
}

export function authSummary(a: AuthConfig | undefined): AuthSummary | null {
  if (a === undefined) return null;
  const c = a.credential;
  switch (c.method) {
    case 'header':
      return { method: 'header', header: c.name };
    case 'oidc':
      return {
        method: 'oidc',
        session_seconds: a.sessionMs / 1000,
        issuer: c.oidc.issuer.href,
        allowed_groups: [...c.oidc.allowedGroups],
        allowed_emails: [...c.oidc.allowedEmails],
      };
    default:
      return { method: c.method, session_seconds: a.sessionMs / 1000 };
  }
}
