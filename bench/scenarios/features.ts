// Scenario "features" (`--features` runs it alone; part of the full run, `--no-features` skips it):
// what each layer costs per request, in µs of the proxy's own CPU, against bare http-proxy on the
// same machine in the same run. One daemon serves one http service per layer (each its own Host);
// wrk loads them in interleaved rounds next to the bare http-proxy reference, and a probe reads
// the CPU time of the process under test during each run: CPU µs per request is its own cost
// whoever the bottleneck was, the figure that survives a shared machine. A layer's cost is its
// service's figure minus the plain service's in the same round (median over rounds); the noise
// is the plain service measured twice per round ("plain again"). Optional rows: enforce with 1M
// decisions (the fake-LAPI enforce daemon and its CrowdSec-off twin, when the CrowdSec scenario
// started it), HTTP/2 vs HTTP/1.1 (from the h2 scenario's CPU figures), and `--baseline <dir>`:
// the plain service on another build (a checkout with `npm run build` done), to measure a change.
import { join } from 'node:path';
import { hashSecret } from '../../src/auth/secret-hash';
import { httpGet } from '../../test/harness/clients';
import { freePort } from '../../test/harness/ports';
import { OFF_TWIN_HOST, startNetbird, type Netbird } from '../lib/netbird';
import { median } from '../lib/stats';
import { startCpuProbe } from '../lib/tools';
import { runWrk } from '../lib/wrk';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log } from '../runner/log';
import { measured } from '../runner/measure';
import type { Results } from '../runner/results';
import { startEngine } from './appsec';
import { wrkBase } from './http';

export interface FeatureRow {
  label: string;
  /** What the cost is taken against: another row's key; absent for the references. */
  against?: string;
  rps: number[];
  cpu_us: number[];
  median_rps: number;
  median_cpu_us: number;
  /** Median over rounds of (this row's CPU µs/request − its reference's in the same round). */
  cost_us?: number;
  /** req/s of this row / bare http-proxy's, median of the per-round ratios. */
  vs_bare?: number;
}

export interface FeaturesResults {
  rounds: number;
  seconds: number;
  rows: Record<string, FeatureRow>;
  /** |plain − plain again| in CPU µs/request, median over rounds: differences below it are noise. */
  noise_us: number;
  /** The same noise as a fraction of the plain row's CPU/request. */
  noise_ratio: number;
}

export type WithFeatures = Results & { features?: FeaturesResults };

const PASSWORD = 'bench-password';
const SECRET = 'bench-session-secret-of-at-least-32-characters';
const LOGIN = '/.netbird-proxy/auth/login';

function featureServices(upstream: number, passwordHash: string): string {
  const target = `http://127.0.0.1:${upstream}`;
  const routes = Array.from({ length: 20 }, (_, i) => `      - path: /r${i}/\n        target: ${target}\n`).join('');
  return `services:
  - name: plain
    protocol: http
    domains: [bench.local]
    target: ${target}
  - name: routes20
    protocol: http
    domains: [routes.bench.local]
    target: ${target}
    routes:
${routes}  - name: appsec
    protocol: http
    domains: [appsec.bench.local]
    target: ${target}
    access: { appsec: enforce }
  - name: auth
    protocol: http
    domains: [auth.bench.local]
    target: ${target}
    auth:
      password: { hash: "${passwordHash}" }
      session: 24h
`;
}

/** A session cookie from the real login form. */
async function login(nb: Netbird): Promise<string> {
  const res = await httpGet(`http://127.0.0.1:${nb.httpPort}${LOGIN}`, {
    host: 'auth.bench.local',
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: `password=${PASSWORD}&rd=/`,
  });
  const cookie = res.headers['set-cookie']?.find((c) => c.startsWith('nbp_session='));
  if (res.status !== 303 || cookie === undefined) throw new Error(`features: login answered ${res.status}, no session cookie`);
  return cookie.split(';')[0];
}

interface Variant {
  key: string;
  label: string;
  against?: string;
  pid: number;
  port: number;
  headers: Record<string, string>;
}

