// Scenario "tail" (`--tail` runs it alone; part of the full run, `--no-tail` skips it): latency of
// one request at a time (`wrk -c1`) over enough requests that p99 means something, next to what
// the garbage collector did meanwhile. Two netbird-proxy daemons (plain service, CrowdSec off)
// run under `node --trace-gc`: one with V8's default young generation, one with the semi-space
// size given by --tail-semi-space; nginx's reverse proxy is the reference for p99 / p50. Rounds are
// interleaved. From each daemon's trace-gc lines during a run: scavenges and mark-compacts, their
// pauses, and the bytes allocated per request (heap used before each GC − after the previous one).
// Then the allocations by site: a third daemon under its inspector, V8's sampling heap profiler
// (collected objects kept) during a wrk -c50 run: bytes per request of each site (lib/heap-sampling.ts).
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/harness/ports';
import { inspectorUrl, Inspector, startAllocationSampling, stopAllocationSampling, type AllocSummary } from '../lib/heap-sampling';
import { servicesYaml, startNetbird, type Netbird } from '../lib/netbird';
import { median } from '../lib/stats';
import { memoryOf } from '../lib/tools';
import { runWrk } from '../lib/wrk';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log } from '../runner/log';
import { measured } from '../runner/measure';
import type { Results } from '../runner/results';
import { wrkBase } from './http';

export interface GcWindow {
  scavenges: number;
  scavenge_ms: number;
  scavenge_max_ms: number;
  mark_compacts: number;
  mark_compact_ms: number;
  allocated_mb: number;
}

export interface TailRound extends GcWindow {
  requests: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
}

export interface TailRow {
  label: string;
  rounds: TailRound[];
  median: {
    rps: number;
    p50_ms: number;
    p99_ms: number;
    p99_over_p50: number;
    scavenges_per_1k_requests: number;
    scavenge_mean_ms: number;
    bytes_per_request: number;
  };
  /** After the rounds (what the young generation's size costs in memory). */
  rss_mb?: number;
}

export interface TailResults {
  seconds: number;
  semi_space_mb: number;
  rows: Record<string, TailRow>;
  /** Allocation sampling under wrk -c50 (CrowdSec off, plain service). */
  alloc?: AllocSummary & { rps: number };
}

export type WithTail = Results & { tail?: TailResults };

const GC_LINE =
  /: (Scavenge|Mark-Compact|Mark-sweep|Minor Mark-Compact)\b.*?([\d.]+) \(([\d.]+)\) -> ([\d.]+) \(([\d.]+)\) MB, (?:pooled: [\d.]+ MB, )?([\d.]+) \/ ([\d.]+) ms/;

/** What `--trace-gc` printed between two offsets of the daemon's stdout log. */
export function gcWindow(text: string): GcWindow {
  const w: GcWindow = { scavenges: 0, scavenge_ms: 0, scavenge_max_ms: 0, mark_compacts: 0, mark_compact_ms: 0, allocated_mb: 0 };
  let lastAfter: number | undefined;
  for (const line of text.split('\n')) {
    const m = GC_LINE.exec(line);
    if (m === null) continue;
    const before = Number(m[2]);
    const after = Number(m[4]);
    const pause = Number(m[6]);
    if (lastAfter !== undefined && before > lastAfter) w.allocated_mb += before - lastAfter;
    lastAfter = after;
    if (m[1] === 'Scavenge') {
      w.scavenges++;
      w.scavenge_ms += pause;
      w.scavenge_max_ms = Math.max(w.scavenge_max_ms, pause);
    } else {
      w.mark_compacts++;
      w.mark_compact_ms += pause;
    }
  }
  return w;
}

function logText(file: string, from: number): { text: string; end: number } {
  const end = statSync(file).size;
  const buf = readFileSync(file);
  return { text: buf.subarray(from, end).toString('utf8'), end };
}

interface Variant {
  key: string;
  label: string;
  pid: number;
  port: number;
  log?: string;
}

