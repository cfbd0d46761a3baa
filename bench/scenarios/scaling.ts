// Scenario "scaling" (issue 13): nginx `worker_processes 1` vs `2` and netbird-proxy `--workers 1`
// vs `2` (CrowdSec off), all unpinned on the same cores with wrk on the same machine; each one's
// scaling factor (2-worker / 1-worker req/s), netbird's factor / nginx's, the ratio to nginx at 2
// workers; and the memory row: 1M decisions (fake LAPI) with --workers 2, ready time, peak and
// steady RSS summed over the process group. Also runs alone:
//   npm run build && npm run build:scripts && node .build/bench/scenarios/scaling.js [--duration 5] [--rounds 2]
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { httpGet, sleep, until } from '../../test/harness/clients';
import { startFakeLapi } from '../../test/harness/fake-lapi';
import { freePort } from '../../test/harness/ports';
import { renderStartupBody } from '../lib/decisions';
import { servicesYaml, startNetbird, type Netbird } from '../lib/netbird';
import { which } from '../lib/install';
import { memoryOf, pinSelf, stopChild, trackChild } from '../lib/tools';
import { median } from '../lib/stats';
import { runWrk } from '../lib/wrk';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log } from '../runner/log';
import type { Results, Target } from '../runner/results';

export interface ScalingResults {
  rps: Record<'nginx_1' | 'nginx_2' | 'netbird_1' | 'netbird_2', number[]>;
  nginx_factor: number;
  netbird_factor: number;
  /** netbird_factor / nginx_factor (target ≥ 0.9). */
  factor_ratio: number;
  ratio_to_nginx_at_2: number;
  scheduling: string;
  memory?: {
    decisions: number;
    workers: number;
    ready_ms: number;
    rss_mb_synced: number;
    rss_mb_steady: number;
    peak_rss_mb: number;
    per_process: Array<{ pid: number; rss_mb: number; peak_rss_mb: number }>;
  };
}

interface Runner {
  wrk: string;
  nginx: string;
  upstreamPort: number;
  durationS: number;
  rounds: number;
  connections: number;
  dir: string;
}

type Stoppable = { pid: number; stop(): Promise<void> };

async function startNginx(r: Runner, workers: number): Promise<Stoppable & { port: number }> {
  const dir = join(r.dir, `nginx-${workers}`);
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const conf = join(dir, 'nginx.conf');
  writeFileSync(
    conf,
    `worker_processes ${workers};
worker_rlimit_nofile 65536;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 16384; multi_accept on; }
http {
  access_log ${dir}/access.log;
  keepalive_requests 10000000;
  upstream backend { server 127.0.0.1:${r.upstreamPort}; keepalive 128; keepalive_requests 10000000; }
  server {
    listen 127.0.0.1:${port} backlog=4096;
    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for; }
  }
}
`,
  );
  const child = spawn(r.nginx, ['-c', conf, '-p', dir, '-g', 'daemon off;'], { stdio: 'ignore' });
  trackChild(child);
  await until(
    `nginx (${workers} workers) on ${port}`,
    async () => (await httpGet(`http://127.0.0.1:${port}/`).catch(() => ({ status: 0 }))).status === 200,
    15_000,
    100,
  );
  return { pid: child.pid as number, port, stop: () => stopChild(child, 3000) };
}

async function startNetbirdWorkers(
  r: Runner,
  workers: number,
  extra: { crowdsec?: { url: string; key: string }; readyTimeoutMs?: number } = {},
): Promise<Netbird> {
  return startNetbird({
    name: `netbird-workers-${workers}`,
    dir: join(r.dir, `netbird-${workers}-${Date.now()}`),
    cpu: undefined,
    services: servicesYaml({ httpUpstream: r.upstreamPort, crowdsec: extra.crowdsec === undefined ? 'off' : 'enforce' }),
    httpPort: await freePort(),
    adminPort: await freePort(),
    crowdsec: extra.crowdsec === undefined ? undefined : { ...extra.crowdsec, pollInterval: '1h' },
    args: ['--workers', String(workers)],
    readyTimeoutMs: extra.readyTimeoutMs ?? 60_000,
  });
}

/** Warm-up per worker process: each one's JIT warms only on its share of the requests. */
const WARMUP_S_PER_WORKER = 3;

async function rps(r: Runner, port: number, workers: number): Promise<number> {
  const opts = { wrk: r.wrk, url: `http://127.0.0.1:${port}/`, cpu: undefined, threads: 2, connections: r.connections, headers: { Host: 'bench.local' } };
  await runWrk({ ...opts, durationS: WARMUP_S_PER_WORKER * workers });
  return (await runWrk({ ...opts, durationS: r.durationS })).rps;
}

/**
 * The HTTP upstream of this scenario (nginx `return 200`, one worker), unpinned like everything else
 * here: the fleet's upstream is pinned to one core, where the scheduler could not move it away from a
 * worker, which skews the two-worker rows.
 */
