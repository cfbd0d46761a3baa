// Obtains one certificate per domain from the ACME server with acme-client: account (shared through
// --cert-dir), order, the configured challenge, finalisation. Nothing here is logged with secrets.
import { Agent } from 'node:https';
import { rootCertificates } from 'node:tls';
import * as acme from 'acme-client';
import type { AcmeChallengeType } from '../settings';
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
    const agent = new Agent(opts.caCertPem === undefined ? { keepAlive: true } : { ca: [...rootCertificates, opts.caCertPem], keepAlive: true });
    // acme-client turns a request that got no response into "Cannot read properties of undefined";
    // remember the socket's own error to report instead.
    const create = agent.createConnection.bind(agent);
    agent.createConnection = (options, cb) => {
      const socket = create(options, cb);
      socket?.once('error', (err: NodeJS.ErrnoException) => {
        this.lastNetworkError = `${err.code ?? 'error'}: ${err.message}`;
      });
      return socket;
    };
    defaults.httpsAgent = agent;
  }

  private lastNetworkError: string | undefined;

  /** A readable reason for a failed order. */
  private reason(err: unknown): Error {
    const e = err instanceof Error ? err : new Error(String(err));
    if (e instanceof TypeError && /reading 'config'|reading 'status'/.test(e.message)) {
      return new Error(`cannot reach the ACME server ${this.opts.directoryUrl}: ${this.lastNetworkError ?? 'no response'}`);
    }
    return e;
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
    const client = new acme.Client({
      directoryUrl: this.opts.directoryUrl,
      accountKey,
      backoffAttempts: 10,
      backoffMin: this.opts.pollMinMs,
      backoffMax: this.opts.pollMaxMs,
    });
    // Registering a known key returns its existing account (RFC 8555 7.3.1), so this is idempotent
    // across restarts and instances, and recovers when the CA has forgotten the account.
    await client.createAccount({
      termsOfServiceAgreed: true,
      ...(this.opts.email === undefined ? {} : { contact: [`mailto:${this.opts.email}`] }),
    });
    this.client = client;
    return client;
  }

  /** One order for one domain. Throws with the CA's or the network's reason. */
  async obtain(domain: string): Promise<IssuedCert> {
    this.lastNetworkError = undefined;
    try {
      return await this.order(domain, await this.acmeClient());
    } catch (err) {
      this.client = undefined; // look the account up again next time
      throw this.reason(err);
    }
  }

  private async order(domain: string, client: acme.Client): Promise<IssuedCert> {
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
