// Pending ACME challenge answers. Kept in memory and in --cert-dir, so that when several instances
// share the directory behind one address, whichever instance the CA reaches can answer. With
// --workers > 1 the primary's changes also go to every worker's memory (onChange, remember()).
import { createSecureContext, type SecureContext } from 'node:tls';
import type { CertDir } from './cert-dir';

const HTTP01_PREFIX = '/.well-known/acme-challenge/';
const TOKEN_RE = /^[A-Za-z0-9_-]{1,256}$/;
const DOMAIN_RE = /^[a-z0-9-]{1,63}(\.[a-z0-9-]{1,63})*$/;

/** One challenge set up (answer given) or taken down (null), as the primary hands it to a worker. */
export type ChallengeChange =
  { kind: 'http-01'; token: string; keyAuthorization: string | null } | { kind: 'tls-alpn-01'; domain: string; pem: { cert: string; key: string } | null };

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
  private readonly alpn = new Map<string, { context: SecureContext; cert: string; key: string }>();

  /** `onChange` resolves once the change is known wherever a validator may connect (every worker). */
  constructor(
    private readonly dir: CertDir,
    private readonly onChange?: (change: ChallengeChange) => Promise<void>,
  ) {}

  async setHttp01(token: string, keyAuthorization: string): Promise<void> {
    this.http.set(token, keyAuthorization);
    await this.dir.writeChallenge(httpFile(token), keyAuthorization);
    await this.onChange?.({ kind: 'http-01', token, keyAuthorization });
  }

  async removeHttp01(token: string): Promise<void> {
    this.http.delete(token);
    await this.dir.removeChallenge(httpFile(token));
    await this.onChange?.({ kind: 'http-01', token, keyAuthorization: null });
  }

  async setTlsAlpn01(domain: string, certPem: string, keyPem: string): Promise<void> {
    this.alpn.set(domain, { context: createSecureContext({ cert: certPem, key: keyPem }), cert: certPem, key: keyPem });
    await this.dir.writeChallenge(alpnFile(domain), `${keyPem}\n${certPem}`);
    await this.onChange?.({ kind: 'tls-alpn-01', domain, pem: { cert: certPem, key: keyPem } });
  }

  async removeTlsAlpn01(domain: string): Promise<void> {
    this.alpn.delete(domain);
    await this.dir.removeChallenge(alpnFile(domain));
    await this.onChange?.({ kind: 'tls-alpn-01', domain, pem: null });
  }

  /** A change made elsewhere (the primary): memory only, the primary wrote --cert-dir. Unusable input is ignored. */
  remember(change: ChallengeChange): void {
    if (change.kind === 'http-01') {
      if (!TOKEN_RE.test(change.token)) return;
      if (change.keyAuthorization === null) this.http.delete(change.token);
      else this.http.set(change.token, change.keyAuthorization);
      return;
    }
    const domain = change.domain.toLowerCase();
    if (change.pem === null) {
      this.alpn.delete(domain);
      return;
    }
    try {
      this.alpn.set(domain, { context: createSecureContext({ cert: change.pem.cert, key: change.pem.key }), ...change.pem });
    } catch {
      // not a usable pair: the disk fallback below may still answer
    }
  }

  /** Every challenge pending here, for a worker that starts while an order runs. */
  pending(): ChallengeChange[] {
    const out: ChallengeChange[] = [];
    for (const [token, keyAuthorization] of this.http) out.push({ kind: 'http-01', token, keyAuthorization });
    for (const [domain, a] of this.alpn) out.push({ kind: 'tls-alpn-01', domain, pem: { cert: a.cert, key: a.key } });
    return out;
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
    if (mine !== undefined) return mine.context;
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