export async function run(ctx: BenchContext): Promise<void> {
  const { opts, pin, results, fleet, dir } = ctx;
  if (!opts.features) return;
  const engine = await startEngine(pin.load, 0);
  ctx.defer(() => engine.stop());
  const args = ['--appsec-url', engine.url, '--appsec-api-key', 'bench', '--session-secret', SECRET];
  const services = featureServices(fleet.upstreamPort, await hashSecret(PASSWORD));
  const nb = await startNetbird({
    name: 'netbird-features',
    dir: join(dir, 'netbird-features'),
    cpu: pin.server,
    services,
    httpPort: await freePort(),
    adminPort: await freePort(),
    args,
  });
  ctx.defer(() => nb.stop());
  const cookie = await login(nb);
  const base = { pid: nb.pid, port: nb.httpPort };
  const variants: Variant[] = [
    { key: 'bare', label: 'ref: bare Node http-proxy', pid: fleet.bare.pid, port: fleet.barePort, headers: { Host: 'bench.local' } },
    { key: 'plain', label: 'netbird-proxy, plain service', against: 'bare', ...base, headers: { Host: 'bench.local' } },
    { key: 'plain_again', label: 'plain service again (noise)', against: 'plain', ...base, headers: { Host: 'bench.local' } },
    { key: 'routes20', label: '20 routes (default route: all tried)', against: 'plain', ...base, headers: { Host: 'routes.bench.local' } },
    { key: 'appsec', label: 'AppSec enforce (engine allows at once)', against: 'plain', ...base, headers: { Host: 'appsec.bench.local' } },
    { key: 'auth', label: 'auth, valid session cookie', against: 'plain', ...base, headers: { Host: 'auth.bench.local', Cookie: cookie } },
  ];
  const fake = fleet.enforce.find((e) => e.key === 'netbird_enforce_fake');
  if (fake !== undefined) {
    const e = { pid: fake.nb.pid, port: fake.nb.httpPort };
    variants.push(
      { key: 'enforce_off_twin', label: 'enforce daemon, CrowdSec-off twin', against: 'bare', ...e, headers: { Host: OFF_TWIN_HOST } },
      { key: 'enforce_1m', label: `CrowdSec enforce, ${fmt(opts.decisions)} decisions`, against: 'enforce_off_twin', ...e, headers: { Host: 'bench.local' } },
    );
  }
  if (opts.baseline !== undefined) {
    const old = await startNetbird({
      name: 'netbird-features-baseline',
      dir: join(dir, 'netbird-features-baseline'),
      cpu: pin.server,
      services,
      httpPort: await freePort(),
      adminPort: await freePort(),
      args,
      bin: join(opts.baseline, 'bin', 'netbird-proxy'),
    });
    ctx.defer(() => old.stop());
    variants.push({
      key: 'baseline',
      label: `plain service, baseline build`,
      against: 'plain',
      pid: old.pid,
      port: old.httpPort,
      headers: { Host: 'bench.local' },
    });
  }
  const only = opts.featureRows;
  if (only !== undefined) {
    const keep = new Set(['bare', 'plain', 'plain_again', ...only, ...only.flatMap((k) => (k === 'enforce_1m' ? ['enforce_off_twin'] : []))]);
    variants.splice(0, variants.length, ...variants.filter((v) => keep.has(v.key)));
  }
  const pids = [...new Set([...variants.map((v) => v.pid)])];
  const rounds = Math.max(2, opts.rounds);
  log(`features: ${variants.length} rows, ${rounds} interleaved rounds of ${opts.abS} s, CPU µs/request of the process under test`);
  const wrk = wrkBase(ctx);
  const got: Record<string, { rps: number[]; cpu: number[] }> = Object.fromEntries(variants.map((v) => [v.key, { rps: [], cpu: [] }]));
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const url = `http://127.0.0.1:${v.port}/`;
      const o = { ...wrk, url, headers: v.headers };
      const others = [...fleet.others(v.pid), ...pids.filter((p) => p !== v.pid)];
      const res = await measured(
        `features r${r + 1} ${v.key}`,
        [...new Set(others)],
        () => runWrk({ ...o, durationS: 1 }),
        async () => {
          const probe = startCpuProbe({ server: v.pid });
          const w = await runWrk({ ...o, durationS: opts.abS });
          return { ...w, cores: probe.stop().server ?? NaN };
        },
      );
      if (res.non_2xx > 0) results.errors.push(`features ${v.key} round ${r + 1}: ${res.non_2xx} non-2xx`);
      got[v.key].rps.push(res.rps);
      got[v.key].cpu.push((res.cores / res.rps) * 1e6);
    }
  }
  const rows: Record<string, FeatureRow> = {};
  const perRound = (a: number[], b: number[], f: (x: number, y: number) => number): number[] => a.map((x, i) => f(x, b[i] ?? NaN)).filter(Number.isFinite);
  for (const v of variants) {
    const g = got[v.key];
    const row: FeatureRow = {
      label: v.label,
      against: v.against,
      rps: g.rps.map(Math.round),
      cpu_us: g.cpu.map((x) => +x.toFixed(1)),
      median_rps: Math.round(median(g.rps)),
      median_cpu_us: +median(g.cpu).toFixed(1),
    };
    if (v.against !== undefined) row.cost_us = +median(perRound(g.cpu, got[v.against].cpu, (x, y) => x - y)).toFixed(1);
    if (v.key !== 'bare') row.vs_bare = +median(perRound(g.rps, got.bare.rps, (x, y) => x / y)).toFixed(3);
    rows[v.key] = row;
  }
  const again = got.plain_again as { cpu: number[] } | undefined;
  const noise = again === undefined ? NaN : median(perRound(again.cpu, got.plain.cpu, (x, y) => Math.abs(x - y)));
  (results as WithFeatures).features = {
    rounds,
    seconds: opts.abS,
    rows,
    noise_us: +noise.toFixed(1),
    noise_ratio: +(noise / rows.plain.median_cpu_us).toFixed(3),
  };
  for (const k of Object.keys(rows)) log(`features ${k}: ${rows[k].median_cpu_us} µs/request, cost ${rows[k].cost_us ?? '-'} µs`);
}

