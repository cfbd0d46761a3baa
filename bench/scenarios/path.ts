// Scenario "per-request path": bench/micro/path.ts in its own process (route, client IP,
// restriction chain with CrowdSec off and with the 1M-decision store, X-Forwarded-* headers,
// metrics, access line), with the servers paused.
import type { BenchContext, ScenarioReport } from '../runner/context';
import { log } from '../runner/log';
import { waitQuiet, whilePaused } from '../runner/measure';
import { runMicro } from '../runner/micro';
import type { PathBenchResult, Results } from '../runner/results';

export async function run(ctx: BenchContext): Promise<void> {
  if (!ctx.opts.path) return;
  try {
    await waitQuiet('path bench');
    log(`path: node --expose-gc .build/bench/micro/path.js --json (${ctx.opts.decisions} decisions, in process)`);
    const args = ['--decisions', String(ctx.opts.decisions), ...(ctx.opts.quick ? ['--quick'] : [])];
    ctx.results.path = await whilePaused(ctx.fleet.serverPids(), async () => runMicro<PathBenchResult>('path', args, ctx.pin));
  } catch (err) {
    ctx.results.errors.push(`path bench: ${(err as Error).message}`);
    log(`path bench failed: ${(err as Error).message}`);
  }
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    const p = r.path;
    if (!p) return [];
    const L = [
      '',
      `Per-request path (bench/micro/path.ts, in process: route, client IP, restriction chain, headers, metrics, access line; ${p.rounds} rounds of ${p.requests_per_round} requests)`,
    ];
    L.push(`  ${'row'.padEnd(30)} ${'ns/req'.padStart(7)} ${'best'.padStart(7)} ${'CPU ns'.padStart(7)} ${'B/req'.padStart(6)}  GC-free alloc batches`);
    for (const row of Object.values(p.rows)) {
      L.push(
        `  ${row.label.padEnd(30)} ${String(row.ns_per_request).padStart(7)} ${String(row.ns_per_request_best).padStart(7)} ${String(row.cpu_ns_per_request).padStart(7)} ${String(row.bytes_per_request).padStart(6)}  ${row.alloc_batches_used}/${row.alloc_batches_run}`,
      );
    }
    return L;
  },
};
