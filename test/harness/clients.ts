// Real HTTP, WebSocket and TCP clients that can pose as other hosts by binding 127.x.y.z.
import http from 'node:http';
import net from 'node:net';

export interface HttpResult {
  status: number;
  body: string;
  headers: http.IncomingHttpHeaders;
}

export function httpGet(
  url: string,
  opts: { host?: string; from?: string; headers?: Record<string, string>; method?: string; body?: string } = {},
): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      {
        method: opts.method ?? 'GET',
        localAddress: opts.from,
        agent: false,
        headers: { ...(opts.host ? { host: opts.host } : {}), ...opts.headers },
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** Connects from `from`, writes `send` (then half-closes when `end`), and collects what comes back until close. */
export function tcpExchange(
  port: number,
  opts: { from?: string; host?: string; send?: string | Buffer; end?: boolean; timeoutMs?: number } = {},
): Promise<{ data: string; closedWithoutData: boolean; error?: string }> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: opts.host ?? '127.0.0.1', port, localAddress: opts.from, allowHalfOpen: true });
    let data = '';
    let error: string | undefined;
    const timer = setTimeout(() => socket.destroy(), opts.timeoutMs ?? 5000);
    socket.setEncoding('utf8');
    socket.on('connect', () => {
      if (opts.send !== undefined) socket.write(opts.send);
      if (opts.end !== false) socket.end();
    });
    socket.on('data', (c: string) => (data += c));
    socket.on('end', () => socket.end());
    socket.on('error', (err) => (error = err.message));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closedWithoutData: data === '', error });
    });
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true or the time is up. */
export async function eventually(check: () => Promise<boolean> | boolean, timeoutMs: number, intervalMs = 100): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await sleep(intervalMs);
  }
  return check();
}

/** Waits until `pred` holds (checked every 10 ms); resolves with the milliseconds it took, throws after timeoutMs. */
export async function until(what: string, pred: () => boolean, timeoutMs = 10_000): Promise<number> {
  const t0 = Date.now();
  while (!pred()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(10);
  }
  return Date.now() - t0;
}
