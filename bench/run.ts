// netbird-proxy benchmark runner (npm run bench [-- --quick | --rounds N | ...]); see bench/README.md.
//
// One run, interleaved rounds (A B C A B C...), medians reported:
//   HTTP  wrk → upstream alone | nginx | HAProxy | netbird-proxy off | enforce 100k (real LAPI) | enforce 1M (fake LAPI)
//   TCP   direct | nginx stream | netbird-proxy tcp: connections/s (wrk with Connection: close, and a
//         Node echo client) and bulk throughput (1 GiB through one connection)
//   store bench/store.bench.js (apply 1M, RSS, lookups/s, bytes/decision), merged from its --json
//   profile node --cpu-prof of netbird-proxy (CrowdSec off) under wrk load, top self time
// Writes bench/results.json (and bench/results-YYYY-MM-DD.json with --save).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startFakeLapi, type FakeLapi } from '../test/harness/fake-lapi';
import { startLapi, type Lapi } from '../test/harness/lapi';
import { freePort } from '../test/harness/ports';
import { PROBE_BLOCKED_IP, renderStartupBody, writeImportFiles, type Mix } from './decisions';
import { OFF_TWIN_HOST, servicesYaml, startNetbird, type Netbird } from './netbird';
import { summariseCpuProfile, type ProfileSummary } from './profile';
import { startBareProxy, startHaproxy, startNginxProxy, startNginxUpstream, type Server } from './servers';
import { runTcpClient, startTcpServer, type BulkResult, type ConnRateResult, type TcpServer } from './tcp';
import {
  choosePinning, ensureTools, type PinMode, httpGet, machineInfo, median, memoryOf, pinSelf, REPO_ROOT, sleep,
  pauseTrees, startCpuProbe, startForeignProbe, stopChild, toolVersions, type Pinning, type Tools,
} from './tools';
import { runWrk, type WrkResult } from './wrk';

// ------------------------------------------------------------------------------------ options

interface Options {
  quick: boolean;
  rounds: number;
  durationS: number;
  warmupS: number;
  latencyS: number;
  initialWarmS: number;
  abPairs: number;
  abS: number;
  connections: number;
  threads: number;
  pin: PinMode;
  decisions: number;
  lapiDecisions: number;
  realLapi: boolean;
  http: boolean;
  tcp: boolean;
  bulkBytes: number;
  echoConns: number;
  profile: boolean;
  profileS: number;
  store: boolean;
  save: boolean;
  keep: boolean;
}

const USAGE = `usage: npm run bench -- [options]
  --quick              1 round, 2 s per measurement, 256 MiB bulk (smoke run, ~2 min)
  --rounds N           interleaved rounds (default 3)
  --duration S         seconds per measured wrk run (default 5)
  --warmup S           seconds of wrk warm-up before each measured run (default 2; and one
                       unrecorded 3 s run per variant before round 1, for the JIT)
  --connections N      wrk connections (default 50); --threads N wrk threads (default 1)
  --decisions N        decisions served by the fake LAPI (default 1000000)
  --lapi-decisions N   decisions imported into the real LAPI (default 100000); --no-lapi skips it
  --pin MODE           strict (default): server under test alone on CPU 0, everything else on CPU 1;
                       server: server on CPU 0, the rest unpinned; none (= --no-pin): no taskset
  --ab-pairs N         alternating enforce/off pairs of 3 s runs for the enforce cost (default 5; 0 skips)
  --no-http --no-tcp --no-profile --no-store   skip those parts
  --save               also write bench/results-YYYY-MM-DD.json (the committed copy)
  --keep               keep the temp dir (configs, logs, profile)`;

function parseOptions(argv: string[]): Options {
  const o: Options = {
    quick: false, rounds: 3, durationS: 5, warmupS: 2, latencyS: 1, initialWarmS: 3, abPairs: 5, abS: 3, connections: 50, threads: 1, pin: 'strict',
    decisions: 1_000_000, lapiDecisions: 100_000, realLapi: true, http: true, tcp: true, bulkBytes: 2 ** 30, echoConns: 8000,
    profile: true, profileS: 10, store: true, save: false, keep: false,
  };
  const num = (i: number): number => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v <= 0) throw new Error(`${argv[i]} needs a positive number\n${USAGE}`);
    return v;
  };
  const given = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    given.add(a);
    switch (a) {
      case '--quick': o.quick = true; break;
      case '--rounds': o.rounds = Math.floor(num(i++)); break;
      case '--duration': o.durationS = num(i++); break;
      case '--warmup': o.warmupS = num(i++); break;
      case '--connections': o.connections = Math.floor(num(i++)); break;
      case '--threads': o.threads = Math.floor(num(i++)); break;
      case '--decisions': o.decisions = Math.floor(num(i++)); break;
      case '--lapi-decisions': o.lapiDecisions = Math.floor(num(i++)); break;
      case '--no-lapi': o.realLapi = false; break;
      case '--ab-pairs': o.abPairs = Math.floor(Number(argv[++i])); break;
      case '--no-pin': o.pin = 'none'; break;
      case '--pin': {
        const v = argv[++i];
        if (v !== 'strict' && v !== 'server' && v !== 'none') throw new Error(`--pin strict|server|none\n${USAGE}`);
        o.pin = v;
        break;
      }
      case '--no-http': o.http = false; break;
      case '--no-tcp': o.tcp = false; break;
      case '--no-profile': o.profile = false; break;
      case '--no-store': o.store = false; break;
      case '--save': o.save = true; break;
      case '--keep': o.keep = true; break;
      case '-h': case '--help': process.stdout.write(`${USAGE}\n`); process.exit(0); break;
      default: throw new Error(`unknown option ${a}\n${USAGE}`);
    }
  }
  if (o.quick) {
    if (!given.has('--rounds')) o.rounds = 1;
    if (!given.has('--duration')) o.durationS = 2;
    if (!given.has('--warmup')) o.warmupS = 1;
    o.latencyS = 1;
    o.initialWarmS = 3;
    if (!given.has('--ab-pairs')) o.abPairs = 2;
    o.bulkBytes = 2 ** 28;
    o.echoConns = 5000;
    o.profileS = 4;
  }
  return o;
}

// ------------------------------------------------------------------------------------ logging

const t0 = Date.now();
const log = (msg: string): void => {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
};

// ------------------------------------------------------------------------------------ results

interface Disturbance {
  /** Cores' worth of CPU used by processes outside this benchmark during the measurement. */
  foreign_cpu: number;
  attempts: number;
}

interface HttpRound extends WrkResult, Disturbance {
  round: number;
  cpu: Record<string, number>;
  /** The same target with one connection (wrk -c1): per-request latency without queueing. */
  c1: { rps: number; p50_ms: number; p99_ms: number };
}

interface HttpVariantResult {
  label: string;
  description: string;
  port: number;
  rounds: HttpRound[];
  median: { rps: number; p50_ms: number; p99_ms: number; server_cpu: number; cpus: Record<string, number>; c1_rps: number; c1_p50_ms: number; c1_p99_ms: number };
}

interface TcpTargetResult {
  label: string;
  description: string;
  wrk_close: Array<WrkResult & Disturbance & { round: number; cpu: Record<string, number> }>;
  echo: Array<ConnRateResult & Disturbance & { round: number; cpu: Record<string, number> }>;
  bulk: Array<BulkResult & Disturbance & { round: number; cpu: Record<string, number> }>;
  median: { conns_per_sec_wrk: number; conns_per_sec_echo: number; echo_p99_ms: number; bulk_mib_per_sec: number; server_cpu_wrk: number; server_cpu_bulk: number };
}

