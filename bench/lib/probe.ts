// Glue between async probes and test/harness `until`, which polls a synchronous predicate.

/**
 * Turns an async probe into the synchronous predicate input test/harness `until` polls: each call
 * returns the latest settled value and starts a new probe when none is in flight and `everyMs`
 * have passed since the last one started (so a slow endpoint is not hammered every 10 ms).
 */
export function sampler<T>(probe: () => Promise<T>, everyMs: number): () => T | undefined {
  let latest: T | undefined;
  let inFlight = false;
  let startedAt = -Infinity;
  return () => {
    if (!inFlight && Date.now() - startedAt >= everyMs) {
      inFlight = true;
      startedAt = Date.now();
      probe()
        .then(
          (v) => {
            latest = v;
          },
          () => undefined,
        )
        .finally(() => {
          inFlight = false;
        });
    }
    return latest;
  };
}

/** Rejects when `p` has not settled after `ms` (the harness HTTP client has no timeout of its own). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
