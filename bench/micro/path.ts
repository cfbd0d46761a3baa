// The per-request path of an HTTP request, in process, on the real modules (compiled from src/
// into .build/ by `npm run build:scripts`): host route → client IP (socket peer, trusted proxies,
// X-Forwarded-For) → restriction chain (CrowdSec off, or enforce against a StreamBouncer synced
// with 1M decisions) → X-Forwarded-* headers → metrics counter → access line (formatted into a
// sink that only counts bytes: the file I/O is not part of this). No sockets, no forwarding.
//
//   npm run bench:path [-- --json] [--quick] [--decisions N] [--requests N] [--rounds N]
//
// The request itself is in path-step.ts, the services, bouncer and client addresses in
// path-fixture.ts; this file measures and reports.
//
// Method. Time: every row runs `requests` requests per round, rows interleaved per round
// (A B C … A B C …), after a warm-up; ns/request = median over rounds of round time / requests,
// GC included (wall time, and the process's CPU time). Memory: batches of ALLOC_BATCH requests,
// each after a forced minor GC (with --expose-gc); bytes/request = median over batches of the
// growth of V8's used heap size across the batch / requests; batches during which any GC ran
// (PerformanceObserver 'gc' entries) are dropped, since a GC in the middle would hide what was
// allocated.
import { PerformanceObserver, performance } from 'node:perf_hooks';
import { getHeapStatistics } from 'node:v8';
import { parseServicesConfig } from '../../src/config/load';
import { HostRouter } from '../../src/listeners/host-router';
import { CidrSet } from '../../src/net/cidr-set';
import { buildServiceRuntime, type HttpServiceRuntime } from '../../src/services';
import { AccessLog } from '../../src/telemetry/access-log';
import { Metrics } from '../../src/telemetry/metrics';
import { median } from '../lib/stats';
import { short } from '../runner/log';
import type { PathBenchResult, PathRow } from '../runner/results';
import { hitAddresses, missAddresses, SERVICES_YAML, syncedBouncer, TRUSTED_PROXIES } from './path-fixture';
import { baselineStep, canonicalStep, connection, pathStep, type Conn, type PathDeps, type Step } from './path-step';

interface Args {
  json: boolean;
  decisions: number;
  requests: number;
  rounds: number;
  warmup: number;
  allocBatches: number;
}

const USAGE = 'usage: node --expose-gc .build/bench/micro/path.js [--json] [--quick] [--decisions N] [--requests N] [--rounds N]';

function parseArgs(argv: string[]): Args {
  for (let i = 0; i < argv.length; i++) {
    if (['--decisions', '--requests', '--rounds'].includes(argv[i])) i++;
    else if (argv[i] === '-h' || argv[i] === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else if (argv[i] !== '--json' && argv[i] !== '--quick') throw new Error(`unknown option ${argv[i]}\n${USAGE}`);
  }
  const quick = argv.includes('--quick');
  const a: Args = {
    json: argv.includes('--json'),
    decisions: 1_000_000,
    requests: quick ? 100_000 : 300_000,
    rounds: quick ? 3 : 7,
    warmup: quick ? 100_000 : 200_000,
    allocBatches: quick ? 100 : 300,
  };
  const num = (name: string): number | undefined => {
    const i = argv.indexOf(name);
    if (i < 0) return undefined;
    const v = Number(argv[i + 1]);
    if (!Number.isInteger(v) || v <= 0) throw new Error(`${name} needs a positive integer`);
    return v;
  };
  a.decisions = num('--decisions') ?? a.decisions;
  a.requests = num('--requests') ?? a.requests;
  a.rounds = num('--rounds') ?? a.rounds;
  return a;
}

const args = ((): Args => {
  try {
    return parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`bench path: ${(err as Error).message}\n`);
    return process.exit(2);
  }
})();
const log = (msg: string): void => {
  (args.json ? process.stderr : process.stdout).write(`${msg}\n`);
};

