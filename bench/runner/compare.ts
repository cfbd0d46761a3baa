// `--compare <results.json>`: each ratio of this run next to the same ratio of another run (the
// committed one), and a flag on every change for the worse beyond the noise. Ratios only: both
// sides of a ratio are measured in the same run, so a slower or busier machine mostly cancels out.
//
// The noise of a ratio is what the runs themselves measured, the larger of the two runs': the
// spread of its per-round values when it has rounds (half the range, relative to the median), else
// the run's same-process noise (the features table's plain service measured twice per round),
// and never below FLOOR. Not a CI gate: a tool for whoever changes the hot path.
import { readFileSync } from 'node:fs';
import { median } from '../lib/stats';
import type { WithFeatures } from '../scenarios/features';
import type { Results } from './results';

/** Below this a change is never flagged: short runs on a 2-vCPU VM move by that much on their own. */
export const FLOOR = 0.03;

export interface RatioValue {
  value: number;
  higherIsBetter: boolean;
  /** Per-round (or per-pair) values, when the ratio has them. */
  rounds?: number[];
}

export interface ComparedRatio {
  key: string;
  now: number;
  then: number;
  /** (now − then) / then. */
  change: number;
  noise: number;
  worse: boolean;
}

function spread(values: number[] | undefined): number | undefined {
  const ok = (values ?? []).filter(Number.isFinite);
  if (ok.length < 2) return undefined;
  const m = median(ok);
  return m > 0 ? (Math.max(...ok) - Math.min(...ok)) / 2 / m : undefined;
}

function perRound(a: Array<{ round: number; rps: number }> | undefined, b: Array<{ round: number; rps: number }> | undefined): number[] | undefined {
  if (a === undefined || b === undefined) return undefined;
  return a.map((x) => x.rps / (b.find((y) => y.round === x.round)?.rps ?? NaN)).filter(Number.isFinite);
}

/** Every ratio of a run, by a stable key. */
export function ratiosOf(r: Results): Record<string, RatioValue> {
  const out: Record<string, RatioValue> = {};
  for (const [k, t] of Object.entries(r.targets ?? {})) {
    if (t.ratio === undefined || t.bound === undefined || !Number.isFinite(t.ratio)) continue;
    out[k] = { value: t.ratio, higherIsBetter: t.bound.op === '>=' };
  }
  const v = r.http?.variants;
  const offBare = out.http_off_vs_bare_http_proxy;
  if (offBare !== undefined) offBare.rounds = perRound(v?.netbird_off?.rounds, v?.bare_node?.rounds);
  const vsNginx = out.http_vs_nginx;
  if (vsNginx !== undefined) vsNginx.rounds = perRound(v?.netbird_off?.rounds, v?.nginx?.rounds);
  const byRound = (a: Array<{ round: number }> | undefined, b: Array<{ round: number }> | undefined, f: (x: never) => number): number[] | undefined =>
    a?.map((x) => f(x as never) / f(b?.find((y) => y.round === x.round) as never)).filter(Number.isFinite);
  type R = { c1: { p50_ms: number; p99_ms: number }; p99_ms: number };
  const rounds: Record<string, number[] | undefined> = {
    latency_c1_p50_vs_nginx: byRound(v?.netbird_off?.rounds, v?.nginx?.rounds, (x: R) => x?.c1.p50_ms ?? NaN),
    latency_c1_p99_vs_nginx: byRound(v?.netbird_off?.rounds, v?.nginx?.rounds, (x: R) => x?.c1.p99_ms ?? NaN),
    http_p99_vs_nginx: byRound(v?.netbird_off?.rounds, v?.nginx?.rounds, (x: R) => x?.p99_ms ?? NaN),
  };
  const tcp = r.tcp?.targets;
  const conns = (k: string): Array<{ round: number; rps: number }> | undefined => tcp?.[k]?.wrk_close;
  rounds.tcp_conns_vs_nginx = perRound(conns('netbird_tcp'), conns('nginx_stream'));
  for (const [k, rs] of Object.entries(rounds)) if (out[k] !== undefined && rs !== undefined) out[k].rounds = rs;
  const ab = r.http?.enforce_ab?.by_daemon.netbird_enforce_fake;
  if (out.enforce_1m_vs_off !== undefined && ab !== undefined) out.enforce_1m_vs_off.rounds = ab.ratios;
  const h2 = r.h2?.ratios;
  if (h2 !== undefined) {
    for (const [k, x] of Object.entries(h2)) if (Number.isFinite(x)) out[`h2.${k}`] = { value: x, higherIsBetter: true };
  }
  const f = (r as WithFeatures).features;
  if (f !== undefined) {
    const bare = f.rows.bare;
    for (const [k, row] of Object.entries(f.rows)) {
      if (k === 'bare' || bare === undefined) continue;
      // CPU per request relative to bare http-proxy's: the figure a shared machine disturbs least.
      const rounds = row.cpu_us.map((x, i) => x / (bare.cpu_us[i] ?? NaN)).filter(Number.isFinite);
      out[`features.${k}.cpu_vs_bare`] = { value: +median(rounds).toFixed(3), higherIsBetter: false, rounds };
    }
  }
  for (const [k, a] of Object.entries(
    (r as Results & { appsec?: { by_engine: Record<string, { median_ratio: number; ratios: number[] }> } }).appsec?.by_engine ?? {},
  )) {
    out[`appsec.${k}`] = { value: a.median_ratio, higherIsBetter: true, rounds: a.ratios };
  }
  return out;
}

/** The run's own same-process noise (relative), when it measured one. */
function runNoise(r: Results): number | undefined {
  return (r as WithFeatures).features?.noise_ratio;
}

export function compareRuns(now: Results, then: Results): ComparedRatio[] {
  const a = ratiosOf(now);
  const b = ratiosOf(then);
  const out: ComparedRatio[] = [];
  for (const [key, x] of Object.entries(a)) {
    const y = b[key];
    if (y === undefined || !(y.value !== 0)) continue;
    const change = (x.value - y.value) / y.value;
    const noise = Math.max(FLOOR, spread(x.rounds) ?? runNoise(now) ?? 0, spread(y.rounds) ?? runNoise(then) ?? 0);
    const worse = x.higherIsBetter ? change < -noise : change > noise;
    out.push({ key, now: x.value, then: y.value, change, noise, worse });
  }
  return out;
}

export function compareSection(now: Results, file: string): string[] {
  let then: Results;
  try {
    then = JSON.parse(readFileSync(file, 'utf8')) as Results;
  } catch (err) {
    return ['', `--compare ${file}: cannot read it (${(err as Error).message})`];
  }
  const rows = compareRuns(now, then);
  const L = [
    '',
    `Compared with ${file} (${then.generated_at}): ratio now | then | change | noise (the larger of both runs'); WORSE = a change for the worse beyond the noise`,
  ];
  if (rows.length === 0) L.push('  no ratio measured in both runs');
  for (const c of rows) {
    const pct = (x: number): string => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(1)} %`;
    L.push(
      `  ${c.worse ? 'WORSE ' : '      '}${c.key.padEnd(44)} ${String(c.now).padStart(7)} | ${String(c.then).padStart(7)} | ${pct(c.change).padStart(8)} | ±${(c.noise * 100).toFixed(1)} %`,
    );
  }
  const worse = rows.filter((c) => c.worse).length;
  L.push(`  ${worse === 0 ? 'no ratio worse beyond its noise' : `${worse} ratio(s) worse beyond their noise: rerun them (--rounds 3) before believing it`}`);
  return L;
}
