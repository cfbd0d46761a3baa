// netbird-proxy benchmark runner (npm run bench [-- --quick | --rounds N | ...]); see bench/README.md.
//
// Starts the shared servers (runner/fleet.ts), then runs the scenarios in order, each measuring in
// interleaved rounds with medians (runner/measure.ts):
//   scenarios/crowdsec-sync  enforce daemons synced from the real LAPI (100k) and the fake LAPI (1M)
//   scenarios/http           wrk → upstream alone | nginx | HAProxy | bare Node refs | netbird off | enforce
//   scenarios/enforce-ab     enforce vs off inside one enforce daemon, alternating short runs
//   scenarios/tcp            direct | nginx stream | netbird tcp: conns/s (wrk, echo client), bulk MiB/s
//   scenarios/https          nginx vs netbird-proxy terminating TLS (same cert/key): keep-alive req/s, new handshakes/s
//   scenarios/h2             h2load: nginx vs netbird-proxy over HTTP/2, and HTTP/2 vs HTTP/1.1 for each
//   scenarios/profile        node --cpu-prof of netbird-proxy (CrowdSec off) under wrk, top self time
//   scenarios/store          micro/store.ts: 1M decisions applied in process, RSS, lookups/s
//   scenarios/path           micro/path.ts: the per-request path in process, ns and bytes per request
//   scenarios/appsec         appsec: enforce vs off in one process, engine answering at once / after 5 ms
//   scenarios/features       per-feature cost: CPU µs/request of each layer vs bare http-proxy, same run
//   scenarios/tail           wrk -c1 rounds under --trace-gc: p99 next to the scavenges, default vs sized young generation
// Writes bench/results/latest.json (and bench/results/YYYY-MM-DD.json with --save).
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../test/harness/repo-root';
import { ensureTools } from './lib/install';
import { machineInfo, toolVersions } from './lib/machine';
import { choosePinning, pinSelf } from './lib/tools';
import type { BenchContext, ScenarioReport } from './runner/context';
import { compareSection } from './runner/compare';
import { startFleet } from './runner/fleet';
import { log } from './runner/log';
import { parseOptions, type Options } from './runner/options';
import type { Results } from './runner/results';
import { renderTable } from './runner/table';
import * as appsec from './scenarios/appsec';
import * as sync from './scenarios/crowdsec-sync';
import * as enforceAb from './scenarios/enforce-ab';
import * as features from './scenarios/features';
import * as h2 from './scenarios/h2';
import * as http from './scenarios/http';
import * as httpsScenario from './scenarios/https';
import * as path from './scenarios/path';
import * as profile from './scenarios/profile';
import * as scaling from './scenarios/scaling';
import * as store from './scenarios/store';
import * as tail from './scenarios/tail';
import * as tcp from './scenarios/tcp';

/** Table sections and targets, in print order. */
const REPORTS: ScenarioReport[] = [
  http.report,
  enforceAb.report,
  tcp.report,
  httpsScenario.report,
  h2.report,
  sync.report,
  store.report,
  path.report,
  appsec.report,
  features.report,
  tail.report,
  profile.report,
  scaling.report,
];

/** The scenarios in run order (each returns at once when its option turned it off). */
async function runScenarios(ctx: BenchContext): Promise<void> {
  if (ctx.opts.onlyAppsec) return appsec.run(ctx);
  if (ctx.opts.onlyTail) return tail.run(ctx);
  if (ctx.opts.onlyFeatures) {
    const rows = ctx.opts.featureRows;
    if (rows === undefined || rows.includes('enforce_1m')) await sync.run(ctx);
    await h2.run(ctx);
    await path.run(ctx);
    return features.run(ctx);
  }
  await sync.run(ctx);
  await http.run(ctx);
  await enforceAb.run(ctx);
  sync.recordAfterLoad(ctx);
  await tcp.run(ctx);
  await httpsScenario.run(ctx);
  await h2.run(ctx);
  await profile.run(ctx);
  await store.run(ctx);
  await path.run(ctx);
  await appsec.run(ctx);
  await features.run(ctx);
  await tail.run(ctx);
  // Last: it starts its own nginx and --workers groups on both cores, unpinned.
  await scaling.run(ctx);
}

