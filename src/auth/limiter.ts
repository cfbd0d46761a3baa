// Failed logins per client IP: more than `limit` failures within `windowMs` blocks the address for
// `blockMs` (answered 429 without checking anything). Bounded: the oldest entries go first.

export interface LimiterOptions {
  limit: number;
  windowMs: number;
  blockMs: number;
  maxEntries: number;
}

export const LOGIN_LIMIT: LimiterOptions = { limit: 5, windowMs: 60_000, blockMs: 5 * 60_000, maxEntries: 100_000 };

interface Entry {
  /** Start of the current window. */
  since: number;
  failures: number;
  blockedUntil: number;
}

export class FailureLimiter {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly opts: LimiterOptions = LOGIN_LIMIT) {}

  /** Milliseconds the address is still blocked for; 0 when it may try. */
  blockedFor(ip: string, nowMs: number): number {
    const e = this.entries.get(ip);
    return e === undefined || e.blockedUntil <= nowMs ? 0 : e.blockedUntil - nowMs;
  }

  /** Records a failure; true when it blocked the address. */
  fail(ip: string, nowMs: number): boolean {
    let e = this.entries.get(ip);
    if (e === undefined || nowMs - e.since >= this.opts.windowMs) {
      if (e !== undefined) this.entries.delete(ip);
      // Room is made before the new entry goes in, so it is never the one dropped: with the table
      // full of blocked addresses, a new address's failures would otherwise never count.
      this.prune(nowMs);
      e = { since: nowMs, failures: 0, blockedUntil: e?.blockedUntil ?? 0 };
      this.entries.set(ip, e);
    }
    e.failures++;
    if (e.failures >= this.opts.limit) {
      e.blockedUntil = nowMs + this.opts.blockMs;
      e.failures = 0;
      e.since = nowMs;
      return true;
    }
    return false;
  }

  succeed(ip: string): void {
    const e = this.entries.get(ip);
    if (e !== undefined && e.blockedUntil === 0) this.entries.delete(ip);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Room for one more entry: unblocked entries go oldest first; blocked ones only past twice the bound. */
  private prune(nowMs: number): void {
    if (this.entries.size < this.opts.maxEntries) return;
    for (const [ip, e] of this.entries) {
      if (this.entries.size < this.opts.maxEntries) break;
      if (e.blockedUntil <= nowMs || this.entries.size >= this.opts.maxEntries * 2) this.entries.delete(ip);
    }
  }
}
