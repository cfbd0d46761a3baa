// Scenario "decision store": bench/micro/store.ts in its own process (1M decisions applied in
// process; apply time, RSS, bytes/decision, lookups/s), with the servers paused.
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log } from '../runner/log';
import { waitQuiet, whilePaused } from '../runner/measure';
import { runMicro } from '../runner/micro';
import type { Results, StoreBenchResult, Target } from '../runner/results';

export async function run(ctx: BenchContext): Promise<void> {
  if (!ctx.opts.store) return;
  try {
    await waitQuiet('store bench');
    log('store: node --expose-gc .build/bench/micro/store.js --json (1M decisions, in process)');
    ctx.results.store = await whilePaused(ctx.fleet.serverPids(), async () => runMicro<StoreBenchResult>('store', [], ctx.pin));
  } catch (err) {
    ctx.results.errors.push(`store bench: ${(err as Error).message}`);
    log(`store bench failed: ${(err as Error).message}`);
  }
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    const s = r.store;
    if (!s?.lookups_per_sec) return [];
    return [
      '',
      `Decision store (bench/micro/store.ts, in process, ${fmt(s.decisions)} decisions)`,
      `  apply ${fmt(s.apply_ms)} ms; RSS peak during apply ${s.rss_mb_peak_during_apply} MB, after apply ${s.rss_mb_after_apply} MB; ${s.bytes_per_decision} bytes/decision`,
      `  lookups/s: ${Object.entries(s.lookups_per_sec)
        .map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)}M`)
        .join(', ')}`,
    ];
  },
  targets(r: Results): Record<string, Target> {
    const s = r.store;
    if (s?.apply_ms === undefined) return {};
    const min = Math.min(...Object.values(s.lookups_per_sec ?? {}));
    return {
      store_apply: { target: '1M applied ≤ 5 s', measured: `${fmt(s.apply_ms)} ms`, met: s.apply_ms <= 5000 },
      store_rss: { target: 'RSS ≤ 300 MB after apply', measured: `${s.rss_mb_after_apply} MB (store bench)`, met: (s.rss_mb_after_apply ?? Infinity) <= 300 },
      store_lookups: { target: '≥ 2M lookups/s', measured: `min ${(min / 1e6).toFixed(2)}M/s`, met: min >= 2e6 },
    };
  },
};