export async function run(ctx: BenchContext): Promise<void> {
  const { opts, pin, results, fleet, dir } = ctx;
  if (!opts.tail) return;
  const start = async (key: string, flags: string[], launcherFlags = true): Promise<Netbird> => {
    const nb = await startNetbird({
      name: `netbird-${key}`,
      dir: join(dir, `netbird-${key}`),
      cpu: pin.server,
      services: servicesYaml({ httpUpstream: fleet.upstreamPort, crowdsec: 'off' }),
      httpPort: await freePort(),
      adminPort: await freePort(),
      nodeFlags: ['--trace-gc', ...flags],
      launcherFlags,
    });
    ctx.defer(() => nb.stop());
    return nb;
  };
  const semi = opts.tailSemiSpaceMb;
  // V8's own default, without the launcher's fixed young generation (src/util/launcher.ts).
  const dflt = await start('tail-default', [], false);
  // --min as well: V8 starts the young generation at 1 MB and grows it only while much survives,
  // which request garbage never does, so a larger maximum alone changes nothing.
  const sized = await start('tail-semi', [`--min-semi-space-size=${semi}`, `--max-semi-space-size=${semi}`]);
  const variants: Variant[] = [
    { key: 'nginx', label: 'nginx reverse proxy', pid: fleet.nginx.pid, port: fleet.nginxHttpPort },
    { key: 'default', label: 'netbird-proxy, default young generation', pid: dflt.pid, port: dflt.httpPort, log: join(dflt.dir, 'daemon.log') },
    { key: 'semi', label: `netbird-proxy, semi-space fixed at ${semi} MB`, pid: sized.pid, port: sized.httpPort, log: join(sized.dir, 'daemon.log') },
  ];
  const pids = [dflt.pid, sized.pid];
  const rounds = Math.max(3, opts.rounds);
  const seconds = opts.tailS;
  log(`tail: wrk -c1, ${rounds} interleaved rounds of ${seconds} s, trace-gc beside (semi-space ${semi} MB vs default)`);
  const wrk = wrkBase(ctx);
  const got: Record<string, TailRound[]> = Object.fromEntries(variants.map((v) => [v.key, []]));
  for (let r = 0; r < rounds; r++) {
    for (const v of r % 2 === 0 ? variants : [...variants].reverse()) {
      const url = `http://127.0.0.1:${v.port}/`;
      const o = { ...wrk, connections: 1, url, headers: { Host: 'bench.local' } };
      const others = [...new Set([...fleet.others(v.pid), ...pids.filter((p) => p !== v.pid)])];
      const res = await measured(
        `tail r${r + 1} ${v.key}`,
        others,
        () => runWrk({ ...o, durationS: 1 }),
        async () => {
          const from = v.log === undefined ? 0 : statSync(v.log).size;
          const w = await runWrk({ ...o, durationS: seconds });
          const gc = v.log === undefined ? undefined : gcWindow(logText(v.log, from).text);
          return { ...w, gc };
        },
      );
      if (res.non_2xx > 0) results.errors.push(`tail ${v.key} round ${r + 1}: ${res.non_2xx} non-2xx`);
      const gc = res.gc ?? { scavenges: 0, scavenge_ms: 0, scavenge_max_ms: 0, mark_compacts: 0, mark_compact_ms: 0, allocated_mb: 0 };
      got[v.key].push({ requests: res.requests, rps: res.rps, p50_ms: res.p50_ms, p99_ms: res.p99_ms, max_ms: res.max_ms, ...gc });
      log(
        `tail r${r + 1} ${v.key.padEnd(7)} ${fmt(res.rps).padStart(6)} req/s p50 ${res.p50_ms.toFixed(3)} p99 ${res.p99_ms.toFixed(3)} ms; scavenges ${gc.scavenges} (${gc.scavenge_ms.toFixed(1)} ms, max ${gc.scavenge_max_ms}), mark-compacts ${gc.mark_compacts}`,
      );
    }
  }
  const rows: Record<string, TailRow> = {};
  for (const v of variants) {
    const rs = got[v.key];
    const m = (f: (x: TailRound) => number): number => median(rs.map(f).filter(Number.isFinite));
    rows[v.key] = {
      label: v.label,
      rounds: rs,
      median: {
        rps: Math.round(m((x) => x.rps)),
        p50_ms: +m((x) => x.p50_ms).toFixed(3),
        p99_ms: +m((x) => x.p99_ms).toFixed(3),
        p99_over_p50: +m((x) => x.p99_ms / x.p50_ms).toFixed(2),
        scavenges_per_1k_requests: +m((x) => (x.scavenges / x.requests) * 1000).toFixed(2),
        scavenge_mean_ms: +m((x) => (x.scavenges > 0 ? x.scavenge_ms / x.scavenges : NaN)).toFixed(3),
        bytes_per_request: Math.round(m((x) => (x.allocated_mb * 1024 * 1024) / x.requests)),
      },
    };
  }
  rows.default.rss_mb = memoryOf(dflt.pid)?.rss_mb;
  rows.semi.rss_mb = memoryOf(sized.pid)?.rss_mb;
  (results as WithTail).tail = { seconds, semi_space_mb: semi, rows };
  await dflt.stop();
  await sized.stop();
  try {
    (results as WithTail).tail = { seconds, semi_space_mb: semi, rows, alloc: await allocations(ctx, start) };
  } catch (err) {
    results.errors.push(`tail allocations: ${(err as Error).message}`);
  }
}

