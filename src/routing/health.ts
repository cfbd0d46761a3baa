// A target's health: passive (requests that failed) and active (probes), with nginx's and
// Traefik's vocabulary. Pure: the time is handed in; the prober (prober.ts) feeds probe results.

/** Shared by every runtime that has the same target in the same pool, so that a reload keeps it. */
export class TargetState {
  /** Requests or connections in flight (least_conn). */
  active = 0;
  requests = 0;
  failures = 0;
  /** Passive: failures counted since `firstFailAt`; down until `downUntil` (ms since the epoch). */
  fails = 0;
  firstFailAt = 0;
  downUntil = 0;
  /** Active: the probes' verdict (up until probes say otherwise) and the current streak. */
  probeUp = true;
  streak = 0;
  lastProbeError: string | undefined = undefined;

  up(nowMs: number): boolean {
    return this.probeUp && nowMs >= this.downUntil;
  }

  /** Why it is down, or undefined when it is up. */
  downReason(nowMs: number): 'probe' | 'failures' | undefined {
    if (!this.probeUp) return 'probe';
    return nowMs < this.downUntil ? 'failures' : undefined;
  }
}

export interface PassivePolicy {
  maxFails: number;
  failTimeoutMs: number;
}

/**
 * A failed request (refused, timed out, reset before an answer). `maxFails` failures within
 * `failTimeoutMs` take the target out for `failTimeoutMs`; maxFails 0 never does. Returns true when
 * this failure took it down.
 */
export function recordFailure(s: TargetState, p: PassivePolicy, nowMs: number): boolean {
  s.failures++;
  if (p.maxFails === 0) return false;
  if (s.fails === 0 || nowMs - s.firstFailAt > p.failTimeoutMs) {
    s.fails = 0;
    s.firstFailAt = nowMs;
  }
  s.fails++;
  if (s.fails < p.maxFails) return false;
  s.fails = 0;
  const wasUp = nowMs >= s.downUntil;
  s.downUntil = nowMs + p.failTimeoutMs;
  return wasUp;
}

/** An answer from the target: its failure count starts again (as nginx does). */
export function recordSuccess(s: TargetState): void {
  if (s.fails !== 0) s.fails = 0;
}

/** A probe's result with hysteresis: `healthy` successes in a row bring it up, `unhealthy` failures take it down. Returns true when the state flipped. */
export function recordProbe(s: TargetState, ok: boolean, healthy: number, unhealthy: number, error?: string): boolean {
  s.lastProbeError = ok ? undefined : error;
  if (ok === s.probeUp) {
    s.streak = 0;
    return false;
  }
  s.streak++;
  if (s.streak < (ok ? healthy : unhealthy)) return false;
  s.streak = 0;
  s.probeUp = ok;
  if (ok) s.downUntil = 0;
  return true;
}
