// The IPC channels to the workers: sends with a count of what is not yet written (the pull's
// backpressure), and asks that a worker answers by id, or not within a timeout.
import type { Worker } from 'node:cluster';
import type { AskWhat, FromWorker, ToWorker } from './messages';
import type { Slot } from './slot';

export type Answer = Extract<FromWorker, { t: 'answer' }>;

const ASK_TIMEOUT_MS = 5000;
/** Messages (a batch is ~2,000 decisions, ~70 KB) that may wait in one worker's channel before the pull pauses. */
const MAX_UNWRITTEN = 16;

export class WorkerChannels {
  /** Messages handed to worker.send() whose write has not completed, per worker. */
  private readonly unwritten = new Map<Worker, number>();
  private drained: { promise: Promise<void>; resolve: () => void } | undefined;
  private askSeq = 0;
  private readonly asks = new Map<number, (a: Answer | undefined) => void>();

  send(worker: Worker, m: ToWorker): void {
    if (!worker.isConnected()) return;
    const unwritten = (this.unwritten.get(worker) ?? 0) + 1;
    this.unwritten.set(worker, unwritten);
    try {
      worker.send(m, () => this.written(worker));
    } catch {
      // The channel closed under us: the worker is exiting, its 'exit' replaces it.
      this.written(worker);
    }
  }

  /** The worker exited: its unwritten messages never will be, and the pull must not wait for them. */
  gone(worker: Worker): void {
    this.unwritten.set(worker, 1);
    this.written(worker);
  }

  private written(worker: Worker): void {
    const n = (this.unwritten.get(worker) ?? 1) - 1;
    if (n > 0) this.unwritten.set(worker, n);
    else this.unwritten.delete(worker);
    if (this.drained !== undefined && this.behind() === undefined) {
      const resolve = this.drained.resolve;
      this.drained = undefined;
      resolve();
    }
  }

  /**
   * Backpressure for the pull: a promise while a live worker's channel holds more than MAX_UNWRITTEN unwritten
   * messages (it applies batches slower than the LAPI sends them), so that the primary never queues a
   * whole pull in memory per worker.
   */
  behind(): Promise<void> | undefined {
    let behind = false;
    for (const [worker, n] of this.unwritten) {
      if (n <= MAX_UNWRITTEN) continue;
      if (worker.isConnected()) behind = true;
      else this.unwritten.delete(worker);
    }
    if (!behind) return undefined;
    if (this.drained === undefined) {
      let resolve = (): void => undefined;
      const promise = new Promise<void>((r) => (resolve = r));
      this.drained = { promise, resolve };
    }
    return this.drained.promise;
  }

  /** Undefined when the slot's worker is not serving, or does not answer in time. */
  ask(slot: Slot, what: AskWhat, timeoutMs = ASK_TIMEOUT_MS): Promise<Answer | undefined> {
    const w = slot.worker;
    if (w === undefined || !slot.started) return Promise.resolve(undefined);
    const id = ++this.askSeq;
    return new Promise((resolve) => {
      const done = (a: Answer | undefined): void => {
        clearTimeout(timer);
        this.asks.delete(id);
        resolve(a);
      };
      const timer = setTimeout(() => done(undefined), timeoutMs);
      this.asks.set(id, done);
      this.send(w, { t: 'ask', id, what });
    });
  }

  answered(m: Answer): void {
    this.asks.get(m.id)?.(m);
  }
}
