// Decision store benchmark: a synthetic 1,000,000-decision startup response
// (~70% IPv4 exact, ~20% IPv6 exact, ~10% ranges of various lengths, IPv4 and IPv6),
// apply time, memory, and lookups/s for hits and misses. Loads the real DecisionStore
// (src/crowdsec/core/store.ts, compiled into .build/ by `npm run build:scripts`).
//
//   npm run build:scripts && node --expose-gc .build/bench/micro/store.js [--json] [--count N] [--queries N] [--rounds N]
//
// Targets: apply ≤ 5 s, process RSS ≤ 300 MB after apply, ≥ 2M lookups/s in every category.
import { DecisionStore } from '../../src/crowdsec/core/store';
import type { LapiDecision, StreamResponse } from '../../src/crowdsec/core/types';
import { ORIGINS, TYPES, V4_RANGE_LENS, V6_RANGE_LENS } from '../lib/decisions';
import type { StoreBenchResult } from '../runner/results';

const args = process.argv.slice(2);
const asJson = args.includes('--json');
function intArg(name: string, dflt: number): number {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? Number(args[i + 1]) : dflt;
}
const COUNT = intArg('--count', 1_000_000);
const QUERIES = intArg('--queries', 200_000);
const ROUNDS = intArg('--rounds', 7);
const log = (msg = ''): void => {
  (asJson ? process.stderr : process.stdout).write(`${msg}\n`);
};

