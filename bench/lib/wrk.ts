// Runs wrk (pinned to the load CPU set) and parses `wrk --latency` output.
import { spawnPinned } from './tools';

export interface WrkOptions {
  wrk: string;
  url: string;
  cpu: string | undefined;
  threads: number;
  connections: number;
  durationS: number;
  headers?: Record<string, string>;
}

export interface WrkResult {
  requests: number;
  seconds: number;
  rps: number;
  latency_avg_ms: number;
  p50_ms: number;
  p75_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  non_2xx: number;
  socket_errors: { connect: number; read: number; write: number; timeout: number };
}

const UNIT_MS: Record<string, number> = { us: 0.001, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** "1.23ms" → 1.23, "850.00us" → 0.85, "1.01s" → 1010. */
export function parseDurationMs(text: string): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text.trim());
  if (!m) throw new Error(`wrk: cannot parse duration "${text}"`);
  return Number(m[1]) * UNIT_MS[m[2]];
}

export function parseWrk(out: string): WrkResult {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(out);
    if (!m) throw new Error(`wrk: no ${what} in output:\n${out}`);
    return m;
  };
  const pct = (p: string): number => parseDurationMs(need(new RegExp(`^\\s+${p}%\\s+(\\S+)`, 'm'), `${p}% latency`)[1]);
  const lat = need(/^\s+Latency\s+(\S+)\s+(\S+)\s+(\S+)/m, 'latency line');
  const total = need(/^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)/m, 'request count');
  const sock = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  return {
    requests: Number(total[1]),
    seconds: parseDurationMs(`${total[2]}${total[3]}`) / 1000,
    rps: Number(need(/^Requests\/sec:\s+([\d.]+)/m, 'Requests/sec')[1]),
    latency_avg_ms: parseDurationMs(lat[1]),
    p50_ms: pct('50'),
    p75_ms: pct('75'),
    p90_ms: pct('90'),
    p99_ms: pct('99'),
    max_ms: parseDurationMs(lat[3]),
    non_2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? 0),
    socket_errors: {
      connect: Number(sock?.[1] ?? 0),
      read: Number(sock?.[2] ?? 0),
      write: Number(sock?.[3] ?? 0),
      timeout: Number(sock?.[4] ?? 0),
    },
  };
}

/** Runs wrk once; killed if it overruns its duration by 20 s. */
export function runWrk(o: WrkOptions): Promise<WrkResult> {
  const args = [`-t${o.threads}`, `-c${o.connections}`, `-d${o.durationS}s`, '--latency', '--timeout', '5s'];
  for (const [k, v] of Object.entries(o.headers ?? {})) args.push('-H', `${k}: ${v}`);
  args.push(o.url);
  return new Promise((resolve, reject) => {
    const child = spawnPinned(o.cpu, o.wrk, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    const killer = setTimeout(() => child.kill('SIGKILL'), (o.durationS + 20) * 1000);
    child.once('error', (e) => {
      clearTimeout(killer);
      reject(e);
    });
    child.once('exit', (code, sig) => {
      clearTimeout(killer);
      if (code !== 0) return reject(new Error(`wrk ${args.join(' ')} exited with ${sig ?? code}: ${err.trim()}\n${out}`));
      try {
        resolve(parseWrk(out));
      } catch (e) {
        reject(e);
      }
    });
  });
}
