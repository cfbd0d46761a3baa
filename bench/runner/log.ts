// Progress lines on stderr, stamped with seconds since the run started; number formatting.
const t0 = Date.now();

export function log(msg: string): void {
  process.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s] ${msg}\n`);
}

export const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: d, maximumFractionDigits: d }) : '—');

export const pct = (x: number): string => (Number.isFinite(x) ? `${Math.round(x * 100)}%` : '—');

export const cpusText = (c: Record<string, number>): string =>
  Object.values(c)
    .map((x) => Math.round(x * 100))
    .join('/') || '—';

/** 1000000 → "1M", 100000 → "100k". */
export function short(n: number): string {
  return n >= 1e6 && n % 1e6 === 0 ? `${n / 1e6}M` : n >= 1e3 && n % 1e3 === 0 ? `${n / 1e3}k` : String(n);
}

export const ratio = (a: number | undefined, b: number | undefined, d = 3): number => (a !== undefined && b !== undefined ? +(a / b).toFixed(d) : NaN);

/** A table line: the first column left-aligned, the others right-aligned, two spaces apart. */
export function tableRow(cols: string[], widths: number[]): string {
  return cols.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
}