interface SyncResult {
  source: string;
  decisions_expected: number;
  mix: Mix;
  decisions_total: number | undefined;
  state: string | undefined;
  initial_sync_ms: number | null | undefined;
  spawn_to_ready_ms: number;
  body_mb?: number;
  import_ms?: number;
  rss_mb_after_sync?: number;
  peak_rss_mb?: number;
  rss_mb_after_load?: number;
  /** RSS of the CrowdSec-off daemon (no decisions) at the same moments, for the store's share. */
  rss_mb_off_daemon_at_start?: number;
  rss_mb_off_daemon_after_load?: number;
  probe_blocked_status?: number;
  probe_allowed_status?: number;
}

interface Results {
  generated_at: string;
  machine: ReturnType<typeof machineInfo>;
  versions: Record<string, string>;
  settings: Record<string, unknown>;
  http?: {
    variants: Record<string, HttpVariantResult>;
    ratios: Record<string, number>;
    enforce_ab?: {
      pairs: number;
      seconds: number;
      by_daemon: Record<string, { enforce_rps: number[]; off_rps: number[]; ratios: number[]; median: number; min: number; max: number }>;
    };
  };
  tcp?: { upstreams: Record<string, string>; targets: Record<string, TcpTargetResult>; ratios: Record<string, number> };
  crowdsec_sync: Record<string, SyncResult>;
  store?: Record<string, unknown>;
  profile?: { http?: ProfileResult; tcp?: ProfileResult };
  targets: Record<string, { target: string; measured: string; met: boolean }>;
  errors: string[];
  notes: string[];
}

// ------------------------------------------------------------------------------------ helpers

// Servers not under test are SIGSTOPped; a pull in flight across a pause times out and forces a
// full resync, so the enforce daemons pull only at startup (delta pulls cost nothing measurable).
const POLL_INTERVAL = '1h';

const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '—');
const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—');

async function checkHttp(url: string, expect: number, localAddress?: string): Promise<number> {
  const r = await httpGet(url, { host: 'bench.local', localAddress, timeoutMs: 5000 });
  if (r.status !== expect) throw new Error(`GET ${url}${localAddress ? ` from ${localAddress}` : ''}: ${r.status} (expected ${expect}) ${r.body.slice(0, 200)}`);
  return r.status;
}

async function waitSynced(nb: Netbird, expected: number, timeoutMs: number): Promise<{ total: number | undefined; state: string | undefined; initial_sync_ms: number | null | undefined }> {
  const deadline = Date.now() + timeoutMs;
  let last: { total: number | undefined; state: string | undefined; initial_sync_ms: number | null | undefined } = { total: undefined, state: undefined, initial_sync_ms: undefined };
  while (Date.now() < deadline) {
    const s = await nb.status().catch(() => undefined);
    last = { total: s?.crowdsec?.decisions?.total, state: s?.crowdsec?.state, initial_sync_ms: s?.crowdsec?.initial_sync_ms };
    if (last.state === 'synced' && last.total === expected) return last;
    await sleep(250);
  }
  throw new Error(`${nb.name}: not synced with ${expected} decisions after ${timeoutMs} ms (state ${last.state}, total ${last.total})`);
}

// ------------------------------------------------------------------------------------ main

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
  const cleanup = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
    cleanups.length = 0;
  };
  process.once('SIGINT', () => {
    log('interrupted; cleaning up');
    void cleanup().then(() => process.exit(130));
  });

  if (!existsSync(join(REPO_ROOT, 'dist', 'cli.js')) || !existsSync(join(REPO_ROOT, 'dist', 'crowdsec', 'store.js'))) {
    throw new Error('dist/ is not built: run `npm run build` (npm run bench does it)');
  }
  const tools: Tools = ensureTools(log);
  const pin: Pinning = choosePinning(opts.pin, tools.taskset);
  pinSelf(pin.load, tools.taskset);
  results.versions = toolVersions(tools);
  results.settings = {
    rounds: opts.rounds, duration_s: opts.durationS, warmup_s: opts.warmupS, latency_run_s: opts.latencyS, connections: opts.connections,
    wrk: `wrk -t${opts.threads} -c${opts.connections} -d${opts.durationS}s --latency (after a ${opts.warmupS} s warm-up run)`,
    pinning: pin.server === undefined
      ? 'none (no taskset)'
      : pin.load === undefined
        ? `server under test on CPU ${pin.server} (taskset); wrk, upstreams, TCP clients, LAPIs and this runner unpinned`
        : `server under test alone on CPU ${pin.server}; wrk, upstreams, TCP clients, LAPIs and this runner on CPU ${pin.load} (taskset)`,
    decisions_fake_lapi: opts.decisions, decisions_real_lapi: opts.realLapi ? opts.lapiDecisions : 0,
    bulk_bytes: opts.bulkBytes, echo_conns_per_round: opts.echoConns, enforce_ab_pairs: opts.abPairs, enforce_ab_run_s: opts.abS, quick: opts.quick,
  };
  results.notes.push(
    'nginx (1 worker) and HAProxy (nbthread 1) get the same single core as netbird-proxy (one Node process).',
    'Every proxy writes an access log to a file: nginx access_log (unbuffered), HAProxy httplog to stdout redirected to a file, netbird-proxy --access-log (pino, async).',
    'HTTP upstream: nginx `return 200 "ok\\n"`, 1 worker, access_log off, on the load CPU; upstream keep-alive in every proxy (nginx keepalive 128, HAProxy http-reuse always, netbird-proxy keep-alive agent).',
    'wrk hits every HTTP variant with Host: bench.local from 127.0.0.1, which no decision covers: the CrowdSec lookup runs on every request and the request is forwarded.',
  );
  log(`machine: ${results.machine.cpu_model}, ${results.machine.cpus} CPUs, ${results.machine.memory_gib} GiB, ${results.machine.os}, kernel ${results.machine.kernel}`);
  log(`pinning: ${String(results.settings.pinning)}`);

  const dir = mkdtempSync(join(tmpdir(), 'nbp-bench-'));
  cleanups.push(async () => {
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
    else log(`kept ${dir}`);
  });

  try {
    await runAll(opts, tools, pin, dir, results, cleanups);
  } catch (err) {
    results.errors.push(`fatal: ${(err as Error).stack ?? (err as Error).message}`);
    log(`FATAL: ${(err as Error).stack ?? (err as Error).message}`);
  } finally {
    await cleanup();
  }

  evaluateTargets(results);
  process.stdout.write(renderTable(results));
  const out = join(REPO_ROOT, 'bench', 'results.json');
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  log(`wrote ${out}`);
  if (opts.save) {
    const dated = join(REPO_ROOT, 'bench', `results-${results.generated_at.slice(0, 10)}.json`);
    writeFileSync(dated, `${JSON.stringify(results, null, 2)}\n`);
    log(`wrote ${dated}`);
  }
  if (results.errors.length > 0) process.exitCode = 1;
}

