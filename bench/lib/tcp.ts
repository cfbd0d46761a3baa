// TCP load tools, run as their own processes (pinned with the load generators):
//
//   node .build/bench/lib/tcp.js serve                      → prints {"echo":P,"source":Q} once listening
//     echo: answers the first chunk it reads with the same bytes and closes (server-side close, so
//           TIME_WAIT stays off the client's ephemeral ports);
//     source: reads an 8-byte big-endian length N, writes N bytes (1 MiB writes), closes.
//   node .build/bench/lib/tcp.js connrate --port P --count N --concurrency C --max-ms T [--payload B]
//     N short connections (C at a time): connect, send B bytes, read the echo, see the close.
//   node .build/bench/lib/tcp.js bulk --port P --bytes N [--max-ms T]
//     one connection downloading N bytes from the source into a reused 1 MiB buffer (net onread,
//     no allocation per read); MiB/s from the request to the last byte.
// Each client prints one JSON line with its result. Every loop is bounded by count and time.
import type { ChildProcess } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { spawnPinned, stopChild } from './tools';

export interface ConnRateResult {
  conns: number;
  errors: number;
  seconds: number;
  per_sec: number;
  p50_ms: number;
  p99_ms: number;
  stopped_by_deadline: boolean;
}

export interface BulkResult {
  bytes: number;
  seconds: number;
  mib_per_sec: number;
}

function listen(server: Server): Promise<number> {
  return new Promise((res, rej) => {
    server.once('error', rej);
    server.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, () => {
      const a = server.address();
      res(typeof a === 'object' && a ? a.port : 0);
    });
  });
}

async function serve(): Promise<void> {
  const echo = createServer((s: Socket) => {
    s.setNoDelay(true);
    s.on('error', () => s.destroy());
    s.once('data', (d: Buffer) => s.end(d));
  });
  const source = createServer((s: Socket) => {
    s.on('error', () => s.destroy());
    let header = Buffer.alloc(0);
    const chunk = Buffer.alloc(1 << 20, 0x62);
    const onData = (d: Buffer): void => {
      header = Buffer.concat([header, d]);
      if (header.length < 8) return;
      s.off('data', onData);
      let left = Number(header.readBigUInt64BE(0));
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, chunk.length);
          left -= n;
          if (!s.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
            s.once('drain', pump);
            return;
          }
        }
        s.end();
      };
      pump();
    };
    s.on('data', onData);
  });
  const [e, k] = await Promise.all([listen(echo), listen(source)]);
  process.stdout.write(`${JSON.stringify({ echo: e, source: k })}\n`);
  process.on('SIGTERM', () => process.exit(0));
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

export function connRate(o: { port: number; count: number; concurrency: number; maxMs: number; payload: number }): Promise<ConnRateResult> {
  const payload = Buffer.alloc(o.payload, 0x61);
  const lat = new Float64Array(o.count);
  let started = 0;
  let done = 0;
  let errors = 0;
  let active = 0;
  const t0 = process.hrtime.bigint();
  const deadline = Date.now() + o.maxMs;
  return new Promise((resolve) => {
    let finished = false;
    const finish = (): void => {
      if (finished) return;
      finished = true;
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      const l = lat.subarray(0, done).sort();
      resolve({
        conns: done,
        errors,
        seconds: +seconds.toFixed(3),
        per_sec: Math.round(done / seconds),
        p50_ms: +percentile(l, 50).toFixed(3),
        p99_ms: +percentile(l, 99).toFixed(3),
        stopped_by_deadline: started < o.count,
      });
    };
    const next = (): void => {
      if (started >= o.count || Date.now() > deadline) {
        if (active === 0) finish();
        return;
      }
      started++;
      active++;
      const c0 = process.hrtime.bigint();
      let got = 0;
      let failed = false;
      const s = connect({ host: '127.0.0.1', port: o.port });
      s.setNoDelay(true);
      s.once('connect', () => s.write(payload));
      s.on('data', (d: Buffer) => (got += d.length));
      s.on('error', () => (failed = true));
      s.once('end', () => s.end());
      s.once('close', () => {
        active--;
        if (failed || got !== payload.length) errors++;
        else lat[done++] = Number(process.hrtime.bigint() - c0) / 1e6;
        next();
      });
    };
    for (let i = 0; i < o.concurrency; i++) next();
  });
}