/** HTTP/2 vs HTTP/1.1 from the h2 scenario (one netbird-proxy serving both): CPU µs/request of each. */
function h2Cost(r: Results): { h2: number; h1: number } | undefined {
  const rows = r.h2?.rows;
  const us = (k: string): number => {
    const m = rows?.[k]?.median;
    return m === undefined ? NaN : (m.server_cpu / m.rps) * 1e6;
  };
  const h2 = us('netbird_h2');
  const h1 = us('netbird_h1');
  return Number.isFinite(h2) && Number.isFinite(h1) ? { h2, h1 } : undefined;
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    const f = (r as WithFeatures).features;
    if (!f) return [];
    const L = [
      '',
      `Per-feature cost (CPU µs/request of the process under test; cost = row − the row named, same round, median of ${f.rounds} rounds of ${f.seconds} s; noise ±${f.noise_us} µs = ${(f.noise_ratio * 100).toFixed(1)} %):`,
    ];
    for (const [k, v] of Object.entries(f.rows)) {
      const cost = v.cost_us === undefined ? '' : `  cost ${v.cost_us >= 0 ? '+' : ''}${fmt(v.cost_us, 1)} µs vs ${v.against}`;
      const bare = v.vs_bare === undefined ? '' : `  req/s ×${v.vs_bare} of bare`;
      L.push(`  ${v.label.padEnd(42)} ${fmt(v.median_rps).padStart(7)} req/s  ${fmt(v.median_cpu_us, 1).padStart(6)} µs/req${cost}${bare}  (${k})`);
    }
    const h2 = h2Cost(r);
    if (h2 !== undefined) {
      L.push(`  HTTP/2 vs HTTP/1.1 over TLS (h2 scenario, same process): ${fmt(h2.h2, 1)} vs ${fmt(h2.h1, 1)} µs/request, cost ${fmt(h2.h2 - h2.h1, 1)} µs`);
    }
    const p = r.path?.rows;
    if (p !== undefined) {
      const ns = (k: string): number => p[k]?.cpu_ns_per_request ?? NaN;
      L.push(
        `  in process (bench:path): canonical request ${fmt(ns('canonical') / 1000, 2)} µs; access line ${fmt((ns('off') - ns('off_no_access')) / 1000, 2)} µs; whole admission + counter + line ${fmt(ns('off') / 1000, 2)} µs`,
      );
    }
    return L;
  },
};
