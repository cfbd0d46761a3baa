// Runs the one shared bouncer exactly while at least one service uses CrowdSec.
import type { StreamBouncer } from './bouncer';

export class BouncerLifecycle {
  private readonly create: () => StreamBouncer | undefined;
  private bouncer: StreamBouncer | undefined;
  private users = 0;
  /** update() calls run one after another, so a reload racing a shutdown cannot start two bouncers. */
  private queue: Promise<void> = Promise.resolve();

  /** create returns undefined when CrowdSec is not configured; it is called on each 0 → ≥1 transition. */
  constructor(create: () => StreamBouncer | undefined) {
    this.create = create;
  }

  /** The running bouncer, if any service uses CrowdSec and it is configured. */
  get current(): StreamBouncer | undefined {
    return this.bouncer;
  }

  /** Services that used CrowdSec at the last update(). */
  get servicesUsingCrowdSec(): number {
    return this.users;
  }

  /**
   * Starts the bouncer when the count goes from 0 to ≥1, stops it and drops its cache when it goes to 0.
   * Any other change leaves the running bouncer and its cache alone.
   */
  update(servicesUsingCrowdSec: number): Promise<void> {
    const run = this.queue.then(() => this.apply(Math.max(0, Math.floor(servicesUsingCrowdSec))));
    // Keep the chain alive after a failure; the caller still sees it through `run`.
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async apply(count: number): Promise<void> {
    this.users = count;
    if (count > 0) {
      if (this.bouncer) return;
      const b = this.create();
      if (!b) return;
      this.bouncer = b;
      b.start();
      return;
    }
    const b = this.bouncer;
    if (!b) return;
    this.bouncer = undefined;
    await b.stop();
    b.store.clear();
  }
}
