// Scenario "enforce vs off, A/B in one process".
// Two netbird-proxy processes differ by up to ±8 % on this VM whatever their config (JIT and
// memory layout luck that lasts for the process's life), far above the 3 % in question. So the
// cost of the lookup is measured inside each enforce daemon: its "web" service (enforce) and its
// "web-off" twin (CrowdSec off, same upstream), alternated in short runs; median of pair ratios.
import { OFF_TWIN_HOST } from '../lib/netbird';
import { median } from '../lib/stats';
import { runWrk } from '../lib/wrk';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log } from '../runner/log';
import { measured } from '../runner/measure';
import type { EnforceAbResult, Results } from '../runner/results';
import { wrkBase } from './http';

export async function run(ctx: BenchContext): Promise<void> {
  const { opts, results, fleet } = ctx;
  if (!opts.http || !results.http || fleet.enforce.length === 0 || opts.abPairs <= 0) return;
  log(`enforce vs off A/B in the same process: ${opts.abPairs} pairs of ${opts.abS} s runs per enforce daemon, order reversed every other pair`);
  const wrk = wrkBase(ctx);
  const byDaemon: EnforceAbResult['by_daemon'] = {};
  for (const e of fleet.enforce) {
    const url = `http://127.0.0.1:${e.nb.httpPort}/`;
    const hosts = [
      { key: 'enforce', host: 'bench.local' },
      { key: 'off', host: OFF_TWIN_HOST },
    ];
    const got: Record<string, number[]> = { enforce: [], off: [] };
    for (let i = 0; i < opts.abPairs; i++) {
      for (const h of i % 2 === 0 ? hosts : [...hosts].reverse()) {
        const o = { ...wrk, headers: { Host: h.host } };
        try {
          const res = await measured(
            `A/B ${e.key} ${i + 1} ${h.key}`,
            fleet.others(e.nb.pid),
            () => runWrk({ ...o, url, durationS: 1 }),
            () => runWrk({ ...o, url, durationS: opts.abS }),
          );
          if (res.non_2xx > 0) results.errors.push(`A/B ${e.key} ${h.key}: ${res.non_2xx} non-2xx`);
          got[h.key].push(res.rps);
        } catch (err) {
          got[h.key].push(NaN);
          results.errors.push(`A/B ${e.key} ${h.key} pair ${i + 1}: ${(err as Error).message}`);
        }
      }
    }
    const ratios = got.enforce.map((x, i) => +(x / got.off[i]).toFixed(4));
    const ok = ratios.filter((x) => Number.isFinite(x));
    byDaemon[e.key] = {
      enforce_rps: got.enforce.map(Math.round),
      off_rps: got.off.map(Math.round),
      ratios,
      median: +median(ok).toFixed(4),
      min: Math.min(...ok),
      max: Math.max(...ok),
    };
    log(`A/B ${e.key}: enforce/off median ${byDaemon[e.key].median} (range ${byDaemon[e.key].min}–${byDaemon[e.key].max})`);
  }
  results.http.enforce_ab = { pairs: opts.abPairs, seconds: opts.abS, by_daemon: byDaemon };
}

/** Printed under the HTTP table; the enforce-cost target is the HTTP scenario's. */
export const report: ScenarioReport = {
  section(r: Results): string[] {
    const ab = r.http?.enforce_ab;
    if (!ab) return [];
    const L = [`  enforce vs off in the same process (A/B, ${ab.pairs} alternating pairs of ${ab.seconds} s runs, "web" vs its CrowdSec-off twin):`];
    for (const [k, v] of Object.entries(ab.by_daemon)) {
      L.push(
        `    ${k.replace('netbird_', '')}: enforce/off median ${v.median} (range ${v.min}–${v.max}); enforce ${v.enforce_rps.map((x) => fmt(x)).join(' ')} | off ${v.off_rps.map((x) => fmt(x)).join(' ')}`,
      );
    }
    return L;
  },
};