function describeSettings(opts: Options, pinning: string): Record<string, unknown> {
  return {
    rounds: opts.rounds,
    duration_s: opts.durationS,
    warmup_s: opts.warmupS,
    latency_run_s: opts.latencyS,
    connections: opts.connections,
    wrk: `wrk -t${opts.threads} -c${opts.connections} -d${opts.durationS}s --latency (after a ${opts.warmupS} s warm-up run)`,
    pinning,
    decisions_fake_lapi: opts.decisions,
    decisions_real_lapi: opts.realLapi ? opts.lapiDecisions : 0,
    bulk_bytes: opts.bulkBytes,
    echo_conns_per_round: opts.echoConns,
    enforce_ab_pairs: opts.abPairs,
    enforce_ab_run_s: opts.abS,
    quick: opts.quick,
  };
}

function writeResults(results: Results, save: boolean): void {
  const dir = join(REPO_ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const text = `${JSON.stringify(results, null, 2)}\n`;
  const files = [join(dir, 'latest.json'), ...(save ? [join(dir, `${results.generated_at.slice(0, 10)}.json`)] : [])];
  for (const f of files) {
    writeFileSync(f, text);
    log(`wrote ${f}`);
  }
}

async function main(): Promise<void> {
  const opts = parseOptions(process.argv.slice(2));
  const results: Results = {
    generated_at: new Date().toISOString(),
    machine: machineInfo(),
    versions: {},
    settings: {},
    crowdsec_sync: {},
    targets: {},
    errors: [],
    notes: [],
  };
  const cleanups: Array<() => Promise<void>> = [];
  const defer = (c: () => Promise<void>): void => {
    cleanups.push(c);
  };
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void cleanup().then(() => process.exit(130));
  });

  if (!existsSync(join(REPO_ROOT, 'dist', 'cli.js'))) throw new Error('dist/ is not built: run `npm run build` (npm run bench does it)');
  const tools = ensureTools(log);
  const pin = choosePinning(opts.pin, tools.taskset);
  pinSelf(pin.load, tools.taskset);
  results.versions = toolVersions(tools);
  results.settings = describeSettings(
    opts,
    pin.server === undefined
      ? 'none (no taskset)'
      : pin.load === undefined
        ? `server under test on CPU ${pin.server} (taskset); wrk, upstreams, TCP clients, LAPIs and this runner unpinned`
        : `server under test alone on CPU ${pin.server}; wrk, upstreams, TCP clients, LAPIs and this runner on CPU ${pin.load} (taskset)`,
  );
  results.notes.push(
    'nginx (1 worker) and HAProxy (nbthread 1) get the same single core as netbird-proxy (one Node process).',
    'Every proxy writes an access log to a file: nginx access_log (unbuffered), HAProxy httplog to stdout redirected to a file, netbird-proxy --access-log (pino, async).',
    'HTTP upstream: nginx `return 200 "ok\\n"`, 1 worker, access_log off, on the load CPU; upstream keep-alive in every proxy (nginx keepalive 128, HAProxy http-reuse always, netbird-proxy keep-alive agent).',
    'wrk hits every HTTP variant with Host: bench.local from 127.0.0.1, which no decision covers: the CrowdSec lookup runs on every request and the request is forwarded.',
  );
  log(
    `machine: ${results.machine.cpu_model}, ${results.machine.cpus} CPUs, ${results.machine.memory_gib} GiB, ${results.machine.os}, kernel ${results.machine.kernel}`,
  );
  log(`pinning: ${String(results.settings.pinning)}`);

  const dir = mkdtempSync(join(tmpdir(), 'nbp-bench-'));
  defer(async () => {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  });

  try {
    const fleet = await startFleet(tools, pin, dir, defer);
    await runScenarios({ opts, tools, pin, dir, results, fleet, defer });
  } catch (err) {
    results.errors.push(`fatal: ${(err as Error).stack ?? (err as Error).message}`);
    log(`FATAL: ${(err as Error).stack ?? (err as Error).message}`);
  } finally {
    await cleanup();
  }

  for (const r of REPORTS) Object.assign(results.targets, r.targets?.(results) ?? {});
  process.stdout.write(renderTable(results, REPORTS));
  if (opts.compare !== undefined) process.stdout.write(`${compareSection(results, opts.compare).join('\n')}\n`);
  writeResults(results, opts.save);
  if (results.errors.length > 0) process.exitCode = 1;
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