async function startUpstream(nginx: string, dir: string): Promise<Stoppable & { port: number }> {
  const port = await freePort();
  const updir = join(dir, 'upstream');
  mkdirSync(updir, { recursive: true });
  writeFileSync(
    join(updir, 'nginx.conf'),
    `worker_processes 1;
pid ${updir}/nginx.pid;
error_log ${updir}/error.log warn;
events { worker_connections 16384; }
http { access_log off; keepalive_requests 10000000; server { listen 127.0.0.1:${port} backlog=4096; location / { return 200 "ok\\n"; } } }
`,
  );
  const child = spawn(nginx, ['-c', join(updir, 'nginx.conf'), '-p', updir, '-g', 'daemon off;'], { stdio: 'ignore' });
  trackChild(child);
  await until('upstream', async () => (await httpGet(`http://127.0.0.1:${port}/`).catch(() => ({ status: 0 }))).status === 200, 10_000, 100);
  return { pid: child.pid as number, port, stop: () => stopChild(child, 3000) };
}

/** Every variant measured once per round, interleaved, each alone (the others stopped), unpinned. */
export async function measureScaling(r: Runner): Promise<ScalingResults> {
  const out: ScalingResults['rps'] = { nginx_1: [], nginx_2: [], netbird_1: [], netbird_2: [] };
  for (let round = 1; round <= r.rounds; round++) {
    for (const [key, start] of [
      ['nginx_1', () => startNginx(r, 1)],
      ['nginx_2', () => startNginx(r, 2)],
      ['netbird_1', () => startNetbirdWorkers(r, 1).then((nb) => ({ ...nb, port: nb.httpPort }))],
      ['netbird_2', () => startNetbirdWorkers(r, 2).then((nb) => ({ ...nb, port: nb.httpPort }))],
    ] as Array<[keyof ScalingResults['rps'], () => Promise<Stoppable & { port: number }>]>) {
      const server = await start();
      try {
        const v = await rps(r, server.port, key.endsWith('_2') ? 2 : 1);
        out[key].push(v);
        log(`scaling round ${round}: ${key} ${fmt(v)} req/s`);
      } finally {
        await server.stop();
      }
    }
  }
  const m = (k: keyof ScalingResults['rps']): number => median(out[k]);
  const nginxFactor = m('nginx_2') / m('nginx_1');
  const netbirdFactor = m('netbird_2') / m('netbird_1');
  return {
    rps: out,
    nginx_factor: +nginxFactor.toFixed(3),
    netbird_factor: +netbirdFactor.toFixed(3),
    factor_ratio: +(netbirdFactor / nginxFactor).toFixed(3),
    ratio_to_nginx_at_2: +(m('netbird_2') / m('nginx_2')).toFixed(3),
    scheduling: process.env.NODE_CLUSTER_SCHED_POLICY ?? 'none (the default of --workers > 1)',
  };
}

interface GroupStatus {
  workers?: Array<{ pid?: number; synced?: boolean; decisions?: number }>;
  crowdsec?: { state?: string; decisions?: { total?: number } };
}

/** 1M decisions from the fake LAPI into --workers 2: spawn → every worker synced, RSS of the whole group. */
export async function measureMemory(r: Runner, decisions: number, workers = 2): Promise<NonNullable<ScalingResults['memory']>> {
  const body = renderStartupBody(decisions);
  const fake = await startFakeLapi({});
  fake.setStartupStream(() => body.chunks);
  const t0 = Date.now();
  const nb = await startNetbirdWorkers(r, workers, { crowdsec: { url: fake.url, key: fake.apiKey }, readyTimeoutMs: 300_000 });
  try {
    let pids: number[] = [];
    await until(
      `${workers} workers synced with ${decisions} decisions`,
      async () => {
        const s = JSON.parse((await httpGet(`http://127.0.0.1:${nb.adminPort}/status`)).body) as GroupStatus;
        // --workers 1 has no workers list: its own store is the one to count.
        if (s.workers === undefined) return s.crowdsec?.state === 'synced' && (s.crowdsec.decisions?.total ?? 0) >= decisions * 0.99;
        pids = s.workers.map((w) => w.pid ?? 0);
        return s.workers.every((w) => w.synced === true && (w.decisions ?? 0) >= decisions * 0.99);
      },
      300_000,
      250,
    );
    const readyMs = Date.now() - t0;
    const group = [nb.pid, ...pids];
    const sum = (f: (m: { rss_mb: number; peak_rss_mb: number }) => number): number =>
      +group.reduce((a, pid) => a + f(memoryOf(pid) ?? { rss_mb: NaN, peak_rss_mb: NaN }), 0).toFixed(1);
    const synced = sum((m) => m.rss_mb);
    await sleep(10_000); // steady: after the GC has settled, no traffic
    return {
      decisions,
      workers,
      ready_ms: readyMs,
      rss_mb_synced: synced,
      rss_mb_steady: sum((m) => m.rss_mb),
      peak_rss_mb: sum((m) => m.peak_rss_mb),
      per_process: group.map((pid) => ({ pid, ...(memoryOf(pid) ?? { rss_mb: NaN, peak_rss_mb: NaN }) })),
    };
  } finally {
    await nb.stop();
    await fake.close();
  }
}