export function bulk(o: { port: number; bytes: number; maxMs: number }): Promise<BulkResult> {
  return new Promise((resolve, reject) => {
    let got = 0;
    let t0 = 0n;
    let settled = false;
    const done = (err?: Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      s.destroy();
      if (err) return reject(err);
      if (got !== o.bytes) return reject(new Error(`bulk: got ${got} of ${o.bytes} bytes`));
      resolve({ bytes: o.bytes, seconds: +seconds.toFixed(3), mib_per_sec: Math.round(o.bytes / 2 ** 20 / seconds) });
    };
    const s = connect({
      host: '127.0.0.1',
      port: o.port,
      onread: {
        buffer: Buffer.alloc(1 << 20),
        callback: (n: number): boolean => {
          got += n;
          if (got >= o.bytes) done();
          return true;
        },
      },
    });
    const timer = setTimeout(() => done(new Error(`bulk: not done within ${o.maxMs} ms (${got} bytes)`)), o.maxMs);
    s.once('error', (e) => done(e));
    s.once('connect', () => {
      t0 = process.hrtime.bigint();
      const header = Buffer.alloc(8);
      header.writeBigUInt64BE(BigInt(o.bytes));
      s.write(header);
    });
    s.once('end', () => done());
    s.once('close', () => done());
  });
}

// ------------------------------------------------------------------------------------ runner side

export interface TcpServer {
  echo: number;
  source: number;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `tcp.js serve` pinned to cpu; resolves with its ports. */
export function startTcpServer(cpu: string | undefined): Promise<TcpServer> {
  const child = spawnPinned(cpu, process.execPath, [__filename, 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    let out = '';
    const t = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('tcp server did not start within 10 s'));
    }, 10_000);
    child.once('exit', (code) => reject(new Error(`tcp server exited with ${code}`)));
    child.stdout?.setEncoding('utf8').on('data', (c: string) => {
      out += c;
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      clearTimeout(t);
      const ports = JSON.parse(out.slice(0, nl)) as { echo: number; source: number };
      resolve({ ...ports, pid: child.pid as number, stop: () => stopChild(child, 2000) });
    });
  });
}

/** Runs a client mode of this file in its own (pinned) process and returns its JSON line. */
export function runTcpClient<T>(cpu: string | undefined, args: string[], maxMs: number): Promise<T> {
  const child: ChildProcess = spawnPinned(cpu, process.execPath, [__filename, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout?.setEncoding('utf8').on('data', (c: string) => (out += c));
    child.stderr?.setEncoding('utf8').on('data', (c: string) => (err += c));
    const t = setTimeout(() => child.kill('SIGKILL'), maxMs + 10_000);
    child.once('exit', (code, sig) => {
      clearTimeout(t);
      if (code !== 0) return reject(new Error(`tcp ${args.join(' ')} exited with ${sig ?? code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out.trim()) as T);
      } catch {
        reject(new Error(`tcp ${args.join(' ')}: bad output ${out}`));
      }
    });
  });
}

// ------------------------------------------------------------------------------------ CLI

function argNum(args: string[], name: string, dflt?: number): number {
  const i = args.indexOf(name);
  const v = i >= 0 ? Number(args[i + 1]) : dflt;
  if (v === undefined || !Number.isFinite(v)) throw new Error(`tcp: ${name} is required`);
  return v;
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  if (mode === 'serve') return serve();
  if (mode === 'connrate') {
    const r = await connRate({
      port: argNum(args, '--port'),
      count: argNum(args, '--count'),
      concurrency: argNum(args, '--concurrency', 50),
      maxMs: argNum(args, '--max-ms', 10_000),
      payload: argNum(args, '--payload', 16),
    });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  if (mode === 'bulk') {
    const r = await bulk({
      port: argNum(args, '--port'),
      bytes: argNum(args, '--bytes'),
      maxMs: argNum(args, '--max-ms', 60_000),
    });
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  throw new Error(`usage: tcp.js serve | connrate --port P --count N | bulk --port P --bytes N`);
}

if (require.main === module) {
  main().catch((err: Error) => {
    process.stderr.write(`${err.stack ?? err.message}\n`);
    process.exit(1);
  });
}
