// Exponential backoff with full jitter and a floor, for retrying LAPI pulls.

export interface BackoffOptions {
  /** Ceiling of the first delay. */
  initialMs: number;
  /** Ceiling never grows past this. */
  maxMs: number;
  /**
   * Smallest delay ever returned, so a retry never fires immediately even when the jitter draws 0.
   * Default: half of initialMs.
   */
  minMs?: number;
  /** Uniform random in [0, 1); injectable for tests. */
  random?: () => number;
}

/**
 * Delay n (0-based) is drawn uniformly from [min, ceiling(n)] with ceiling(n) = min(max, initial × 2^n)
 * ("full jitter": retries of many clients spread out instead of arriving together).
 */
export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly minMs: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions) {
    if (!(opts.initialMs > 0)) throw new RangeError('backoff initialMs must be positive');
    this.initialMs = opts.initialMs;
    this.maxMs = Math.max(opts.maxMs, opts.initialMs);
    this.minMs = Math.min(Math.max(0, opts.minMs ?? opts.initialMs / 2), this.initialMs);
    this.random = opts.random ?? Math.random;
  }

  /** Failures counted since the last reset(). */
  get attempts(): number {
    return this.attempt;
  }

  /** The ceiling the next delay will be drawn under. */
  ceiling(attempt = this.attempt): number {
    // 2^attempt overflows to Infinity for large attempts, which min() then caps.
    return Math.min(this.maxMs, this.initialMs * 2 ** Math.min(attempt, 1024));
  }

  /** Delay before the next retry; counts one failure. */
  next(): number {
    const ceil = this.ceiling();
    this.attempt++;
    const r = Math.min(Math.max(this.random(), 0), 1);
    return Math.round(this.minMs + r * (ceil - this.minMs));
  }

  reset(): void {
    this.attempt = 0;
  }
}
