// ACME with --workers > 1, the primary's side: its TlsManager orders and renews (one account, one
// order per domain, the --cert-dir locks as in one process) and every certificate installed and
// every challenge change goes to every worker over the IPC channel. A challenge is set up only once
// every worker has acknowledged it (or ACK_TIMEOUT_MS passed: the worker still finds it in --cert-dir),
// because the validator connects to whichever worker the kernel picks.
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ChallengeChange } from '../tls/acme/challenges';
import type { AcmeUpdate } from '../tls/acme/follower';
import { TlsManager } from '../tls/manager';
import { TlsMetrics } from '../tls/metrics';
import type { AcmeSettings } from '../tls/settings';
import type { ToWorker } from './messages';

const ACK_TIMEOUT_MS = 5000;

/** A worker as this side needs it: sends, and tells when it is gone. */
export interface AcmePeer {
  send(m: ToWorker): void;
  onGone(cb: () => void): void;
}

export class ClusterAcme {
  readonly tls: TlsManager;
  private seq = 0;
  private readonly acks = new Map<number, () => void>();

  constructor(
    settings: AcmeSettings,
    log: Logger,
    registry: Registry,
    private readonly peers: () => AcmePeer[],
  ) {
    const metrics = new TlsMetrics(registry, () => this.tls.status());
    this.tls = new TlsManager({
      acme: settings,
      log,
      metrics,
      share: {
        certificate: (domain, pair) => void this.broadcast({ certs: [{ domain, certPem: pair.certPem, keyPem: pair.keyPem }], challenges: [] }, false),
        challenge: (change: ChallengeChange) => this.broadcast({ certs: [], challenges: [change] }, isSetUp(change)),
      },
    });
  }

  /** What a worker that starts is sent first, before its config: every certificate and pending challenge. */
  snapshot(): ToWorker | undefined {
    const update = this.tls.acmeSnapshot();
    return update.certs.length === 0 && update.challenges.length === 0 ? undefined : { t: 'acme', id: 0, update };
  }

  acked(id: number): void {
    this.acks.get(id)?.();
  }

  private broadcast(update: AcmeUpdate, wait: boolean): Promise<void> {
    const waits: Array<Promise<void>> = [];
    for (const peer of this.peers()) {
      const id = wait ? ++this.seq : 0;
      if (wait) {
        waits.push(
          new Promise<void>((resolve) => {
            const done = (): void => {
              clearTimeout(timer);
              this.acks.delete(id);
              resolve();
            };
            const timer = setTimeout(done, ACK_TIMEOUT_MS);
            this.acks.set(id, done);
            peer.onGone(done);
          }),
        );
      }
      peer.send({ t: 'acme', id, update });
    }
    return Promise.all(waits).then(() => undefined);
  }
}

function isSetUp(change: ChallengeChange): boolean {
  return change.kind === 'http-01' ? change.keyAuthorization !== null : change.pem !== null;
}
