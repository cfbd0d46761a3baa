// --workers > 1: a challenge solution is claimed once for the whole group. Each worker asks the
// primary, which holds the group's one ReplayStore (challenge/core.ts); a replay sent to another
// worker is refused there too.
import type { SolutionClaims } from '../challenge/core';
import type { FromWorker } from './messages';

/** No answer this long (the primary is gone or stuck): the solution is refused, never accepted unrecorded. */
const CLAIM_TIMEOUT_MS = 5000;

/** A worker's side: each claim is a message to the primary and its answer. */
export class PrimaryClaims implements SolutionClaims {
  private nextId = 1;
  private readonly pending = new Map<number, (ok: boolean) => void>();

  constructor(private readonly send: (m: FromWorker) => boolean) {}

  claim(key: string, expiresMs: number): Promise<boolean> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => this.answered(id, false), CLAIM_TIMEOUT_MS);
      timer.unref();
      this.pending.set(id, (ok) => {
        clearTimeout(timer);
        resolve(ok);
      });
      if (!this.send({ t: 'claim', id, key, expiresMs })) this.answered(id, false);
    });
  }

  /** The primary's answer (or the timeout's). */
  answered(id: number, ok: boolean): void {
    const resolve = this.pending.get(id);
    if (resolve === undefined) return;
    this.pending.delete(id);
    resolve(ok);
  }
}
