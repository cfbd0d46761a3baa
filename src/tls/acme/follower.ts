// ACME in a worker of --workers > 1: the primary orders and renews (one account, one order per
// domain); a worker serves what it is handed. Certificates are swapped in per domain: the next
// handshake picks the new one, connections already open keep theirs.
import type { AcmeSettings } from '../settings';
import { parseCertPair, type CertPair } from '../pem';
import { CertDir } from './cert-dir';
import { Challenges, type ChallengeChange } from './challenges';
import type { DomainStatus } from './renewer';

/** A certificate as the primary holds it. */
export interface SharedCert {
  domain: string;
  certPem: string;
  keyPem: string;
}

/** What the primary sends: at a worker's start everything it holds, later each change. */
export interface AcmeUpdate {
  certs: SharedCert[];
  challenges: ChallengeChange[];
}

/** Where TlsManager finds a domain's certificate: the Renewer (orders here) or this follower. */
export interface CertSource {
  get(domain: string): DomainStatus | undefined;
  setDomains(domains: Iterable<string>): void;
  close(): Promise<void>;
}

export class AcmeFollower implements CertSource {
  private readonly certs = new Map<string, CertPair>();
  /** Pending answers; a token missing here is still looked up in --cert-dir (another instance's order). */
  readonly challenges: Challenges;

  constructor(settings: AcmeSettings) {
    this.challenges = new Challenges(new CertDir(settings.certDir, settings.directoryUrl));
  }

  /** Returns the domains whose certificate could not be used (the primary checked it: should not happen). */
  apply(update: AcmeUpdate): string[] {
    const bad: string[] = [];
    for (const c of update.challenges) this.challenges.remember(c);
    for (const c of update.certs) {
      try {
        this.certs.set(c.domain, parseCertPair(c.certPem, c.keyPem));
      } catch {
        bad.push(c.domain);
      }
    }
    return bad;
  }

  get(domain: string): DomainStatus | undefined {
    const pair = this.certs.get(domain);
    return { domain, pair, lastError: undefined, lastErrorAt: undefined, consecutiveFailures: 0, renewAt: undefined, nextCheckAt: undefined };
  }

  /** Certificates of domains no longer configured are kept: the primary may hand one over before the config naming it. */
  setDomains(_domains: Iterable<string>): void {}

  close(): Promise<void> {
    return Promise.resolve();
  }
}