const gc = typeof global.gc === 'function' ? global.gc : undefined;
function settle(): void {
  if (gc) {
    gc();
    gc();
  }
}
const MB = 1024 * 1024;
interface Mem {
  rss: number;
  heapUsed: number;
  external: number;
  arrayBuffers: number;
}
function mem(): Mem {
  const m = process.memoryUsage();
  return { rss: m.rss, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
}

// Deterministic PRNG (mulberry32).
let seed = 0x9e3779b9;
function rnd(): number {
  seed |= 0;
  seed = (seed + 0x6d2b79f5) | 0;
  let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
  return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
}
const rint = (n: number): number => Math.floor(rnd() * n);
const u32 = (): number => (rnd() * 4294967296) >>> 0;
const v4 = (n: number): string => `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
const hex = (): string => rint(65536).toString(16);
function pick<T>(weighted: Array<[T, number]>): T {
  let r = rnd() * weighted.reduce((a, [, w]) => a + w, 0);
  for (const [v, w] of weighted) if ((r -= w) < 0) return v;
  return weighted[weighted.length - 1][0];
}

const SCENARIOS = Array.from({ length: 60 }, (_, i): [string, number] => [`crowdsecurity/scenario-${i}`, 1 + (i % 7)]);

function duration(): string {
  // CAPI-like remaining durations, e.g. "166h29m31.580512s"; all well in the future.
  return `${1 + rint(167)}h${rint(60)}m${rint(60)}.${rint(1e6)}s`;
}

function maskV4(n: number, len: number): number {
  return len === 0 ? 0 : (n & (0xffffffff << (32 - len))) >>> 0;
}
function v6Range(len: number): { h: number[]; text: string } {
  const h = [0x2000 + rint(0x1000), rint(65536), rint(65536), rint(65536), rint(65536), rint(65536), rint(65536), rint(65536)];
  for (let i = 0; i < 8; i++) {
    const bits = len - i * 16;
    if (bits <= 0) h[i] = 0;
    else if (bits < 16) h[i] &= (0xffff << (16 - bits)) & 0xffff;
  }
  return { h, text: `${h.map((x) => x.toString(16)).join(':')}/${len}` };
}

// ---------------------------------------------------------------- build the response
const n4 = Math.round(COUNT * 0.7);
const n6 = Math.round(COUNT * 0.2);
const nr = COUNT - n4 - n6;
const nr4 = Math.round(nr * 0.7);
const nr6 = nr - nr4;

settle();
const m0 = mem();
log(`building a ${COUNT}-decision response (${n4} IPv4, ${n6} IPv6, ${nr4} IPv4 ranges, ${nr6} IPv6 ranges)...`);
const decisions: LapiDecision[] = new Array<LapiDecision>(COUNT);
const exact4 = new Uint32Array(n4);
const exact6: string[] = new Array<string>(n6);
const ranges4: Array<[number, number]> = [];
const ranges6: Array<[number[], number]> = [];
let id = 1;
const base = u32();
function decision(scope: string, value: string): LapiDecision {
  return {
    duration: duration(),
    id: id++,
    origin: pick(ORIGINS),
    scenario: pick(SCENARIOS),
    scope,
    type: pick(TYPES),
    value,
  };
}
let k = 0;
for (let i = 0; i < n4; i++) {
  // i * odd constant mod 2^32 is a bijection: unique addresses.
  const a = (Math.imul(i, 0x9e3779b1) + base) >>> 0;
  exact4[i] = a;
  decisions[k++] = decision('Ip', v4(a));
}
for (let i = 0; i < n6; i++) {
  const text = `2${rint(4096).toString(16)}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}:${(i >>> 16).toString(16)}:${(i & 0xffff).toString(16)}`;
  exact6[i] = text;
  decisions[k++] = decision('Ip', text);
}
for (let i = 0; i < nr4; i++) {
  const len = pick(V4_RANGE_LENS);
  const net = maskV4(u32(), len);
  ranges4.push([net, len]);
  decisions[k++] = decision('Range', `${v4(net)}/${len}`);
}
for (let i = 0; i < nr6; i++) {
  const len = pick(V6_RANGE_LENS);
  const r = v6Range(len);
  ranges6.push([r.h, len]);
  decisions[k++] = decision('Range', r.text);
}
// Shuffle so families and ranges interleave as in a real response.
for (let i = decisions.length - 1; i > 0; i--) {
  const j = rint(i + 1);
  const t = decisions[i];
  decisions[i] = decisions[j];
  decisions[j] = t;
}
// The bouncer applies what JSON.parse made of the LAPI body: round-trip so that strings are flat
// and objects have the shapes JSON.parse gives them.
let body: string | undefined = JSON.stringify({ new: decisions, deleted: null });
decisions.length = 0;
const bodyBytes = body.length;
let response: StreamResponse | undefined = JSON.parse(body) as StreamResponse;
body = undefined;
settle();
const m1 = mem();

// ---------------------------------------------------------------- apply
const NOW = Date.now();
const store = new DecisionStore();
const t0 = process.hrtime.bigint();
const applied = store.apply(response, NOW);
const applyMs = Number(process.hrtime.bigint() - t0) / 1e6;
const mPeak = mem();
response = undefined;
settle();
const m2 = mem();

// ---------------------------------------------------------------- queries
function inRange4(net: number, len: number): number {
  const host = len === 32 ? 0 : u32() & (len === 0 ? 0xffffffff : 0xffffffff >>> len);
  return (net | host) >>> 0;
}
function inRange6(h: number[], len: number): string {
  const g = h.slice();
  for (let i = 0; i < 8; i++) {
    const bits = len - i * 16;
    if (bits >= 16) continue;
    const hostMask = bits <= 0 ? 0xffff : 0xffff >>> bits;
    g[i] = (g[i] & ~hostMask & 0xffff) | (rint(65536) & hostMask);
  }
  return g.map((x) => x.toString(16)).join(':');
}
function build(n: number, gen: () => string, wantHit: boolean): string[] {
  const out: string[] = [];
  let tries = 0;
  while (out.length < n) {
    if (++tries > n * 20) throw new Error('cannot generate queries');
    const q = gen();
    if ((store.lookup(q, NOW) !== undefined) === wantHit) out.push(q);
  }
  return out;
}
const exactSet6 = new Set(exact6);
const sets: Record<string, string[]> = {
  ipv4_hit: build(QUERIES, () => v4(exact4[rint(n4)]), true),
  ipv4_miss: build(QUERIES, () => v4(u32()), false),
  ipv4_range: build(
    QUERIES,
    () => {
      const [net, len] = ranges4[rint(ranges4.length)];
      return v4(inRange4(net, len));
    },
    true,
  ),
  ipv6_hit: build(QUERIES, () => exact6[rint(n6)], true),
  ipv6_miss: build(QUERIES, () => `2${hex().padStart(3, '0').slice(0, 3)}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}:${hex()}`, false),
  ipv6_range: build(
    QUERIES,
    () => {
      const [h, len] = ranges6[rint(ranges6.length)];
      const q = inRange6(h, len);
      return exactSet6.has(q) ? '::1' : q;
    },
    true,
  ),
};
sets.mixed = [];
for (let i = 0; i < QUERIES; i++) {
  const r = rnd();
  const name = r < 0.6 ? 'ipv4_miss' : r < 0.75 ? 'ipv6_miss' : r < 0.85 ? 'ipv4_hit' : r < 0.9 ? 'ipv6_hit' : r < 0.97 ? 'ipv4_range' : 'ipv6_range';
  sets.mixed.push(sets[name][rint(QUERIES)]);
}
// Fresh flat copies, laid out in query order: a proxy looks up a string it has just read from the
// socket (hot in cache), not one scattered across the heap.
for (const name of Object.keys(sets)) sets[name] = JSON.parse(JSON.stringify(sets[name])) as string[];

interface LookupRun {
  perSec: number;
  bestPerSec: number;
  nsPerOp: number;
  hitRatio: number;
}
function run(qs: string[]): LookupRun {
  // One warm-up pass, then ROUNDS timed passes. The machine may be shared: report the median
  // pass and the best one (closest to the uncontended speed).
  let found = 0;
  for (let i = 0; i < qs.length; i++) if (store.lookup(qs[i], NOW) !== undefined) found++;
  const times: number[] = [];
  found = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t = process.hrtime.bigint();
    for (let i = 0; i < qs.length; i++) if (store.lookup(qs[i], NOW) !== undefined) found++;
    times.push(Number(process.hrtime.bigint() - t));
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const best = times[0];
  return {
    perSec: Math.round(qs.length / (median / 1e9)),
    bestPerSec: Math.round(qs.length / (best / 1e9)),
    nsPerOp: median / qs.length,
    hitRatio: found / (qs.length * ROUNDS),
  };
}
const lookups: Record<string, LookupRun> = {};
for (const [name, qs] of Object.entries(sets)) lookups[name] = run(qs);

const ts = process.hrtime.bigint();
const stats = store.stats();
const statsMs = Number(process.hrtime.bigint() - ts) / 1e6;
const tw = process.hrtime.bigint();
const swept = store.sweep(NOW);
const sweepMs = Number(process.hrtime.bigint() - tw) / 1e6;

settle();
const m3 = mem();

// ---------------------------------------------------------------- report
const storeBytes = m2.heapUsed + m2.arrayBuffers - (m0.heapUsed + m0.arrayBuffers);
const result: Omit<StoreBenchResult, 'targets'> = {
  benchmark: 'store',
  node: process.version,
  gc_exposed: gc !== undefined,
  decisions: COUNT,
  response_json_mb: +(bodyBytes / MB).toFixed(1),
  mix: { ipv4_exact: n4, ipv6_exact: n6, ipv4_ranges: nr4, ipv6_ranges: nr6 },
  stored: store.size,
  values: store.valueCount,
  applied,
  apply_ms: Math.round(applyMs),
  apply_per_sec: Math.round(COUNT / (applyMs / 1000)),
  rss_mb_baseline: +(m0.rss / MB).toFixed(1),
  rss_mb_response_built: +(m1.rss / MB).toFixed(1),
  rss_mb_peak_during_apply: +(mPeak.rss / MB).toFixed(1), // sampled right after apply, response still referenced
  rss_mb_max_process: +(process.resourceUsage().maxRSS / 1024).toFixed(1), // includes building/parsing the 150 MB JSON
  rss_mb_after_apply: +(m2.rss / MB).toFixed(1),
  rss_mb_end_with_query_sets: +(m3.rss / MB).toFixed(1),
  heap_mb_after_apply: +(m2.heapUsed / MB).toFixed(1),
  array_buffers_mb_after_apply: +(m2.arrayBuffers / MB).toFixed(1),
  bytes_per_decision: Math.round(storeBytes / COUNT),
  lookups_per_sec: Object.fromEntries(Object.entries(lookups).map(([k2, v]) => [k2, v.perSec])),
  lookups_per_sec_best: Object.fromEntries(Object.entries(lookups).map(([k2, v]) => [k2, v.bestPerSec])),
  lookup_ns: Object.fromEntries(Object.entries(lookups).map(([k2, v]) => [k2, +v.nsPerOp.toFixed(1)])),
  lookup_hit_ratio: Object.fromEntries(Object.entries(lookups).map(([k2, v]) => [k2, v.hitRatio])),
  stats_ms: +statsMs.toFixed(1),
  sweep_ms: +sweepMs.toFixed(1),
  swept,
  stats_total: stats.total,
};
const minLookups = Math.min(...Object.values(result.lookups_per_sec));
const targets: StoreBenchResult['targets'] = {
  apply_ms_max: 5000,
  rss_mb_max: 300,
  lookups_per_sec_min: 2_000_000,
  apply_ok: result.apply_ms <= 5000,
  rss_ok: result.rss_mb_after_apply <= 300,
  lookups_ok: minLookups >= 2_000_000,
};

if (asJson) {
  process.stdout.write(`${JSON.stringify({ ...result, targets }, null, 2)}\n`);
} else {
  const row = (a: string, b: string): void => log(`  ${a.padEnd(34)} ${b}`);
  log('');
  log(`DecisionStore benchmark (${process.version}${gc ? ', --expose-gc' : ', no --expose-gc: memory figures are noisy'})`);
  row('decisions', `${COUNT} → ${store.size} entries on ${store.valueCount} values (added ${applied.added}, skipped ${applied.skipped})`);
  row('apply', `${result.apply_ms} ms (${(result.apply_per_sec / 1e6).toFixed(2)}M decisions/s)   target ≤ 5000 ms ${targets.apply_ok ? 'OK' : 'MISSED'}`);
  row('RSS baseline / response parsed', `${result.rss_mb_baseline} MB / ${result.rss_mb_response_built} MB (JSON body ${result.response_json_mb} MB)`);
  row('RSS right after apply', `${result.rss_mb_peak_during_apply} MB (response still referenced; process max ${result.rss_mb_max_process} MB)`);
  row('RSS after apply (response freed)', `${result.rss_mb_after_apply} MB   target ≤ 300 MB ${targets.rss_ok ? 'OK' : 'MISSED'}`);
  row('heap / typed arrays after apply', `${result.heap_mb_after_apply} MB / ${result.array_buffers_mb_after_apply} MB`);
  row('store bytes per decision', `${result.bytes_per_decision} (store.bytes ${(store.bytes / MB).toFixed(1)} MB)`);
  log(`  lookups (${QUERIES} distinct random queries per set, median of ${ROUNDS} passes; best pass):`);
  for (const [name, v] of Object.entries(lookups)) {
    row(
      `    ${name}`,
      `${(v.perSec / 1e6).toFixed(2)}M/s  ${v.nsPerOp.toFixed(0).padStart(4)} ns/op  (best ${(v.bestPerSec / 1e6).toFixed(2)}M/s)  hit ratio ${v.hitRatio.toFixed(2)}`,
    );
  }
  row('lookup target ≥ 2M/s', targets.lookups_ok ? 'OK' : `MISSED (min ${(minLookups / 1e6).toFixed(2)}M/s)`);
  row('stats() / sweep() with nothing expired', `${result.stats_ms} ms / ${result.sweep_ms} ms`);
}
