// Plain-text tables in the style of cscli's human output: a dashed rule above and below the
// header and at the end, columns padded to their widest cell.

// eslint-disable-next-line no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;
/** Width on the screen: colour codes take none. */
const visible = (s: string): number => s.replace(ANSI, '').length;
const pad = (s: string, width: number): string => s + ' '.repeat(Math.max(0, width - visible(s)));

export function renderTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => visible(r[i] ?? ''))));
  const line = (cells: string[]): string => ` ${cells.map((c, i) => pad(c, widths[i] ?? 0)).join('  ')}`.trimEnd();
  const rule = '-'.repeat(widths.reduce((a, w) => a + w + 2, 0) + 1);
  return [rule, line(headers), rule, ...rows.map(line), rule].join('\n');
}

/** Two-column table without a header row (key, value), for one record. */
export function renderRecord(rows: Array<[string, string]>): string {
  const kw = Math.max(...rows.map(([k]) => k.length));
  const lines = rows.map(([k, v]) => ` ${k.padEnd(kw)}  ${v}`.trimEnd());
  const rule = '-'.repeat(Math.max(...lines.map((l) => l.length)) + 1);
  return [rule, ...lines, rule].join('\n');
}

/** 3 -> "3s", 125 -> "2m5s", 7260 -> "2h1m". */
export function formatAge(seconds: number): string {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}
