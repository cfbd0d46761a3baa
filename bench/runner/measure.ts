// How one measurement is taken on a shared machine: wait for quiet, pause the servers not under
// test, warm up, measure with the foreign-CPU probe running, repeat when disturbed. And the
// runner's one loop: interleaved rounds (A B C A B C ...) over a scenario's variants.
import { readFileSync } from 'node:fs';
import { sleep } from '../../test/harness/clients';
import { median } from '../lib/stats';
import { pauseTrees, startForeignProbe } from '../lib/tools';
import { log } from './log';
import type { Disturbance } from './results';

/** Cores' worth of foreign CPU above which a measurement counts as disturbed. */
export const FOREIGN_LIMIT = 0.1;
let quietBudgetMs = 120_000;

/** Waits (bounded: 120 s over the whole run) until processes outside the benchmark calm down. */
export async function waitQuiet(what: string): Promise<number> {
  for (;;) {
    const p = startForeignProbe();
    await sleep(500);
    const f = p.stop();
    if (f <= FOREIGN_LIMIT || quietBudgetMs <= 0) return f;
    log(`${what}: ${f.toFixed(2)} cores busy outside the benchmark; waiting (budget ${Math.round(quietBudgetMs / 1000)} s)`);
    quietBudgetMs -= 2500;
    await sleep(2000);
  }
}

/** Runs fn with the given process trees SIGSTOPped. */
export async function whilePaused<T>(pids: number[], fn: () => Promise<T>): Promise<T> {
  const paused = pauseTrees(pids);
  try {
    return await fn();
  } finally {
    paused.resume();
  }
}

/** warm() then run() with the other servers paused; repeated (up to 3 times) when processes
 * outside the benchmark used more than 0.1 core meanwhile; keeps the least disturbed attempt. */
export async function measured<T>(what: string, pause: number[], warm: () => Promise<unknown>, run: () => Promise<T>): Promise<T & Disturbance> {
  let best: (T & Disturbance) | undefined;
  for (let attempt = 1; attempt <= 3; attempt++) {
    await waitQuiet(what);
    const paused = pauseTrees(pause);
    try {
      await warm();
      const probe = startForeignProbe();
      const res = await run();
      const foreign = probe.stop();
      if (best === undefined || foreign < best.foreign_cpu) best = { ...res, foreign_cpu: foreign, attempts: attempt };
    } finally {
      paused.resume();
    }
    best.attempts = attempt;
    if (best.foreign_cpu <= FOREIGN_LIMIT) break;
    if (attempt < 3) log(`${what}: disturbed (${best.foreign_cpu.toFixed(2)} cores used outside the benchmark); repeating`);
  }
  return best as T & Disturbance;
}

/** Interleaved rounds: round 1 over every variant, then round 2, ...; a failed measurement is
 * passed to onError and the rounds go on. */
export async function interleave<V>(
  rounds: number,
  variants: V[],
  measure: (v: V, round: number) => Promise<void>,
  onError: (v: V, round: number, err: Error) => void,
): Promise<void> {
  for (let r = 1; r <= rounds; r++) {
    for (const v of variants) {
      try {
        await measure(v, r);
      } catch (err) {
        onError(v, r, err as Error);
      }
    }
  }
}

/** Busy fraction of each CPU (from /proc/stat) between start and stop, keys cpu0, cpu1... */
export function cpuStatProbe(): { stop(): Record<string, number> } {
  const read = (): Map<string, { busy: number; total: number }> => {
    const out = new Map<string, { busy: number; total: number }>();
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      const mm = /^(cpu\d+)\s+(.*)$/.exec(line);
      if (!mm) continue;
      const f = mm[2].split(/\s+/).map(Number);
      const idle = f[3] + (f[4] ?? 0);
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      out.set(mm[1], { busy: total - idle, total });
    }
    return out;
  };
  const a = read();
  return {
    stop() {
      const b = read();
      const out: Record<string, number> = {};
      for (const [k, v] of b) {
        const p = a.get(k);
        if (p && v.total > p.total) out[k] = +((v.busy - p.busy) / (v.total - p.total)).toFixed(3);
      }
      return out;
    },
  };
}

/** Per-CPU busy medians (keys cpu0, cpu1, ...) over rounds. */
export function medianCpus(rounds: Array<Record<string, number>>): Record<string, number> {
  const keys = [...new Set(rounds.flatMap((r) => Object.keys(r)).filter((k) => /^cpu\d+$/.test(k)))].sort();
  return Object.fromEntries(keys.map((k) => [k, +median(rounds.map((r) => r[k] ?? NaN)).toFixed(2)]));
}
