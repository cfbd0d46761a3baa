// Obtains one certificate per domain from the ACME server with acme-client: account (shared through
// --cert-dir), order, the configured challenge, finalisation. Nothing here is logged with secrets.
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { AcmeChallengeType } from '../../settings';
import type { CertDir } from './cert-dir';
import type { Challenges } from './challenges';

export interface IssuerOptions {
  directoryUrl: string;
  /** PEM trusted for the ACME server's own HTTPS, besides the system roots. */
  caCertPem: string | undefined;
  email: string | undefined;
  challenge: AcmeChallengeType;
  /** How often acme-client polls a pending challenge/order (min/max delay, ms). */
  pollMinMs: number;
  pollMaxMs: number;
  /** Retries of one HTTP request to the CA on network errors, 5xx and 429 (acme-client's own). */
  requestRetries: number;
  /** Each HTTP request to the CA gives up after this long. */
  requestTimeoutMs: number;
}

export interface IssuedCert {
  certPem: string;
  keyPem: string;
}

const ACCOUNT_LOCK_WAIT_MS = 30_000;

export class AcmeIssuer {
  private client: acme.Client | undefined;

  constructor(
    private readonly opts: IssuerOptions,
    private readonly dir: CertDir,
    private readonly challenges: Challenges,
  ) {
    // acme-client uses one axios instance per process; this process talks to one ACME server.
    const defaults = acme.axios.defaults as typeof acme.axios.defaults & {
      acmeSettings: { retryMaxAttempts: number; retryDefaultDelay: number };
    };
    defaults.acmeSettings.retryMaxAttempts = opts.requestRetries;
    defaults.acmeSettings.retryDefaultDelay = 1;
    defaults.timeout = opts.requestTimeoutMs;
    if (opts.caCertPem !== undefined) {
      defaults.httpsAgent = new Agent({ ca: [...rootCertificates, opts.caCertPem], keepAlive: true });
    }
  }

  /** The account key from --cert-dir, created once (under a lock, so instances sharing the dir agree). */
  private async accountKey(): Promise<string> {
    const path = this.dir.accountKeyPath();
    const deadline = Date.now() + ACCOUNT_LOCK_WAIT_MS;
    for (;;) {
      const existing = await this.dir.readIfExists(path);
      if (existing !== undefined) return existing;
      const release = await this.dir.tryLock('account');
      if (release !== undefined) {
        try {
          const again = await this.dir.readIfExists(path);
          if (again !== undefined) return again;
          const key = (await acme.crypto.createPrivateEcdsaKey('P-256')).toString('utf8');
          await this.dir.writePrivate(path, key);
          return key;
        } finally {
          await release();
        }
      }
      if (Date.now() > deadline) throw new Error('another instance holds the account lock in --cert-dir');
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  private async acmeClient(): Promise<acme.Client> {
    if (this.client !== undefined) return this.client;
    const accountKey = await this.accountKey();
    const saved = await this.dir.readIfExists(this.dir.accountJsonPath());
    let accountUrl: string | undefined;
    try {
      const parsed: unknown = saved === undefined ? undefined : JSON.parse(saved);
      if (typeof parsed === 'object' && parsed !== null && 'url' in parsed && typeof parsed.url === 'string') accountUrl = parsed.url;
    } catch {
      accountUrl = undefined;
    }
    const clientOpts: acme.ClientOptions = {
      directoryUrl: this.opts.directoryUrl,
      accountKey,
      backoffAttempts: 10,
      backoffMin: this.opts.pollMinMs,
      backoffMax: this.opts.pollMaxMs,
    };
    if (accountUrl !== undefined) clientOpts.accountUrl = accountUrl;
    const client = new acme.Client(clientOpts);
    if (accountUrl === undefined) {
      // Registering an existing key returns the existing account, so a race between instances is harmless.
      await client.createAccount({
        termsOfServiceAgreed: true,
        ...(this.opts.email === undefined ? {} : { contact: [`mailto:${this.opts.email}`] }),
      });
      await this.dir.writePrivate(this.dir.accountJsonPath(), JSON.stringify({ url: client.getAccountUrl() }));
    }
    this.client = client;
    return client;
  }

  /** One order for one domain. Throws with the CA's or the network's reason. */
  async obtain(domain: string): Promise<IssuedCert> {
    const client = await this.acmeClient();
    const [key, csr] = await acme.crypto.createCsr({ commonName: domain, altNames: [domain] }, await acme.crypto.createPrivateEcdsaKey('P-256'));
    const type = this.opts.challenge;
    const certPem = await client.auto({
      csr,
      email: this.opts.email,
      termsOfServiceAgreed: true,
      challengePriority: [type],
      // acme-client's self-check would resolve the name in public DNS; the CA's validation is the real test.
      skipChallengeVerification: true,
      challengeCreateFn: async (authz, challenge, keyAuthorization) => {
        if (challenge.type !== type) throw new Error(`the CA did not offer ${type} for ${authz.identifier.value}`);
        if (type === 'http-01') {
          await this.challenges.setHttp01(challenge.token, keyAuthorization);
        } else {
          const [alpnKey, alpnCert] = await acme.crypto.createAlpnCertificate(authz, keyAuthorization);
          await this.challenges.setTlsAlpn01(authz.identifier.value, alpnCert.toString('utf8'), alpnKey.toString('utf8'));
        }
      },
      challengeRemoveFn: async (authz, challenge) => {
        if (challenge.type === 'http-01') await this.challenges.removeHttp01(challenge.token);
        else await this.challenges.removeTlsAlpn01(authz.identifier.value);
      },
    });
    return { certPem, keyPem: key.toString('utf8') };
  }
}
