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

/**
 * The one polling helper: waits until `check` (sync or async) holds, checking every `intervalMs`;
 * resolves with the milliseconds it took, throws after timeoutMs naming `what`.
 */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000, intervalMs = 10): Promise<number> {
  const t0 = Date.now();
  while (!(await check())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
    await sleep(intervalMs);
  }
  return Date.now() - t0;
}

/** A TCP connection to 127.0.0.1:port from the local address `from` (any 127.x.y.z is a different client), and whether it has closed since. */
export function openTcp(port: number, from: string): Promise<{ socket: net.Socket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const socket = net.connect({ port, host: '127.0.0.1', localAddress: from }, () => resolve({ socket, closed: () => closed }));
    socket.on('error', reject);
    socket.on('close', () => (closed = true));
  });
}