async function runAll(opts: Options, tools: Tools, pin: Pinning, dir: string, results: Results, cleanups: Array<() => Promise<void>>): Promise<void> {
  // ---------------------------------------------------------------- upstreams and proxies
  const port = async (): Promise<number> => freePort();
  const tcpServer: TcpServer = await startTcpServer(pin.load);
  cleanups.push(() => tcpServer.stop());
  const upstreamPort = await port();
  const upstream: Server = await startNginxUpstream({ nginx: tools.nginx, dir: join(dir, 'nginx-upstream'), port: upstreamPort, cpu: pin.load });
  cleanups.push(() => upstream.stop());

  const tcpTargets = { echo: tcpServer.echo, source: tcpServer.source, http: upstreamPort };
  const nginxStream: Record<string, { listen: number; target: number }> = {};
  const netbirdTcp: Record<string, { listen: number; target: number }> = {};
  for (const [name, target] of Object.entries(tcpTargets)) {
    nginxStream[name] = { listen: await port(), target };
    netbirdTcp[`tcp-${name}`] = { listen: await port(), target };
  }
  const nginxHttpPort = await port();
  const nginx: Server = await startNginxProxy({
    nginx: tools.nginx, streamModule: tools.streamModule, dir: join(dir, 'nginx-proxy'), cpu: pin.server,
    httpUpstream: upstreamPort, ports: { http: nginxHttpPort, stream: nginxStream },
  });
  cleanups.push(() => nginx.stop());
  const haproxyPort = await port();
  const haproxy: Server = await startHaproxy({ haproxy: tools.haproxy, dir: join(dir, 'haproxy'), cpu: pin.server, port: haproxyPort, upstream: upstreamPort });
  cleanups.push(() => haproxy.stop());

  const barePort = await port();
  const bare: Server = await startBareProxy({ mode: 'http-proxy', dir: join(dir, 'bare-http-proxy'), cpu: pin.server, port: barePort, upstream: upstreamPort });
  cleanups.push(() => bare.stop());
  const bareReqPort = await port();
  const bareReq: Server = await startBareProxy({ mode: 'request', dir: join(dir, 'bare-request'), cpu: pin.server, port: bareReqPort, upstream: upstreamPort });
  cleanups.push(() => bareReq.stop());

  // HTTP-only like the enforce daemons, so enforce vs off differs in CrowdSec alone; the tcp
  // services get their own daemon (TCP traffic in the same process makes Node's shared socket and
  // stream code polymorphic and measurably slows the HTTP path).
  const nbOff: Netbird = await startNetbird({
    name: 'netbird-off', dir: join(dir, 'netbird-off'), cpu: pin.server,
    services: servicesYaml({ httpUpstream: upstreamPort, crowdsec: 'off' }),
    httpPort: await port(), adminPort: await port(),
  });
  cleanups.push(() => nbOff.stop());
  const nbTcp: Netbird = await startNetbird({
    name: 'netbird-tcp', dir: join(dir, 'netbird-tcp'), cpu: pin.server,
    services: servicesYaml({ httpUpstream: upstreamPort, crowdsec: 'off', tcp: netbirdTcp }),
    httpPort: await port(), adminPort: await port(),
  });
  cleanups.push(() => nbTcp.stop());
  log('upstream, nginx, HAProxy, reference proxies, netbird-proxy (CrowdSec off; tcp services) up');
  const offMem = memoryOf(nbOff.pid);

  // ---------------------------------------------------------------- decision sources
  const enforce: Array<{ key: string; nb: Netbird; label: string; description: string }> = [];

  if (opts.realLapi) {
    try {
      log(`real CrowdSec LAPI: starting, importing ${fmt(opts.lapiDecisions)} mixed decisions with cscli`);
      const lapi: Lapi = await startLapi({ logLevel: 'warning' });
      cleanups.push(() => lapi.close());
      const ips = join(dir, 'import-ips.csv');
      const ranges = join(dir, 'import-ranges.csv');
      const mix = await writeImportFiles(opts.lapiDecisions, ips, ranges);
      const ti = Date.now();
      await lapi.importDecisions(ips, { scope: 'Ip' });
      await lapi.importDecisions(ranges, { scope: 'Range' });
      const importMs = Date.now() - ti;
      log(`imported in ${fmt(importMs)} ms; starting netbird-proxy (enforce, real LAPI)`);
      const ts = Date.now();
      const nb = await startNetbird({
        name: 'netbird-enforce-lapi', dir: join(dir, 'netbird-enforce-lapi'), cpu: pin.server,
        services: servicesYaml({ httpUpstream: upstreamPort, crowdsec: 'enforce', offTwin: true }),
        httpPort: await port(), adminPort: await port(),
        crowdsec: { url: lapi.url, key: lapi.apiKey, pollInterval: POLL_INTERVAL }, readyTimeoutMs: 120_000,
      });
      const spawnToReady = Date.now() - ts;
      cleanups.push(() => nb.stop());
      const s = await waitSynced(nb, opts.lapiDecisions, 30_000);
      const mem = memoryOf(nb.pid);
      results.crowdsec_sync.enforce_lapi = {
        source: `CrowdSec LAPI ${'1.4.6'} (cscli decisions import)`, decisions_expected: opts.lapiDecisions, mix,
        decisions_total: s.total, state: s.state, initial_sync_ms: s.initial_sync_ms, spawn_to_ready_ms: spawnToReady,
        import_ms: importMs, rss_mb_after_sync: mem?.rss_mb, peak_rss_mb: mem?.peak_rss_mb,
      };
      enforce.push({ key: 'netbird_enforce_lapi', nb, label: `netbird-proxy enforce ${short(opts.lapiDecisions)} (real LAPI)`, description: `enforce; ${fmt(opts.lapiDecisions)} decisions from CrowdSec LAPI 1.4.6` });
      log(`enforce (real LAPI) synced: ${fmt(s.total ?? NaN)} decisions, initial sync ${s.initial_sync_ms} ms, RSS ${mem?.rss_mb} MB`);
    } catch (err) {
      results.errors.push(`real LAPI: ${(err as Error).message}`);
      log(`real LAPI part failed: ${(err as Error).message}`);
    }
  }

  {
    log(`fake LAPI: rendering a ${fmt(opts.decisions)}-decision startup response`);
    const tr = Date.now();
    const body = renderStartupBody(opts.decisions);
    log(`rendered ${fmt(body.bytes / 1e6, 1)} MB in ${fmt(Date.now() - tr)} ms (${JSON.stringify(body.mix)})`);
    const fake: FakeLapi = await startFakeLapi({});
    cleanups.push(() => fake.close());
    fake.setStartupStream(() => body.chunks);
    const ts = Date.now();
    const nb = await startNetbird({
      name: 'netbird-enforce-fake', dir: join(dir, 'netbird-enforce-fake'), cpu: pin.server,
      services: servicesYaml({ httpUpstream: upstreamPort, crowdsec: 'enforce', offTwin: true }),
      httpPort: await port(), adminPort: await port(),
      crowdsec: { url: fake.url, key: fake.apiKey, pollInterval: POLL_INTERVAL }, readyTimeoutMs: 180_000,
    });
    const spawnToReady = Date.now() - ts;
    cleanups.push(() => nb.stop());
    const s = await waitSynced(nb, opts.decisions, 30_000);
    const mem = memoryOf(nb.pid);
    results.crowdsec_sync.enforce_fake = {
      source: 'fake LAPI (test/harness/fake-lapi.ts) replaying a pre-rendered startup response', decisions_expected: opts.decisions, mix: body.mix,
      decisions_total: s.total, state: s.state, initial_sync_ms: s.initial_sync_ms, spawn_to_ready_ms: spawnToReady,
      body_mb: +(body.bytes / 1e6).toFixed(1), rss_mb_after_sync: mem?.rss_mb, peak_rss_mb: mem?.peak_rss_mb,
    };
    enforce.push({ key: 'netbird_enforce_fake', nb, label: `netbird-proxy enforce ${short(opts.decisions)} (fake LAPI)`, description: `enforce; ${fmt(opts.decisions)} decisions replayed by the fake LAPI` });
    log(`enforce (fake LAPI) synced: ${fmt(s.total ?? NaN)} decisions, initial sync ${s.initial_sync_ms} ms, spawn→ready ${spawnToReady} ms, RSS ${mem?.rss_mb} MB (peak ${mem?.peak_rss_mb} MB)`);
  }

  // ---------------------------------------------------------------- sanity checks
  const variants: Array<{ key: string; label: string; description: string; port: number; pid: number }> = [
    { key: 'upstream', label: 'upstream alone (nginx return 200)', description: 'wrk → upstream directly', port: upstreamPort, pid: upstream.pid },
    { key: 'nginx', label: 'nginx reverse proxy', description: 'nginx 1 worker, proxy_pass with upstream keepalive', port: nginxHttpPort, pid: nginx.pid },
    { key: 'haproxy', label: 'HAProxy', description: 'HAProxy nbthread 1, mode http, http-reuse always', port: haproxyPort, pid: haproxy.pid },
    { key: 'bare_node', label: 'ref: bare Node http-proxy', description: 'bench/bare-proxy.ts http-proxy: http-proxy + keep-alive agent as in netbird-proxy, nothing else', port: barePort, pid: bare.pid },
    { key: 'bare_request', label: 'ref: bare Node http.request', description: 'bench/bare-proxy.ts request: http.request() + pipe() with the same agent, nothing else', port: bareReqPort, pid: bareReq.pid },
    { key: 'netbird_tcp_pipe', label: 'ref: netbird tcp service as pipe', description: 'wrk keep-alive through a netbird-proxy tcp service to the upstream: bytes piped, no HTTP parsing (ceiling for a byte-level HTTP forwarder in Node)', port: netbirdTcp['tcp-http'].listen, pid: nbTcp.pid },
    { key: 'netbird_off', label: 'netbird-proxy CrowdSec off', description: 'access: { crowdsec: off }, no LAPI configured', port: nbOff.httpPort, pid: nbOff.pid },
    ...enforce.map((e) => ({ key: e.key, label: e.label, description: e.description, port: e.nb.httpPort, pid: e.nb.pid })),
  ];
  for (const v of variants) await checkHttp(`http://127.0.0.1:${v.port}/`, 200);
  for (const e of enforce) {
    const sync = results.crowdsec_sync[e.key.replace('netbird_', '')];
    sync.probe_blocked_status = await checkHttp(`http://127.0.0.1:${e.nb.httpPort}/`, 403, PROBE_BLOCKED_IP);
    sync.probe_allowed_status = await checkHttp(`http://127.0.0.1:${e.nb.httpPort}/`, 200, '127.0.0.1');
  }
  log(`sanity: every HTTP variant answers 200; enforce daemons refuse ${PROBE_BLOCKED_IP} (403) and forward 127.0.0.1`);

  // Every server process that is not the one under test is SIGSTOPped during its measurement.
  const serverPids = [nginx.pid, haproxy.pid, bare.pid, bareReq.pid, nbOff.pid, nbTcp.pid, ...enforce.map((e) => e.nb.pid)];
  const others = (pid: number | undefined): number[] => serverPids.filter((p) => p !== pid);

  // ---------------------------------------------------------------- HTTP rounds
  const wrkOpts = { wrk: tools.wrk, cpu: pin.load, threads: opts.threads, connections: opts.connections, headers: { Host: 'bench.local' } };
  const http: Record<string, HttpVariantResult> = {};
  for (const v of variants) http[v.key] = { label: v.label, description: v.description, port: v.port, rounds: [], median: { rps: NaN, p50_ms: NaN, p99_ms: NaN, server_cpu: NaN, cpus: {}, c1_rps: NaN, c1_p50_ms: NaN, c1_p99_ms: NaN } };
  if (opts.http) {
    // Node's JIT needs a few seconds of traffic: give every variant one unrecorded run first.
    log(`warm-up: ${opts.initialWarmS} s of wrk per HTTP variant (not recorded)`);
    for (const v of variants) {
      const paused = pauseTrees(others(v.pid));
      try {
        await runWrk({ ...wrkOpts, url: `http://127.0.0.1:${v.port}/`, durationS: opts.initialWarmS });
      } finally {
        paused.resume();
      }
    }
  }
  for (let r = 1; r <= (opts.http ? opts.rounds : 0); r++) {
    for (const v of variants) {
      const url = `http://127.0.0.1:${v.port}/`;
      try {
        const res = await measured(`http r${r} ${v.key}`, others(v.pid), () => runWrk({ ...wrkOpts, url, durationS: opts.warmupS }), async () => {
          const probe = startCpuProbe({ server: v.pid, upstream: v.key === 'upstream' ? undefined : upstream.pid });
          const cpuAll = cpuStatProbe();
          const w = await runWrk({ ...wrkOpts, url, durationS: opts.durationS });
          const cpu = { ...probe.stop(), ...cpuAll.stop() };
          const one = await runWrk({ ...wrkOpts, connections: 1, url, durationS: opts.latencyS });
          return { ...w, cpu, c1: { rps: one.rps, p50_ms: one.p50_ms, p99_ms: one.p99_ms } };
        });
        http[v.key].rounds.push({ round: r, ...res });
        if (res.non_2xx > 0 || Object.values(res.socket_errors).some((x) => x > 0)) {
          results.errors.push(`http ${v.key} round ${r}: ${res.non_2xx} non-2xx, socket errors ${JSON.stringify(res.socket_errors)}`);
        }
        log(`http r${r} ${v.key.padEnd(22)} ${fmt(res.rps).padStart(8)} req/s  p50 ${res.p50_ms.toFixed(2)} ms  p99 ${res.p99_ms.toFixed(2)} ms  (-c1: p50 ${res.c1.p50_ms.toFixed(3)} p99 ${res.c1.p99_ms.toFixed(3)})  cpu ${JSON.stringify(res.cpu)}  foreign ${res.foreign_cpu}`);
      } catch (err) {
        results.errors.push(`http ${v.key} round ${r}: ${(err as Error).message}`);
        log(`http ${v.key} round ${r} failed: ${(err as Error).message}`);
      }
    }
  }
  for (const v of Object.values(http)) {
    v.median = {
      rps: Math.round(median(v.rounds.map((x) => x.rps))),
      p50_ms: +median(v.rounds.map((x) => x.p50_ms)).toFixed(3),
      p99_ms: +median(v.rounds.map((x) => x.p99_ms)).toFixed(3),
      server_cpu: +median(v.rounds.map((x) => x.cpu.server)).toFixed(2),
      cpus: medianCpus(v.rounds.map((x) => x.cpu)),
      c1_rps: Math.round(median(v.rounds.map((x) => x.c1.rps))),
      c1_p50_ms: +median(v.rounds.map((x) => x.c1.p50_ms)).toFixed(3),
      c1_p99_ms: +median(v.rounds.map((x) => x.c1.p99_ms)).toFixed(3),
    };
  }
  const m = (k: string): HttpVariantResult['median'] | undefined => http[k]?.median;
  const ratio = (a: number | undefined, b: number | undefined, d = 3): number => (a !== undefined && b !== undefined ? +(a / b).toFixed(d) : NaN);
  if (opts.http) results.http = {
    variants: http,
    ratios: {
      netbird_off_vs_nginx_rps: ratio(m('netbird_off')?.rps, m('nginx')?.rps),
      netbird_off_vs_nginx_p99: ratio(m('netbird_off')?.p99_ms, m('nginx')?.p99_ms, 2),
      netbird_off_vs_nginx_c1_p99: ratio(m('netbird_off')?.c1_p99_ms, m('nginx')?.c1_p99_ms, 2),
      netbird_off_vs_bare_node_rps: ratio(m('netbird_off')?.rps, m('bare_node')?.rps),
      bare_request_vs_nginx_rps: ratio(m('bare_request')?.rps, m('nginx')?.rps),
      bare_request_vs_bare_http_proxy_rps: ratio(m('bare_request')?.rps, m('bare_node')?.rps),
      tcp_pipe_vs_nginx_rps: ratio(m('netbird_tcp_pipe')?.rps, m('nginx')?.rps),
      netbird_off_vs_haproxy_rps: ratio(m('netbird_off')?.rps, m('haproxy')?.rps),
      enforce_fake_vs_off_rps: ratio(m('netbird_enforce_fake')?.rps, m('netbird_off')?.rps, 4),
      enforce_lapi_vs_off_rps: ratio(m('netbird_enforce_lapi')?.rps, m('netbird_off')?.rps, 4),
      enforce_fake_vs_off_p99: ratio(m('netbird_enforce_fake')?.p99_ms, m('netbird_off')?.p99_ms, 2),
    },
  };
  // Per-round paired ratio enforce/off (same round, adjacent runs), median of those.
  const paired = (k: string): number => {
    const on = http[k]?.rounds ?? [];
    const off = http.netbird_off?.rounds ?? [];
    return +median(on.map((x) => x.rps / (off.find((o) => o.round === x.round)?.rps ?? NaN))).toFixed(4);
  };
  if (results.http) {
    results.http.ratios.enforce_fake_vs_off_rps_paired_median = paired('netbird_enforce_fake');
    results.http.ratios.enforce_lapi_vs_off_rps_paired_median = paired('netbird_enforce_lapi');
  }
  // ---------------------------------------------------------------- enforce vs off, A/B
  // Two netbird-proxy processes differ by up to ±8 % on this VM whatever their config (JIT and
  // memory layout luck that lasts for the process's life), far above the 3 % in question. So the
  // cost of the lookup is measured inside each enforce daemon: its "web" service (enforce) and its
  // "web-off" twin (CrowdSec off, same upstream), alternated in short runs; median of pair ratios.
  if (opts.http && results.http && enforce.length > 0 && opts.abPairs > 0) {
    log(`enforce vs off A/B in the same process: ${opts.abPairs} pairs of ${opts.abS} s runs per enforce daemon, order reversed every other pair`);
    const abResults: Record<string, { enforce_rps: number[]; off_rps: number[]; ratios: number[]; median: number; min: number; max: number }> = {};
    for (const e of enforce) {
      const url = `http://127.0.0.1:${e.nb.httpPort}/`;
      const hosts = [{ key: 'enforce', host: 'bench.local' }, { key: 'off', host: OFF_TWIN_HOST }];
      const got: Record<string, number[]> = { enforce: [], off: [] };
      for (let i = 0; i < opts.abPairs; i++) {
        for (const h of i % 2 === 0 ? hosts : [...hosts].reverse()) {
          const o = { ...wrkOpts, headers: { Host: h.host } };
          try {
            const res = await measured(`A/B ${e.key} ${i + 1} ${h.key}`, others(e.nb.pid), () => runWrk({ ...o, url, durationS: 1 }), () => runWrk({ ...o, url, durationS: opts.abS }));
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
      abResults[e.key] = {
        enforce_rps: got.enforce.map(Math.round), off_rps: got.off.map(Math.round), ratios,
        median: +median(ok).toFixed(4), min: Math.min(...ok), max: Math.max(...ok),
      };
      log(`A/B ${e.key}: enforce/off median ${abResults[e.key].median} (range ${abResults[e.key].min}–${abResults[e.key].max})`);
    }
    results.http.enforce_ab = { pairs: opts.abPairs, seconds: opts.abS, by_daemon: abResults };
  }

  for (const e of enforce) {
    const sync = results.crowdsec_sync[e.key.replace('netbird_', '')];
    sync.rss_mb_after_load = memoryOf(e.nb.pid)?.rss_mb;
    sync.rss_mb_off_daemon_at_start = offMem?.rss_mb;
    sync.rss_mb_off_daemon_after_load = memoryOf(nbOff.pid)?.rss_mb;
  }

  // ---------------------------------------------------------------- TCP rounds
  if (opts.tcp) {
    const targets = [
      { key: 'direct', label: 'direct (no proxy)', description: 'clients → upstream', pid: undefined as number | undefined, ports: { echo: tcpServer.echo, source: tcpServer.source, http: upstreamPort } },
      { key: 'nginx_stream', label: 'nginx stream', description: 'nginx 1 worker, stream proxy_pass, session access_log', pid: nginx.pid, ports: { echo: nginxStream.echo.listen, source: nginxStream.source.listen, http: nginxStream.http.listen } },
      { key: 'netbird_tcp', label: 'netbird-proxy tcp', description: 'tcp services (no access rules), access log to a file', pid: nbTcp.pid, ports: { echo: netbirdTcp['tcp-echo'].listen, source: netbirdTcp['tcp-source'].listen, http: netbirdTcp['tcp-http'].listen } },
    ];
    const tcp: Record<string, TcpTargetResult> = {};
    for (const t of targets) {
      tcp[t.key] = { label: t.label, description: t.description, wrk_close: [], echo: [], bulk: [], median: { conns_per_sec_wrk: NaN, conns_per_sec_echo: NaN, echo_p99_ms: NaN, bulk_mib_per_sec: NaN, server_cpu_wrk: NaN, server_cpu_bulk: NaN } };
    }
    const maxEchoMs = Math.max(3000, opts.durationS * 2000);
    log(`warm-up: ${opts.initialWarmS} s of wrk (Connection: close) per TCP target (not recorded)`);
    for (const t of targets) {
      const paused = pauseTrees(others(t.pid));
      try {
        await runWrk({ ...wrkOpts, headers: { Host: 'bench.local', Connection: 'close' }, url: `http://127.0.0.1:${t.ports.http}/`, durationS: opts.initialWarmS });
      } finally {
        paused.resume();
      }
    }
    for (let r = 1; r <= opts.rounds; r++) {
      for (const t of targets) {
        const trees = { server: t.pid, upstream: upstream.pid, tcp_upstream: tcpServer.pid };
        const paused = others(t.pid);
        try {
          const url = `http://127.0.0.1:${t.ports.http}/`;
          const close = { ...wrkOpts, headers: { Host: 'bench.local', Connection: 'close' } };
          const w = await measured(`tcp r${r} ${t.key} wrk`, paused, () => runWrk({ ...close, url, durationS: Math.min(1, opts.warmupS) }), async () => {
            const probe = startCpuProbe(trees);
            const all = cpuStatProbe();
            const x = await runWrk({ ...close, url, durationS: opts.durationS });
            return { ...x, cpu: { ...probe.stop(), ...all.stop() } };
          });
          tcp[t.key].wrk_close.push({ round: r, ...w });
          if (w.non_2xx > 0 || w.socket_errors.connect + w.socket_errors.timeout > 0) results.errors.push(`tcp ${t.key} wrk round ${r}: non-2xx ${w.non_2xx}, socket errors ${JSON.stringify(w.socket_errors)}`);

          const echoArgs = ['connrate', '--port', String(t.ports.echo), '--concurrency', '50', '--max-ms', String(maxEchoMs)];
          const e = await measured(`tcp r${r} ${t.key} echo`, paused,
            () => runTcpClient<ConnRateResult>(pin.load, [...echoArgs, '--count', String(Math.round(opts.echoConns / 10))], maxEchoMs),
            async () => {
              const probe = startCpuProbe(trees);
              const all = cpuStatProbe();
              const x = await runTcpClient<ConnRateResult>(pin.load, [...echoArgs, '--count', String(opts.echoConns)], maxEchoMs);
              return { ...x, cpu: { ...probe.stop(), ...all.stop() } };
            });
          tcp[t.key].echo.push({ round: r, ...e });
          if (e.errors > 0) results.errors.push(`tcp ${t.key} echo round ${r}: ${e.errors} failed connections`);

          const bulkArgs = ['bulk', '--port', String(t.ports.source), '--max-ms', '120000'];
          const b = await measured(`tcp r${r} ${t.key} bulk`, paused,
            () => runTcpClient<BulkResult>(pin.load, [...bulkArgs, '--bytes', String(2 ** 26)], 120_000),
            async () => {
              const probe = startCpuProbe(trees);
              const all = cpuStatProbe();
              const x = await runTcpClient<BulkResult>(pin.load, [...bulkArgs, '--bytes', String(opts.bulkBytes)], 120_000);
              return { ...x, cpu: { ...probe.stop(), ...all.stop() } };
            });
          tcp[t.key].bulk.push({ round: r, ...b });
          log(`tcp  r${r} ${t.key.padEnd(13)} conns/s wrk ${fmt(w.rps).padStart(7)}  echo ${fmt(e.per_sec).padStart(7)} (p99 ${e.p99_ms} ms)  bulk ${fmt(b.mib_per_sec)} MiB/s  server cpu ${w.cpu.server ?? '-'}/${e.cpu.server ?? '-'}/${b.cpu.server ?? '-'}  foreign ${w.foreign_cpu}/${e.foreign_cpu}/${b.foreign_cpu}`);
        } catch (err) {
          results.errors.push(`tcp ${t.key} round ${r}: ${(err as Error).message}`);
          log(`tcp ${t.key} round ${r} failed: ${(err as Error).message}`);
        }
      }
    }
    for (const t of Object.values(tcp)) {
      t.median = {
        conns_per_sec_wrk: Math.round(median(t.wrk_close.map((x) => x.rps))),
        conns_per_sec_echo: Math.round(median(t.echo.map((x) => x.per_sec))),
        echo_p99_ms: +median(t.echo.map((x) => x.p99_ms)).toFixed(3),
        bulk_mib_per_sec: Math.round(median(t.bulk.map((x) => x.mib_per_sec))),
        server_cpu_wrk: +median(t.wrk_close.map((x) => x.cpu.server ?? NaN)).toFixed(2),
        server_cpu_bulk: +median(t.bulk.map((x) => x.cpu.server ?? NaN)).toFixed(2),
      };
    }
    results.tcp = {
      upstreams: {
        wrk_close: 'wrk -H "Connection: close" through the TCP proxy to the nginx `return 200` upstream: one new TCP connection per request',
        echo: 'Node client (own process, load CPU): 50 concurrent short connections, 16 bytes out, echo back, server closes; Node echo server',
        bulk: `one connection downloads ${fmt(opts.bulkBytes / 2 ** 20)} MiB from a Node source (1 MiB writes) into a Node client reading into a reused 1 MiB buffer (net onread)`,
      },
      targets: tcp,
      ratios: {
        netbird_vs_nginx_conns_wrk: ratio(tcp.netbird_tcp.median.conns_per_sec_wrk, tcp.nginx_stream.median.conns_per_sec_wrk),
        netbird_vs_nginx_conns_echo: ratio(tcp.netbird_tcp.median.conns_per_sec_echo, tcp.nginx_stream.median.conns_per_sec_echo),
        netbird_vs_nginx_bulk: ratio(tcp.netbird_tcp.median.bulk_mib_per_sec, tcp.nginx_stream.median.bulk_mib_per_sec),
      },
    };
  }

  // ---------------------------------------------------------------- profile
  if (opts.profile) {
    try {
      await waitQuiet('profile');
      const paused = pauseTrees(serverPids);
      try {
        results.profile = { http: await profileRun('http', opts, wrkOpts, pin, dir, upstreamPort) };
        if (opts.tcp) results.profile.tcp = await profileRun('tcp', opts, wrkOpts, pin, dir, upstreamPort);
      } finally {
        paused.resume();
      }
    } catch (err) {
      results.errors.push(`profile: ${(err as Error).message}`);
      log(`profile failed: ${(err as Error).message}`);
    }
  }

  // ---------------------------------------------------------------- store micro-benchmark
  if (opts.store) {
    try {
      await waitQuiet('store bench');
      const paused = pauseTrees(serverPids);
      try {
        results.store = runStoreBench(pin);
      } finally {
        paused.resume();
      }
    } catch (err) {
      results.errors.push(`store bench: ${(err as Error).message}`);
      log(`store bench failed: ${(err as Error).message}`);
    }
  }
}

/** Per-CPU busy medians (keys cpu0, cpu1, ...) over rounds. */
function medianCpus(rounds: Array<Record<string, number>>): Record<string, number> {
  const keys = [...new Set(rounds.flatMap((r) => Object.keys(r)).filter((k) => /^cpu\d+$/.test(k)))].sort();
  return Object.fromEntries(keys.map((k) => [k, +median(rounds.map((r) => r[k] ?? NaN)).toFixed(2)]));
}

const cpusText = (c: Record<string, number>): string => Object.values(c).map((x) => Math.round(x * 100)).join('/') || '—';

function short(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}

// Shared-machine hygiene: wait for other people's CPU load to calm down before a measurement,
// and repeat a measurement that was disturbed anyway (bounded: 3 attempts, 120 s of waiting in all).
const FOREIGN_LIMIT = 0.1;
let quietBudgetMs = 120_000;

async function waitQuiet(what: string): Promise<number> {
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

/** warm() then run() with the other servers paused; repeated (up to 3 times) when processes
 * outside the benchmark used more than 0.1 core meanwhile; keeps the least disturbed attempt. */
async function measured<T>(what: string, pause: number[], warm: () => Promise<unknown>, run: () => Promise<T>): Promise<T & Disturbance> {
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

/** Busy fraction of each CPU (from /proc/stat) between start and stop, keys cpu0, cpu1... */
function cpuStatProbe(): { stop(): Record<string, number> } {
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

type ProfileResult = ProfileSummary & { what: string; rate_during_profile: number };

/** netbird-proxy (CrowdSec off) under node --cpu-prof while wrk loads it: HTTP keep-alive requests,
 * or (tcp) new TCP connections through a tcp service (wrk with Connection: close). */
async function profileRun(
  kind: 'http' | 'tcp',
  opts: Options,
  wrkOpts: { wrk: string; cpu: string | undefined; threads: number; connections: number; headers: Record<string, string> },
  pin: Pinning,
  dir: string,
  upstreamPort: number,
): Promise<ProfileResult> {
  const profDir = join(dir, `cpuprofile-${kind}`);
  mkdirSync(profDir, { recursive: true });
  const tcpPort = await freePort();
  const what = kind === 'http'
    ? `HTTP: wrk -c${opts.connections} keep-alive GET / through an http service (CrowdSec off)`
    : `TCP: wrk -c${opts.connections} with Connection: close through a tcp service (a new TCP connection per request)`;
  log(`profile ${kind}: netbird-proxy under node --cpu-prof, ${opts.profileS} s of wrk`);
  const nb = await startNetbird({
    name: `netbird-profile-${kind}`, dir: join(dir, `netbird-profile-${kind}`), cpu: pin.server,
    services: servicesYaml({ httpUpstream: upstreamPort, crowdsec: 'off', tcp: { 'tcp-http': { listen: tcpPort, target: upstreamPort } } }),
    httpPort: await freePort(), adminPort: await freePort(),
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  let rate = NaN;
  try {
    const url = kind === 'http' ? `http://127.0.0.1:${nb.httpPort}/` : `http://127.0.0.1:${tcpPort}/`;
    const o = kind === 'http' ? wrkOpts : { ...wrkOpts, headers: { ...wrkOpts.headers, Connection: 'close' } };
    await runWrk({ ...o, url, durationS: opts.warmupS });
    rate = (await runWrk({ ...o, url, durationS: opts.profileS })).rps;
  } finally {
    await stopChild(nb.child, 15_000);
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${profDir} (did the daemon exit cleanly on SIGTERM?)`);
  const summary = summariseCpuProfile(join(profDir, file), 30);
  if (opts.keep) log(`profile kept at ${join(profDir, file)}`);
  return { ...summary, what, rate_during_profile: Math.round(rate) };
}

function runStoreBench(pin: Pinning): Record<string, unknown> {
  log('store: node --expose-gc bench/store.bench.js --json (1M decisions, in process)');
  const script = join(REPO_ROOT, 'bench', 'store.bench.js');
  const args = ['--expose-gc', script, '--json'];
  const cmd = pin.server !== undefined && existsSync('/usr/bin/taskset') ? '/usr/bin/taskset' : process.execPath;
  const full = cmd === process.execPath ? args : ['-c', pin.server as string, process.execPath, ...args];
  const out = execFileSync(cmd, full, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000, maxBuffer: 16 << 20 }).toString();
  return JSON.parse(out) as Record<string, unknown>;
}

// ------------------------------------------------------------------------------------ targets and table

function evaluateTargets(r: Results): void {
  const t = r.targets;
  const hr = r.http?.ratios;
  if (hr) {
    const ab = r.http?.enforce_ab?.by_daemon.netbird_enforce_fake;
    const cost = 1 - (ab?.median ?? hr.enforce_fake_vs_off_rps_paired_median ?? NaN);
    t.enforce_1m_cost = {
      target: '≤ 3 % req/s vs CrowdSec off',
      measured: `${cost >= 0 ? `${(cost * 100).toFixed(1)} % slower` : `${(-cost * 100).toFixed(1)} % faster (i.e. no measurable cost)`} (${ab ? `same-process A/B, median of ${ab.ratios.length} pair ratios ${ab.median}, range ${ab.min}–${ab.max}; ` : ''}separate daemons: ratio of medians ${hr.enforce_fake_vs_off_rps})`,
      met: cost <= 0.03,
    };
    t.http_vs_nginx = { target: '≥ 0.35× nginx req/s (stretch 0.5×)', measured: `${hr.netbird_off_vs_nginx_rps}×`, met: hr.netbird_off_vs_nginx_rps >= 0.35 };
    t.http_p99_vs_nginx = { target: 'p99 ≤ 3× nginx p99', measured: `${hr.netbird_off_vs_nginx_p99}×`, met: hr.netbird_off_vs_nginx_p99 <= 3 };
  }
  const tr = r.tcp?.ratios;
  if (tr) {
    t.tcp_conns_vs_nginx = { target: '≥ 0.6× nginx stream', measured: `${tr.netbird_vs_nginx_conns_wrk}× (wrk close), ${tr.netbird_vs_nginx_conns_echo}× (echo client)`, met: Math.min(tr.netbird_vs_nginx_conns_wrk, tr.netbird_vs_nginx_conns_echo) >= 0.6 };
    t.tcp_bulk_vs_nginx = { target: '≥ 0.6× nginx stream', measured: `${tr.netbird_vs_nginx_bulk}×`, met: tr.netbird_vs_nginx_bulk >= 0.6 };
  }
  const s = r.store as { apply_ms?: number; rss_mb_after_apply?: number; lookups_per_sec?: Record<string, number> } | undefined;
  if (s?.apply_ms !== undefined) {
    t.store_apply = { target: '1M applied ≤ 5 s', measured: `${fmt(s.apply_ms)} ms`, met: s.apply_ms <= 5000 };
    t.store_rss = { target: 'RSS ≤ 300 MB after apply', measured: `${s.rss_mb_after_apply} MB (store bench)`, met: (s.rss_mb_after_apply ?? Infinity) <= 300 };
    const min = Math.min(...Object.values(s.lookups_per_sec ?? {}));
    t.store_lookups = { target: '≥ 2M lookups/s', measured: `min ${(min / 1e6).toFixed(2)}M/s`, met: min >= 2e6 };
  }
  const f = r.crowdsec_sync.enforce_fake;
  if (f) {
    const settled = f.rss_mb_after_load ?? f.rss_mb_after_sync ?? Infinity;
    t.daemon_sync_1m = {
      target: '1M applied ≤ 5 s, RSS ≤ 300 MB after (daemon, end to end)',
      measured: `initial sync ${fmt(f.initial_sync_ms ?? NaN)} ms; RSS ${f.rss_mb_after_sync} MB at sync, ${f.rss_mb_after_load} MB after the HTTP rounds, peak ${f.peak_rss_mb} MB`,
      met: (f.initial_sync_ms ?? Infinity) <= 5000 && settled <= 300,
    };
  }
}

function renderTable(r: Results): string {
  const L: string[] = [];
  const row = (cols: string[], widths: number[]): string => cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const m = r.machine;
  L.push('', `netbird-proxy benchmark — ${r.generated_at}`);
  L.push(`machine: ${m.cpu_model}, ${m.cpus} vCPU (${m.virtualization}), ${m.memory_gib} GiB, ${m.os}, kernel ${m.kernel}`);
  L.push(`versions: ${Object.entries(r.versions).map(([k, v]) => `${k} ${v}`).join(', ')}`);
  L.push(`settings: ${String(r.settings.wrk)}, ${String(r.settings.rounds)} interleaved rounds, medians; ${String(r.settings.pinning)}`);
  if (r.http) {
    const w = [38, 7, 6, 6, 7, 7, 7, 6, 24];
    L.push('', `HTTP GET / (3-byte body), wrk -c${String(r.settings.connections)}; last columns: wrk -c1 (latency without queueing)`);
    L.push(row(['variant', 'req/s', 'p50ms', 'p99ms', 'srvCPU', 'CPU0/1', 'c1 p50', 'c1 p99', 'req/s per round'], w));
    for (const v of Object.values(r.http.variants)) {
      const md = v.median;
      L.push(row([v.label, fmt(md.rps), md.p50_ms.toFixed(2), md.p99_ms.toFixed(2), pct(md.server_cpu), cpusText(md.cpus), md.c1_p50_ms.toFixed(3), md.c1_p99_ms.toFixed(3), v.rounds.map((x) => `${fmt(x.rps)}${x.foreign_cpu > FOREIGN_LIMIT ? '*' : ''}`).join(' ')], w));
    }
    const h = r.http.ratios;
    L.push(`  netbird-proxy (off) / nginx: req/s ${h.netbird_off_vs_nginx_rps}×, p99 ${h.netbird_off_vs_nginx_p99}× (at -c1: ${h.netbird_off_vs_nginx_c1_p99}×); / HAProxy: req/s ${h.netbird_off_vs_haproxy_rps}×; / bare Node http-proxy: req/s ${h.netbird_off_vs_bare_node_rps}×`);
    L.push(`  references / nginx: bare http.request forwarder ${h.bare_request_vs_nginx_rps}× (${h.bare_request_vs_bare_http_proxy_rps}× bare http-proxy); netbird tcp service as a byte pipe ${h.tcp_pipe_vs_nginx_rps}×`);
    L.push(`  enforce ${short(Number(r.settings.decisions_fake_lapi))} / off: req/s ${h.enforce_fake_vs_off_rps} (medians), ${h.enforce_fake_vs_off_rps_paired_median} (paired per round); p99 ${h.enforce_fake_vs_off_p99}×`);
    if (Number.isFinite(h.enforce_lapi_vs_off_rps)) L.push(`  enforce ${short(Number(r.settings.decisions_real_lapi))} (real LAPI) / off: req/s ${h.enforce_lapi_vs_off_rps} (medians), ${h.enforce_lapi_vs_off_rps_paired_median} (paired)`);
    const ab = r.http.enforce_ab;
    if (ab) {
      L.push(`  enforce vs off in the same process (A/B, ${ab.pairs} alternating pairs of ${ab.seconds} s runs, "web" vs its CrowdSec-off twin):`);
      for (const [k, v] of Object.entries(ab.by_daemon)) {
        L.push(`    ${k.replace('netbird_', '')}: enforce/off median ${v.median} (range ${v.min}–${v.max}); enforce ${v.enforce_rps.map((x) => fmt(x)).join(' ')} | off ${v.off_rps.map((x) => fmt(x)).join(' ')}`);
      }
    }
  }
  if (r.tcp) {
    const w = [18, 13, 14, 11, 10, 8, 8, 30];
    L.push('', 'TCP: conns/s = wrk -H "Connection: close" through the proxy (one TCP connection per request) and a Node echo client; bulk = 1 connection download');
    L.push(row(['target', 'conns/s (wrk)', 'conns/s (echo)', 'echo p99ms', 'bulk MiB/s', 'srvCPU c', 'srvCPU b', 'per round: wrk / echo / bulk'], w));
    for (const t of Object.values(r.tcp.targets)) {
      const star = (x: Disturbance): string => (x.foreign_cpu > FOREIGN_LIMIT ? '*' : '');
      const per = t.wrk_close.map((x, i) => `${fmt(x.rps)}${star(x)}/${fmt(t.echo[i]?.per_sec ?? NaN)}/${fmt(t.bulk[i]?.mib_per_sec ?? NaN)}`).join(' ');
      L.push(row([t.label, fmt(t.median.conns_per_sec_wrk), fmt(t.median.conns_per_sec_echo), t.median.echo_p99_ms.toFixed(2), fmt(t.median.bulk_mib_per_sec), pct(t.median.server_cpu_wrk), pct(t.median.server_cpu_bulk), per], w));
    }
    const tr = r.tcp.ratios;
    L.push(`  netbird-proxy / nginx stream: conns/s ${tr.netbird_vs_nginx_conns_wrk}× (wrk), ${tr.netbird_vs_nginx_conns_echo}× (echo); bulk ${tr.netbird_vs_nginx_bulk}×`);
  }
  const syncs = Object.entries(r.crowdsec_sync);
  if (syncs.length > 0) {
    L.push('', 'CrowdSec initial sync in the daemon');
    for (const [k, s] of syncs) {
      L.push(`  ${k}: ${fmt(s.decisions_total ?? NaN)}/${fmt(s.decisions_expected)} decisions (${s.mix.ipv4} IPv4, ${s.mix.ipv6} IPv6, ${s.mix.range4} IPv4 ranges, ${s.mix.range6} IPv6 ranges) from ${s.source}`);
      L.push(`    initial sync ${fmt(s.initial_sync_ms ?? NaN)} ms, spawn→ready ${fmt(s.spawn_to_ready_ms)} ms${s.import_ms !== undefined ? `, cscli import ${fmt(s.import_ms)} ms` : ''}${s.body_mb !== undefined ? `, body ${s.body_mb} MB` : ''}; RSS after sync ${s.rss_mb_after_sync} MB (peak ${s.peak_rss_mb} MB), after load ${s.rss_mb_after_load} MB (CrowdSec-off daemon: ${s.rss_mb_off_daemon_at_start} → ${s.rss_mb_off_daemon_after_load} MB); probe ${PROBE_BLOCKED_IP} → ${s.probe_blocked_status}`);
    }
  }
  const s = r.store as
    | { decisions?: number; apply_ms?: number; rss_mb_peak_during_apply?: number; rss_mb_after_apply?: number; bytes_per_decision?: number; lookups_per_sec?: Record<string, number>; lookup_ns?: Record<string, number> }
    | undefined;
  if (s?.lookups_per_sec) {
    L.push('', `Decision store (bench/store.bench.js, in process, ${fmt(s.decisions ?? NaN)} decisions)`);
    L.push(`  apply ${fmt(s.apply_ms ?? NaN)} ms; RSS peak during apply ${s.rss_mb_peak_during_apply} MB, after apply ${s.rss_mb_after_apply} MB; ${s.bytes_per_decision} bytes/decision`);
    L.push(`  lookups/s: ${Object.entries(s.lookups_per_sec).map(([k, v]) => `${k} ${(v / 1e6).toFixed(2)}M`).join(', ')}`);
  }
  for (const p of [r.profile?.http, r.profile?.tcp]) {
    if (!p) continue;
    L.push('', `Profile (node --cpu-prof) — ${p.what}: ${fmt(p.rate_during_profile)}/s while profiling, ${fmt(p.busy_ms)} ms busy, ${p.idle_pct}% idle`);
    L.push(`  by area: ${p.by_area.slice(0, 10).map((a) => `${a.area} ${a.self_pct}%`).join(', ')}`);
    L.push('  top self time:');
    for (const x of p.top_self.slice(0, 15)) L.push(`    ${`${x.self_pct}%`.padStart(6)}  ${x.fn}  ${x.where}`);
  }
  L.push('', '* = a round measured while more than 0.1 core was busy outside the benchmark (after 3 attempts).');
  if (Object.keys(r.targets).length > 0) {
    L.push('', 'Targets (measured, not asserted)');
    for (const [k, t] of Object.entries(r.targets)) L.push(`  ${t.met ? 'MET   ' : 'MISSED'} ${k}: ${t.target} — ${t.measured}`);
  }
  if (r.errors.length > 0) {
    L.push('', 'Errors');
    for (const e of r.errors) L.push(`  ${e.split('\n')[0]}`);
  }
  L.push('');
  return `${L.join('\n')}\n`;
}

main().catch((err: Error) => {
  process.stderr.write(`bench: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
