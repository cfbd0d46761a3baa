// Keeps one ACME certificate per domain: obtained when the domain appears, renewed when less than a
// third of its lifetime remains (or --acme-renew-before), checked on a jittered schedule. Orders run
// one at a time for the whole process; a failing domain backs off exponentially (capped) on its own
// and keeps serving its current certificate. Another instance sharing --cert-dir is respected: its
// newer certificate on disk is taken over, and a domain it is ordering (lock held) is not ordered twice.
import type { Logger } from 'pino';
import { certCovers, parseCertPair, type CertPair } from '../pem';
import type { CertDir } from './cert-dir';
import type { IssuedCert } from './issuer';

export interface Issuer {
  obtain(domain: string): Promise<IssuedCert>;
}

export interface RenewerTiming {
  /** Renew when less than this remains; undefined = a third of the certificate's lifetime. */
  renewBeforeMs: number | undefined;
  /** Longest wait between two checks of a domain, and the least after an issuance. */
  checkIntervalMs: number;
  /** Up to this much random delay (and at most a quarter of the delay) is added to every scheduled check. */
  jitterMs: number;
  /** First retry delay after a failure; doubles per consecutive failure up to backoffCapMs. */
  backoffBaseMs: number;
  backoffCapMs: number;
  /** An order still running after this long counts as failed (the queue moves on). */
  orderTimeoutMs: number;
}

export const DEFAULT_TIMING: RenewerTiming = {
  renewBeforeMs: undefined,
  checkIntervalMs: 12 * 3600_000,
  jitterMs: 3600_000,
  backoffBaseMs: 60_000,
  backoffCapMs: 6 * 3600_000,
  orderTimeoutMs: 5 * 60_000,
};

export interface DomainStatus {
  domain: string;
  pair: CertPair | undefined;
  lastError: string | undefined;
  lastErrorAt: Date | undefined;
  consecutiveFailures: number;
  /** When the certificate becomes due for renewal. */
  renewAt: Date | undefined;
  /** When the renewer looks at this domain next. */
  nextCheckAt: Date | undefined;
}

export interface RenewerEvents {
  installed(domain: string, pair: CertPair): void;
  order(result: 'success' | 'failure'): void;
}

interface DomainState {
  domain: string;
  pair: CertPair | undefined;
  lastError: string | undefined;
  lastErrorAt: Date | undefined;
  failures: number;
  nextCheckAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
  removed: boolean;
}

export class Renewer {
  private readonly domains = new Map<string, DomainState>();
  private queue: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(
    private readonly issuer: Issuer,
    private readonly dir: CertDir,
    private readonly timing: RenewerTiming,
    private readonly events: RenewerEvents,
    private readonly log: Logger,
  ) {}

  /** Starts managing new domains and stops managing those no longer listed. */
  setDomains(domains: Iterable<string>): void {
    const wanted = new Set(domains);
    for (const [domain, state] of this.domains) {
      if (wanted.has(domain)) continue;
      state.removed = true;
      if (state.timer !== undefined) clearTimeout(state.timer);
      this.domains.delete(domain);
    }
    for (const domain of wanted) {
      if (this.domains.has(domain)) continue;
      const state: DomainState = {
        domain,
        pair: undefined,
        lastError: undefined,
        lastErrorAt: undefined,
        failures: 0,
        nextCheckAt: undefined,
        timer: undefined,
        removed: false,
      };
      this.domains.set(domain, state);
      this.schedule(state, 0);
    }
  }

  get(domain: string): DomainStatus | undefined {
    const s = this.domains.get(domain);
    return s === undefined ? undefined : this.statusOf(s);
  }

  statuses(): DomainStatus[] {
    return [...this.domains.values()].map((s) => this.statusOf(s));
  }

  /** Resolves once the running order (if any) has finished; no new check starts afterwards. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.domains.values()) if (s.timer !== undefined) clearTimeout(s.timer);
    await this.queue;
  }

  private statusOf(s: DomainState): DomainStatus {
    const renewAt = s.pair === undefined ? undefined : new Date(this.renewAt(s.pair));
    return {
      domain: s.domain,
      pair: s.pair,
      lastError: s.lastError,
      lastErrorAt: s.lastErrorAt,
      consecutiveFailures: s.failures,
      renewAt,
      nextCheckAt: s.nextCheckAt === undefined ? undefined : new Date(s.nextCheckAt),
    };
  }

  private renewAt(pair: CertPair): number {
    const { notBefore, notAfter } = pair.info;
    const before = this.timing.renewBeforeMs ?? (notAfter.getTime() - notBefore.getTime()) / 3;
    return notAfter.getTime() - before;
  }

  private schedule(state: DomainState, delayMs: number): void {
    if (this.closed || state.removed) return;
    if (state.timer !== undefined) clearTimeout(state.timer);
    // Jitter spreads instances and domains apart; at most a quarter of the delay, so a first order is not delayed.
    const wait = Math.max(0, Math.round(delayMs + Math.random() * Math.min(this.timing.jitterMs, delayMs / 4)));
    state.nextCheckAt = Date.now() + wait;
    state.timer = setTimeout(() => {
      state.timer = undefined;
      this.queue = this.queue
        .then(() => this.check(state))
        .catch((err: unknown) => {
          this.log.error({ domain: state.domain, err: (err as Error).message }, 'ACME check failed unexpectedly');
          this.schedule(state, this.backoffMs(Math.max(1, state.failures)));
        });
    }, wait);
    state.timer.unref();
  }

  /**
   * Next check of a domain with a usable certificate. After an issuance at least the check interval
   * passes (a renew-before longer than the lifetime must not order in a loop), or a third of the
   * lifetime when that is shorter: a certificate living less than three check intervals is renewed in time.
   */
  private scheduleValid(state: DomainState, pair: CertPair, justIssued: boolean): void {
    const untilDue = Math.min(Math.max(0, this.renewAt(pair) - Date.now()), this.timing.checkIntervalMs);
    const lifetime = pair.info.notAfter.getTime() - pair.info.notBefore.getTime();
    this.schedule(state, justIssued ? Math.max(untilDue, Math.min(this.timing.checkIntervalMs, lifetime / 3)) : untilDue);
  }

