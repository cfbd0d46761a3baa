// Ratio targets (issue 13): a ratio measured in one run, checked against a bound. The table prints
// them as "ratio 0.93 ≥ 0.90"; the JSON keeps the ratio and the bound next to met.
import type { Target } from './results';

export function ratioTarget(ratio: number, op: '>=' | '<=', value: number, what: string, measured: string): Target {
  const met = Number.isFinite(ratio) && (op === '>=' ? ratio >= value : ratio <= value);
  return { target: `${what} ${op === '>=' ? '≥' : '≤'} ${value}`, measured, met, ratio, bound: { op, value } };
}

/** The table's text for a target: the ratio against its bound first when there is one. */
export function targetLine(key: string, t: Target): string {
  const head = `  ${t.met ? 'MET   ' : 'MISSED'} ${key}: `;
  if (t.ratio === undefined || t.bound === undefined) return `${head}${t.target} — ${t.measured}`;
  return `${head}ratio ${Number.isFinite(t.ratio) ? t.ratio : '—'} (target: ${t.target}) — ${t.measured}`;
}
