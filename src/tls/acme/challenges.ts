// Pending ACME challenge answers. Kept in memory and in --cert-dir, so that when several instances
// share the directory behind one address, whichever instance the CA reaches can answer.
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertDir } from './cert-dir';

const HTTP01_PREFIX = '/.well-known/acme-challenge/';
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;
const DOMAIN_RE = /^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*$/;

function alpnFile(domain: string): string {
  return `${domain}.alpn`;
}

function httpFile(token: string): string {
  return `http-${token}`;
}

/** True for a path under /.well-known/acme-challenge/ (with or without a query string). */
export function isHttp01Path(path: string): boolean {
  return path.startsWith(HTTP01_PREFIX);
}

export class Challenges {
  private readonly http = new Map<string, string>();
  private readonly alpn = new Map<string, SecureContext>();

  constructor(private readonly dir: CertDir) {}

  async setHttp01(token: string, keyAuthorization: string): Promise<void> {
    this.http.set(token, keyAuthorization);
    await this.dir.writeChallenge(httpFile(token), keyAuthorization);
  }

  async removeHttp01(token: string): Promise<void> {
    this.http.delete(token);
    await this.dir.removeChallenge(httpFile(token));
  }

  async setTlsAlpn01(domain: string, certPem: string, keyPem: string): Promise<void> {
    this.alpn.set(domain, createSecureContext({ cert: certPem, key: keyPem }));
    await this.dir.writeChallenge(alpnFile(domain), `${keyPem}\n${certPem}`);
  }

  async removeTlsAlpn01(domain: string): Promise<void> {
    this.alpn.delete(domain);
    await this.dir.removeChallenge(alpnFile(domain));
  }

  /** The body to answer GET <path> with, for a pending http-01 challenge; undefined otherwise. */
  answerHttp01(path: string): string | undefined {
    if (!isHttp01Path(path)) return undefined;
    const q = path.indexOf('?');
    const token = path.slice(HTTP01_PREFIX.length, q < 0 ? undefined : q);
    if (!TOKEN_RE.test(token)) return undefined;
    return this.http.get(token) ?? this.dir.readChallengeSync(httpFile(token));
  }

  /** The acmeIdentifier certificate for a tls-alpn-01 validation of `domain`, if one is pending. */
  alpnContext(domain: string): SecureContext | undefined {
    const name = domain.toLowerCase();
    const mine = this.alpn.get(name);
    if (mine !== undefined) return mine;
    if (!DOMAIN_RE.test(name)) return undefined;
    const pem = this.dir.readChallengeSync(alpnFile(name));
    if (pem === undefined) return undefined;
    try {
      return createSecureContext({ cert: pem, key: pem });
    } catch {
      return undefined;
    }
  }
}