/** Simulated keep-alive connections per row; requests cycle through them. */
const CONNECTIONS = 1024;
const ALLOC_BATCH = 500;

// ------------------------------------------------------------------------------------ measuring

interface Row {
  key: string;
  label: string;
  description: string;
  conns: Conn[];
  step: Step;
  /** The service whose counter this row increments, and the outcome; undefined for the baseline. */
  counts: { service: string; outcome: 'allowed' | 'denied' } | undefined;
  next: number;
  roundNs: number[];
  roundCpuNs: number[];
  allocBytes: number[];
  allocRun: number;
}

function runRequests(row: Row, n: number): void {
  const conns = row.conns;
  let i = row.next;
  for (let k = 0; k < n; k++) {
    row.step(conns[i]);
    i = i + 1 === conns.length ? 0 : i + 1;
  }
  row.next = i;
}

const gcEntries: Array<{ start: number; end: number }> = [];
const gcObserver = new PerformanceObserver((list) => {
  for (const e of list.getEntries()) gcEntries.push({ start: e.startTime, end: e.startTime + e.duration });
});

async function measureAllocation(row: Row, batches: number): Promise<void> {
  const spans: Array<{ start: number; end: number; bytes: number }> = [];
  for (let b = 0; b < batches; b++) {
    global.gc?.({ type: 'minor' });
    const h0 = getHeapStatistics().used_heap_size;
    const start = performance.now();
    runRequests(row, ALLOC_BATCH);
    const end = performance.now();
    const h1 = getHeapStatistics().used_heap_size;
    spans.push({ start, end, bytes: (h1 - h0) / ALLOC_BATCH });
  }
  // PerformanceObserver entries are delivered asynchronously.
  await new Promise((r) => setTimeout(r, 50));
  const clean = spans.filter((s) => !gcEntries.some((g) => g.start < s.end && g.end > s.start));
  row.allocRun = batches;
  row.allocBytes = clean.map((s) => s.bytes);
}

async function outcomeCounts(metrics: Metrics): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const counter = metrics.registry.getSingleMetric('netbird_proxy_http_requests_total');
  if (counter === undefined) throw new Error('netbird_proxy_http_requests_total is not registered');
  for (const v of (await counter.get()).values) {
    const key = `${String(v.labels.service)}/${String(v.labels.outcome)}`;
    out.set(key, (out.get(key) ?? 0) + v.value);
  }
  return out;
}