type WithScaling = Results & { scaling?: ScalingResults };

export async function run(ctx: BenchContext): Promise<void> {
  const { opts, tools, fleet, results, pin } = ctx;
  if (!opts.scaling) return;
  const dir = join(ctx.dir, 'scaling');
  // Every other server under test is paused, the fleet's pinned upstream too: the two cores belong to the variant being measured.
  const others = fleet.serverPids();
  for (const pid of others) process.kill(pid, 'SIGSTOP');
  // The runner is pinned to the load CPU and every child inherits that: unpinned must mean every core,
  // or all of this scenario (both workers included) shares one.
  pinSelf(`0-${cpus().length - 1}`, pin.load === undefined ? undefined : tools.taskset);
  const upstream = await startUpstream(tools.nginx, dir);
  const r: Runner = {
    wrk: tools.wrk,
    nginx: tools.nginx,
    upstreamPort: upstream.port,
    // Two workers unpinned beside wrk swing more than one pinned process: never fewer than 2 rounds of 5 s, even --quick.
    durationS: Math.max(opts.durationS, 5),
    rounds: Math.max(opts.rounds, 2),
    connections: opts.connections,
    dir,
  };
  try {
    const s = await measureScaling(r);
    s.memory = await measureMemory(r, opts.decisions);
    (results as WithScaling).scaling = s;
  } catch (err) {
    results.errors.push(`scaling: ${(err as Error).message}`);
  } finally {
    await upstream.stop();
    pinSelf(pin.load, tools.taskset);
    for (const pid of others) process.kill(pid, 'SIGCONT');
  }
}

export const report: ScenarioReport = {
  section(res: Results): string[] {
    const s = (res as WithScaling).scaling;
    if (s === undefined) return [];
    const m = (k: keyof ScalingResults['rps']): string => fmt(median(s.rps[k]));
    const L = [
      '',
      'Scaling: the same two cores, unpinned, wrk on the same machine (CrowdSec off)',
      `  nginx      worker_processes 1: ${m('nginx_1')} req/s, 2: ${m('nginx_2')} req/s, factor ${s.nginx_factor}`,
      `  netbird    --workers 1: ${m('netbird_1')} req/s, 2: ${m('netbird_2')} req/s, factor ${s.netbird_factor} (cluster scheduling ${s.scheduling})`,
      `  netbird factor / nginx factor ${s.factor_ratio}; netbird / nginx at 2 workers ${s.ratio_to_nginx_at_2}`,
    ];
    const mem = s.memory;
    if (mem !== undefined) {
      L.push(
        `  memory: ${fmt(mem.decisions)} decisions, --workers ${mem.workers}: ready ${fmt(mem.ready_ms)} ms; group RSS ${mem.rss_mb_synced} MB at sync, ${mem.rss_mb_steady} MB steady, peak ${mem.peak_rss_mb} MB (sum of per-process peaks)`,
      );
    }
    return L;
  },
  targets(res: Results): Record<string, Target> {
    const s = (res as WithScaling).scaling;
    if (s === undefined) return {};
    const t: Record<string, Target> = {
      scaling_factor: {
        target: 'netbird scaling factor ≥ 0.9 × nginx scaling factor (1 → 2 workers)',
        measured: `${s.factor_ratio}`,
        met: s.factor_ratio >= 0.9,
      },
    };
    if (s.memory !== undefined) {
      t.workers_memory_1m = {
        target: '1M decisions with --workers 2 ≤ 450 MB total RSS',
        measured: `${s.memory.rss_mb_steady} MB steady, ${s.memory.peak_rss_mb} MB peak`,
        met: s.memory.rss_mb_steady <= 450,
      };
    }
    return t;
  },
};

/** Alone: an nginx upstream, then the rows above, printed as JSON. */
async function main(): Promise<void> {
  const arg = (name: string, def: number): number => {
    const i = process.argv.indexOf(`--${name}`);
    return i >= 0 ? Number(process.argv[i + 1]) : def;
  };
  const nginx = which('nginx');
  const wrk = which('wrk');
  if (nginx === undefined || wrk === undefined) throw new Error('needs nginx and wrk (npm run bench installs them)');
  const dir = mkdtempSync(join(tmpdir(), 'nbp-scaling-'));
  const upstream = await startUpstream(nginx, dir);
  const r: Runner = { wrk, nginx, upstreamPort: upstream.port, durationS: arg('duration', 5), rounds: arg('rounds', 2), connections: 50, dir };
  try {
    const out: Partial<ScalingResults> = arg('memory-only', 0) ? {} : await measureScaling(r);
    const decisions = arg('decisions', 1_000_000);
    if (decisions > 0) out.memory = await measureMemory(r, decisions, arg('workers', 2));
    process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  } finally {
    await upstream.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: Error) => {
      process.stderr.write(`${err.stack ?? err.message}\n`);
      process.exit(1);
    },
  );
}