const SAMPLING_INTERVAL = 1024;

async function allocations(ctx: BenchContext, start: (key: string, flags: string[]) => Promise<Netbird>): Promise<AllocSummary & { rps: number }> {
  const { opts, fleet } = ctx;
  const nb = await start('tail-alloc', ['--inspect=127.0.0.1:0']);
  const inspector = await Inspector.connect(await inspectorUrl(join(nb.dir, 'daemon.log')));
  try {
    const o = { ...wrkBase(ctx), url: `http://127.0.0.1:${nb.httpPort}/`, headers: { Host: 'bench.local' } };
    log(`tail: allocation sampling (every ${SAMPLING_INTERVAL} bytes, collected objects kept) during ${opts.tailS} s of wrk -c${opts.connections}`);
    return await measured(
      'tail allocations',
      fleet.others(nb.pid),
      () => runWrk({ ...o, durationS: 2 }),
      async () => {
        await startAllocationSampling(inspector, SAMPLING_INTERVAL);
        const w = await runWrk({ ...o, durationS: opts.tailS });
        return { ...(await stopAllocationSampling(inspector, w.requests, SAMPLING_INTERVAL, 25)), rps: w.rps };
      },
    );
  } finally {
    inspector.close();
    await nb.stop();
  }
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    const t = (r as WithTail).tail;
    if (!t) return [];
    const L = ['', `Tail (wrk -c1, ${t.seconds} s runs, medians over rounds; netbird-proxy under --trace-gc: GC during the run, bytes allocated per request):`];
    for (const [k, v] of Object.entries(t.rows)) {
      const md = v.median;
      const gc =
        k === 'nginx'
          ? ''
          : `; scavenges ${md.scavenges_per_1k_requests}/1k requests, mean ${md.scavenge_mean_ms} ms; ${fmt(md.bytes_per_request)} bytes/request; RSS ${v.rss_mb ?? '?'} MB`;
      L.push(
        `  ${v.label.padEnd(44)} ${fmt(md.rps).padStart(6)} req/s  p50 ${md.p50_ms.toFixed(3)}  p99 ${md.p99_ms.toFixed(3)} ms  p99/p50 ${md.p99_over_p50}${gc}`,
      );
    }
    const a = t.alloc;
    if (a === undefined) return L;
    L.push(
      `  allocations under wrk -c${String(r.settings.connections)} (${fmt(a.rps)} req/s, sampled every ${a.sampling_interval_bytes} bytes): ${fmt(a.bytes_per_request)} bytes/request, ${fmt(a.ours_bytes_per_request)} in netbird-proxy's code`,
      `    by area: ${a.by_area.map((x) => `${x.area} ${fmt(x.bytes_per_request)}`).join(', ')}`,
    );
    for (const site of a.top) L.push(`    ${fmt(site.bytes_per_request).padStart(6)} B/req  ${site.fn} ${site.where}`);
    return L;
  },
};
