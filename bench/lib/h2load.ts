// Runs h2load (Debian's nghttp2-client, pinned to the load CPU set): HTTP/2, or HTTP/1.1 with --h1,
// so both protocols are measured by the same client. req/s from its summary; p50/p99 from its
// per-request log (--log-file: start time, status, response time in microseconds).
import { readFileSync, rmSync } from 'node:fs';
import { spawnPinned } from './tools';

export interface H2loadOptions {
  url: string;
  cpu: string | undefined;
  clients: number;
  /** Concurrent streams per connection (HTTP/2); 1 with h1. */
  streams: number;
  durationS: number;
  h1: boolean;
  logFile: string;
}

export interface H2loadResult {
  rps: number;
  requests: number;
  failed: number;
  non_2xx: number;
  p50_ms: number;
  p99_ms: number;
}

export function parseH2load(out: string): Pick<H2loadResult, 'rps' | 'requests' | 'failed' | 'non_2xx'> {
  const finished = /finished in [\d.]+\w+, ([\d.]+) req\/s/.exec(out);
  const requests = /requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  if (!finished || !requests || !codes) throw new Error(`h2load: cannot parse its output:\n${out}`);
  return {
    rps: Number(finished[1]),
    requests: Number(requests[2]),
    failed: Number(requests[4]),
    non_2xx: Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
  };
}

/** p-th percentile (0-100) of the response times in an h2load log, in ms. */
export function logPercentiles(text: string, ps: number[]): number[] {
  const us: number[] = [];
  for (const line of text.split('\n')) {
    const f = line.split('\t');
    if (f.length >= 3) us.push(Number(f[2]));
  }
  us.sort((a, b) => a - b);
  return ps.map((p) => (us.length === 0 ? NaN : (us[Math.min(us.length - 1, Math.floor((p / 100) * us.length))] as number) / 1000));
}

export function runH2load(o: H2loadOptions): Promise<H2loadResult> {
  // --warm-up-time: the TLS handshakes of the connections fall outside the measured duration.
  const args = [
    '-t',
    '1',
    '-c',
    String(o.clients),
    '-m',
    String(o.h1 ? 1 : o.streams),
    '-D',
    String(o.durationS),
    '--warm-up-time',
    '1',
    '--log-file',
    o.logFile,
  ];
  if (o.h1) args.push('--h1');
  args.push(o.url);
  return new Promise((resolve, reject) => {
    const child = spawnPinned(o.cpu, 'h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (out += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), (o.durationS + 20) * 1000);
    child.once('error', (e) => {
      clearTimeout(killer);
      reject(e);
    });
    child.once('exit', () => {
      clearTimeout(killer);
      try {
        const summary = parseH2load(out);
        const [p50, p99] = logPercentiles(readFileSync(o.logFile, 'utf8'), [50, 99]);
        rmSync(o.logFile, { force: true });
        resolve({ ...summary, p50_ms: p50 as number, p99_ms: p99 as number });
      } catch (err) {
        reject(err as Error);
      }
    });
  });
}
