// Summarises a V8 .cpuprofile (node --cpu-prof): self and inclusive time per function
// (name + file:line) and per area (netbird-proxy code, http-proxy, pino, Node internals, GC...).
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../../test/harness/repo-root';

export interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
  columnNumber: number;
}

interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileRow {
  fn: string;
  where: string;
  area: string;
  self_ms: number;
  self_pct: number;
  total_pct: number;
}

export interface ProfileSummary {
  file: string;
  duration_ms: number;
  busy_ms: number;
  idle_pct: number;
  by_area: Array<{ area: string; self_ms: number; self_pct: number }>;
  top_self: ProfileRow[];
  /** Inclusive time of selected entry points (what a request costs end to end, by stage). */
  top_total: ProfileRow[];
}

export function shortUrl(url: string): string {
  if (!url) return '';
  let u = url.replace(/^file:\/\//, '');
  if (u.startsWith(REPO_ROOT)) u = u.slice(REPO_ROOT.length + 1);
  const nm = u.lastIndexOf('node_modules/');
  if (nm >= 0) u = u.slice(nm + 'node_modules/'.length);
  return u;
}

export function areaOf(cf: CallFrame): string {
  const name = cf.functionName;
  const u = shortUrl(cf.url);
  if (name === '(idle)') return '(idle)';
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)' || name === '(root)') return 'V8/native (program)';
  if (u.startsWith('dist/')) return 'netbird-proxy (dist/)';
  if (u.startsWith('http-proxy/')) return 'http-proxy';
  if (u.startsWith('pino') || u.startsWith('sonic-boom') || u.startsWith('thread-stream') || u.startsWith('fast-redact') || u.startsWith('quick-format'))
    return 'pino (access log)';
  if (u.startsWith('prom-client') || u.startsWith('tdigest') || u.startsWith('bintrees')) return 'prom-client (metrics)';
  if (/^node:(_http_|https?$|internal\/http)/.test(u)) return 'Node http';
  if (u.startsWith('node:internal/streams') || u.startsWith('node:stream')) return 'Node streams';
  if (u.startsWith('node:net') || u.startsWith('node:internal/stream_base_commons') || u.startsWith('node:internal/net')) return 'Node net';
  if (u.startsWith('node:')) return 'Node other internals';
  if (!u) return 'native/builtin (no url)';
  return u.split('/')[0];
}

export function summariseCpuProfile(file: string, top = 25): ProfileSummary {
  const prof = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of prof.nodes) byId.set(n.id, n);
  for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (cf: CallFrame): string => `${cf.functionName || '(anonymous)'}\t${shortUrl(cf.url)}${cf.url ? `:${cf.lineNumber + 1}` : ''}`;

  // Sample i lasts until sample i+1 (timeDeltas[i+1]); the last one gets the mean.
  const n = prof.samples.length;
  const dur = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n - 1; i++) {
    dur[i] = Math.max(0, prof.timeDeltas[i + 1]);
    sum += dur[i];
  }
  if (n > 0) dur[n - 1] = n > 1 ? sum / (n - 1) : 0;

  const self = new Map<string, number>();
  const total = new Map<string, number>();
  const area = new Map<string, number>();
  const keyArea = new Map<string, string>();
  let idle = 0;
  let all = 0;
  for (let i = 0; i < n; i++) {
    const node = byId.get(prof.samples[i]);
    if (!node) continue;
    const us = dur[i];
    all += us;
    const a = areaOf(node.callFrame);
    if (a === '(idle)') {
      idle += us;
      continue;
    }
    const k = keyOf(node.callFrame);
    keyArea.set(k, a);
    self.set(k, (self.get(k) ?? 0) + us);
    area.set(a, (area.get(a) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = node.id; id !== undefined; id = parent.get(id)) {
      const cf = (byId.get(id) as ProfileNode).callFrame;
      const kk = keyOf(cf);
      if (seen.has(kk)) continue;
      seen.add(kk);
      if (!keyArea.has(kk)) keyArea.set(kk, areaOf(cf));
      total.set(kk, (total.get(kk) ?? 0) + us);
    }
  }
  const busy = all - idle;
  const pct = (us: number): number => +((100 * us) / (busy || 1)).toFixed(1);
  const row = (k: string): ProfileRow => {
    const [fn, where] = k.split('\t');
    return {
      fn,
      where,
      area: keyArea.get(k) ?? '',
      self_ms: +((self.get(k) ?? 0) / 1000).toFixed(1),
      self_pct: pct(self.get(k) ?? 0),
      total_pct: pct(total.get(k) ?? 0),
    };
  };
  const skipTotal = new Set(['(root)', '(program)', '(garbage collector)']);
  return {
    file,
    duration_ms: Math.round((prof.endTime - prof.startTime) / 1000),
    busy_ms: Math.round(busy / 1000),
    idle_pct: +((100 * idle) / (all || 1)).toFixed(1),
    by_area: [...area.entries()].sort((a, b) => b[1] - a[1]).map(([a, us]) => ({ area: a, self_ms: Math.round(us / 1000), self_pct: pct(us) })),
    top_self: [...self.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k]) => row(k)),
    top_total: [...total.entries()]
      .filter(([k]) => !skipTotal.has(k.split('\t')[0]))
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k]) => row(k)),
  };
}
