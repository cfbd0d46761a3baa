// What a running daemon allocates, by allocation site, through its inspector (the daemon started
// with `node --inspect=127.0.0.1:0`): V8's sampling heap profiler with the objects the GC already
// collected kept in the profile, so that what every request allocates and drops is counted
// (`node --heap-prof` keeps only what is still alive at the end, which misses per-request garbage).
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { until } from '../../test/harness/clients';
import { areaOf, shortUrl, type CallFrame } from './cpuprofile';

interface SamplingNode {
  callFrame: CallFrame;
  selfSize: number;
  children: SamplingNode[];
}

export interface AllocSite {
  fn: string;
  where: string;
  area: string;
  bytes_per_request: number;
}

export interface AllocSummary {
  requests: number;
  sampling_interval_bytes: number;
  bytes_per_request: number;
  /** Sites in netbird-proxy's own code (dist/). */
  ours_bytes_per_request: number;
  by_area: Array<{ area: string; bytes_per_request: number }>;
  top: AllocSite[];
}

/** The inspector's WebSocket URL, from the "Debugger listening on ws://..." line of the daemon's log. */
export async function inspectorUrl(logFile: string): Promise<string> {
  let url: string | undefined;
  await until(
    'inspector URL in the daemon log',
    () => {
      url = /Debugger listening on (ws:\/\/\S+)/.exec(readFileSync(logFile, 'utf8'))?.[1];
      return url !== undefined;
    },
    10_000,
    50,
  );
  return url as string;
}

export class Inspector {
  private next = 1;
  private readonly pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown; error?: { message: string } };
      const p = msg.id === undefined ? undefined : this.pending.get(msg.id);
      if (p === undefined || msg.id === undefined) return;
      this.pending.delete(msg.id);
      if (msg.error !== undefined) p.reject(new Error(msg.error.message));
      else p.resolve(msg.result);
    });
  }

  static connect(url: string): Promise<Inspector> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, { maxPayload: 1024 ** 3 });
      ws.once('open', () => resolve(new Inspector(ws)));
      ws.once('error', reject);
    });
  }

  post<T>(method: string, params: Record<string, unknown> = {}): Promise<T> {
    const id = this.next++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }

  close(): void {
    this.ws.close();
  }
}

export async function startAllocationSampling(inspector: Inspector, intervalBytes: number): Promise<void> {
  await inspector.post('HeapProfiler.enable');
  await inspector.post('HeapProfiler.startSampling', {
    samplingInterval: intervalBytes,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
}

export async function stopAllocationSampling(inspector: Inspector, requests: number, intervalBytes: number, top = 20): Promise<AllocSummary> {
  const { profile } = await inspector.post<{ profile: { head: SamplingNode } }>('HeapProfiler.stopSampling');
  const sites = new Map<string, AllocSite & { bytes: number }>();
  const areas = new Map<string, number>();
  let total = 0;
  const walk = (n: SamplingNode): void => {
    if (n.selfSize > 0) {
      const cf = n.callFrame;
      const where = `${shortUrl(cf.url)}:${cf.lineNumber + 1}`;
      const key = `${cf.functionName}@${where}`;
      const area = areaOf(cf);
      const site = sites.get(key) ?? { fn: cf.functionName || '(anonymous)', where, area, bytes_per_request: 0, bytes: 0 };
      site.bytes += n.selfSize;
      sites.set(key, site);
      areas.set(area, (areas.get(area) ?? 0) + n.selfSize);
      total += n.selfSize;
    }
    for (const c of n.children) walk(c);
  };
  walk(profile.head);
  const per = (bytes: number): number => Math.round(bytes / Math.max(1, requests));
  return {
    requests,
    sampling_interval_bytes: intervalBytes,
    bytes_per_request: per(total),
    ours_bytes_per_request: per(areas.get('netbird-proxy (dist/)') ?? 0),
    by_area: [...areas].sort((a, b) => b[1] - a[1]).map(([area, bytes]) => ({ area, bytes_per_request: per(bytes) })),
    top: [...sites.values()]
      .sort((a, b) => b.bytes - a.bytes)
      .slice(0, top)
      .map(({ fn, where, area, bytes }) => ({ fn, where, area, bytes_per_request: per(bytes) })),
  };
}