async function main(): Promise<void> {
  log(`path: syncing a StreamBouncer with ${args.decisions.toLocaleString('en-US')} decisions from the fake LAPI`);
  const { bouncer, syncMs } = await syncedBouncer(args.decisions);
  const total = bouncer.store.size;
  log(`path: synced in ${syncMs} ms (${total.toLocaleString('en-US')} entries)`);
  const now = Date.now();

  const config = parseServicesConfig(SERVICES_YAML, 'bench/micro/path.ts', { crowdsecAvailable: true });
  const runtimes = config.services.map(buildServiceRuntime).filter((s): s is HttpServiceRuntime => s.config.protocol === 'http');
  const metrics = new Metrics(() => bouncer);
  let lineBytes = 0;
  let lines = 0;
  const deps: PathDeps = {
    router: new HostRouter(runtimes),
    trusted: new CidrSet(TRUSTED_PROXIES),
    chain: { geo: undefined, crowdsec: bouncer },
    metrics,
    accessLog: new AccessLog({
      write(line: string): boolean {
        lineBytes += line.length;
        lines++;
        return true;
      },
    }),
  };
  const step = pathStep(deps);
  const misses = missAddresses(CONNECTIONS, bouncer, now);
  const hits = hitAddresses(CONNECTIONS, args.decisions, bouncer, now);
  const proxies = Array.from({ length: CONNECTIONS }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255 || 1}`);
  const row = (key: string, label: string, description: string, conns: Conn[], s: Step, counts: Row['counts']): Row => ({
    key,
    label,
    description,
    conns,
    step: s,
    counts,
    next: 0,
    roundNs: [],
    roundCpuNs: [],
    allocBytes: [],
    allocRun: 0,
  });
  const rows: Row[] = [
    row(
      'baseline',
      'loop baseline',
      'the loop and a fresh headers object only (what the harness costs per request)',
      misses.map((ip) => connection(ip, deps.trusted, 'bench.local', undefined)),
      baselineStep,
      undefined,
    ),
    row(
      'off',
      'CrowdSec off',
      'direct client (80 % IPv4, 20 % IPv6), service with crowdsec: off → allowed',
      misses.map((ip) => connection(ip, deps.trusted, 'off.bench.local', undefined)),
      step,
      { service: 'web-off', outcome: 'allowed' },
    ),
    row(
      'off_no_access',
      'CrowdSec off, no access line',
      'the CrowdSec off row without the access line (the difference is the line and its sink)',
      misses.map((ip) => connection(ip, deps.trusted, 'off.bench.local', undefined)),
      pathStep(deps, { metrics: true, accessLine: false }),
      { service: 'web-off', outcome: 'allowed' },
    ),
    row(
      'canonical',
      'canonical request checks',
      'canonicalizeInPlace() alone: version, Host, target, framing and expectation checks',
      misses.map((ip) => connection(ip, deps.trusted, 'bench.local', undefined)),
      canonicalStep,
      undefined,
    ),
    row(
      'enforce_1m_miss',
      `enforce ${short(args.decisions)}, miss`,
      'direct client no decision covers, crowdsec: enforce → lookup, allowed',
      misses.map((ip) => connection(ip, deps.trusted, 'bench.local', undefined)),
      step,
      { service: 'web', outcome: 'allowed' },
    ),
    row(
      'stage_admission',
      'enforce miss: admission only',
      'enforce miss without the metrics counter and the access line: route, client IP, chain, X-Forwarded-* headers',
      misses.map((ip) => connection(ip, deps.trusted, 'bench.local', undefined)),
      pathStep(deps, { metrics: false, accessLine: false }),
      undefined,
    ),
    row(
      'stage_admission_metrics',
      'enforce miss: + metrics',
      'enforce miss without the access line',
      misses.map((ip) => connection(ip, deps.trusted, 'www.bench.local', undefined)),
      pathStep(deps, { metrics: true, accessLine: false }),
      { service: 'web', outcome: 'allowed' },
    ),
    row(
      'enforce_1m_hit',
      `enforce ${short(args.decisions)}, hit`,
      'direct client with a decision (exact IPv4/IPv6 or inside a range) → lookup, denied (403 line with metadata)',
      hits.map((ip) => connection(ip, deps.trusted, 'bench.local', undefined)),
      step,
      { service: 'web', outcome: 'denied' },
    ),
    row(
      'enforce_1m_xff',
      `enforce ${short(args.decisions)}, via proxy`,
      'peer in --trusted-proxies, client from X-Forwarded-For (no decision) → lookup, allowed, X-Forwarded-For rebuilt',
      misses.map((ip, i) => connection(proxies[i], deps.trusted, 'xff.bench.local', ip)),
      step,
      { service: 'web-xff', outcome: 'allowed' },
    ),
  ];

  global.gc?.();
  log(
    `path: warm-up ${args.warmup.toLocaleString('en-US')} requests per row, then ${args.rounds} interleaved rounds of ${args.requests.toLocaleString('en-US')}`,
  );
  for (const r of rows) runRequests(r, args.warmup);
  gcObserver.observe({ entryTypes: ['gc'] });
  for (let round = 0; round < args.rounds; round++) {
    for (const r of rows) {
      const c0 = process.cpuUsage();
      const t0 = process.hrtime.bigint();
      runRequests(r, args.requests);
      r.roundNs.push(Number(process.hrtime.bigint() - t0) / args.requests);
      const c = process.cpuUsage(c0);
      r.roundCpuNs.push(((c.user + c.system) * 1000) / args.requests);
    }
  }
  log(`path: allocation, ${args.allocBatches} batches of ${ALLOC_BATCH} requests per row`);
  for (const r of rows) await measureAllocation(r, args.allocBatches);
  gcObserver.disconnect();

  // The counters the path incremented must add up: every row took the branch it was built for.
  const counts = await outcomeCounts(metrics);
  const perRow = args.warmup + args.rounds * args.requests + args.allocBatches * ALLOC_BATCH;
  const expected = new Map<string, number>();
  for (const r of rows)
    if (r.counts) expected.set(`${r.counts.service}/${r.counts.outcome}`, (expected.get(`${r.counts.service}/${r.counts.outcome}`) ?? 0) + perRow);
  for (const [k, n] of expected) {
    if (counts.get(k) !== n) throw new Error(`metrics: ${k} counted ${counts.get(k) ?? 0}, expected ${n}`);
  }
  const silent = new Set(['baseline', 'canonical', 'off_no_access']);
  const logged = rows.filter((r) => !silent.has(r.key) && !r.key.startsWith('stage_')).length * perRow;
  if (lines !== logged) throw new Error(`access log: ${lines} lines, expected ${logged}`);

  const out: Record<string, PathRow> = {};
  for (const r of rows) {
    out[r.key] = {
      label: r.label,
      description: r.description,
      ns_per_request: Math.round(median(r.roundNs)),
      ns_per_request_best: Math.round(Math.min(...r.roundNs)),
      ns_per_request_rounds: r.roundNs.map((x) => Math.round(x)),
      cpu_ns_per_request: Math.round(median(r.roundCpuNs)),
      bytes_per_request: Math.round(median(r.allocBytes)),
      alloc_batches_used: r.allocBytes.length,
      alloc_batches_run: r.allocRun,
      outcomes: r.counts ? { [r.counts.outcome]: counts.get(`${r.counts.service}/${r.counts.outcome}`) ?? 0 } : {},
    };
  }
  const result: PathBenchResult = {
    benchmark: 'path',
    node: process.version,
    gc_exposed: global.gc !== undefined,
    method:
      `time: median over ${args.rounds} interleaved rounds of ${args.requests} requests per row (after ${args.warmup} warm-up), GC included; ` +
      `memory: median over batches of ${ALLOC_BATCH} requests of V8 used-heap growth / requests, each batch after a forced minor GC, batches with a GC inside dropped`,
    decisions: args.decisions,
    store_sync: { via: 'StreamBouncer ← test/harness/fake-lapi.ts (mixed startup response, bench/lib/decisions.ts)', sync_ms: syncMs, total },
    requests_per_round: args.requests,
    rounds: args.rounds,
    alloc_batch: ALLOC_BATCH,
    connections: CONNECTIONS,
    rows: out,
  };
  if (args.json) {
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return;
  }
  log('');
  log(
    `Per-request path (${process.version}${result.gc_exposed ? '' : ', no --expose-gc: bytes/request is noisier'}; ${CONNECTIONS} connections per row; access line ${Math.round(lineBytes / lines)} bytes on average)`,
  );
  log(`  ${'row'.padEnd(30)} ${'ns/req'.padStart(7)} ${'best'.padStart(7)} ${'CPU ns'.padStart(7)} ${'B/req'.padStart(6)}  alloc batches`);
  for (const r of Object.values(out)) {
    log(
      `  ${r.label.padEnd(30)} ${String(r.ns_per_request).padStart(7)} ${String(r.ns_per_request_best).padStart(7)} ${String(r.cpu_ns_per_request).padStart(7)} ${String(r.bytes_per_request).padStart(6)}  ${r.alloc_batches_used}/${r.alloc_batches_run}`,
    );
  }
  log(`  method: ${result.method}`);
}

main().catch((err: Error) => {
  process.stderr.write(`bench path: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