  private backoffMs(failures: number): number {
    return Math.min(this.timing.backoffBaseMs * 2 ** Math.min(failures - 1, 30), this.timing.backoffCapMs);
  }

  private install(state: DomainState, pair: CertPair): void {
    state.pair = pair;
    this.events.installed(state.domain, pair);
  }

  /** Takes over the stored certificate when it is newer than the one served. */
  private async adoptFromDisk(state: DomainState): Promise<void> {
    const stored = await this.dir.readCert(state.domain);
    if (stored === undefined) return;
    let pair: CertPair;
    try {
      pair = parseCertPair(stored.certPem, stored.keyPem);
    } catch (err) {
      this.log.warn({ domain: state.domain, err: (err as Error).message }, 'ignoring the unusable certificate stored in --cert-dir');
      return;
    }
    if (!certCovers(pair.info.names, state.domain)) return;
    if (pair.info.notAfter.getTime() <= Date.now()) return;
    if (state.pair !== undefined && pair.info.notAfter.getTime() <= state.pair.info.notAfter.getTime()) return;
    this.install(state, pair);
    this.log.info({ domain: state.domain, notAfter: pair.info.notAfter.toISOString() }, 'certificate loaded from --cert-dir');
  }

  private due(state: DomainState): boolean {
    return state.pair === undefined || Date.now() >= this.renewAt(state.pair);
  }

  private async check(state: DomainState): Promise<void> {
    if (this.closed || state.removed) return;
    try {
      await this.adoptFromDisk(state);
    } catch (err) {
      this.log.warn({ domain: state.domain, err: (err as Error).message }, 'cannot read --cert-dir');
    }
    if (!this.due(state) && state.pair !== undefined) {
      this.scheduleValid(state, state.pair, false);
      return;
    }
    const release = await this.dir.tryLock(`cert-${state.domain}`).catch((err: Error) => {
      this.log.warn({ domain: state.domain, err: err.message }, 'cannot take the order lock in --cert-dir');
      return undefined;
    });
    if (release === undefined) {
      // Another instance sharing --cert-dir is ordering this domain: look again soon for its result.
      this.schedule(state, Math.min(this.timing.backoffBaseMs, 30_000));
      return;
    }
    try {
      await this.adoptFromDisk(state); // it may have finished just before we took the lock
      if (!this.due(state) && state.pair !== undefined) {
        this.scheduleValid(state, state.pair, false);
        return;
      }
      await this.order(state);
    } finally {
      await release().catch(() => undefined);
    }
  }

  private async order(state: DomainState): Promise<void> {
    const { domain } = state;
    const renewing = state.pair !== undefined;
    this.log.info({ domain, renewing }, renewing ? 'renewing the ACME certificate' : 'requesting an ACME certificate');
    const t0 = Date.now();
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no certificate after ${this.timing.orderTimeoutMs} ms`)), this.timing.orderTimeoutMs);
      });
      const issued = await Promise.race([this.issuer.obtain(domain), timeout]);
      const pair = parseCertPair(issued.certPem, issued.keyPem);
      if (!certCovers(pair.info.names, domain)) throw new Error(`the CA issued a certificate for ${pair.info.names.join(', ')}`);
      await this.dir.writeCert(domain, pair.certPem, issued.keyPem);
      if (state.removed) return;
      this.install(state, pair);
      state.failures = 0;
      state.lastError = undefined;
      state.lastErrorAt = undefined;
      this.events.order('success');
      this.log.info({ domain, issuer: pair.info.issuer, notAfter: pair.info.notAfter.toISOString(), ms: Date.now() - t0 }, 'ACME certificate installed');
      this.scheduleValid(state, pair, true);
    } catch (err) {
      this.events.order('failure');
      state.failures += 1;
      state.lastError = (err as Error).message;
      state.lastErrorAt = new Date();
      const retryMs = this.backoffMs(state.failures);
      this.log.error(
        { domain, err: state.lastError, failures: state.failures, retryInMs: retryMs, serving: state.pair !== undefined },
        state.pair !== undefined ? 'ACME renewal failed; the current certificate keeps serving' : 'ACME certificate request failed',
      );
      this.schedule(state, retryMs);
    } finally {
      if (timer !== undefined) clearTimeout(timer);
    }
  }
}
