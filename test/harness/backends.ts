// Named HTTP backends on their own 127.x addresses for the routing tests: each answers with its
// name, counts what it received, and can be stopped and started again on the same address.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';

export interface Backend {
  readonly name: string;
  readonly host: string;
  port: number;
  readonly url: string;
  /** Requests received (method url) since start. */
  readonly seen: string[];
  /** Response status for /healthz (200 unless set). */
  health: number;
  /** Extra behaviour: return true when the request was answered. */
  handler: ((req: http.IncomingMessage, res: http.ServerResponse) => boolean) | undefined;
  stop(): Promise<void>;
  start(): Promise<void>;
}

export async function startBackend(name: string, host: string, port = 0): Promise<Backend> {
  let server: http.Server | undefined;
  const b: Backend = {
    name,
    host,
    port,
    get url() {
      return `http://${host}:${b.port}`;
    },
    seen: [],
    health: 200,
    handler: undefined,
    async stop() {
      const s = server;
      server = undefined;
      if (s === undefined) return;
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    },
    async start() {
      const s = http.createServer((req, res) => {
        if (req.url === '/healthz') {
          res.writeHead(b.health).end();
          return;
        }
        b.seen.push(`${req.method} ${req.url}`);
        if (b.handler?.(req, res) === true) return;
        let body = '';
        req.setEncoding('utf8');
        req.on('data', (c: string) => (body += c));
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ name, method: req.method, url: req.url, headers: req.headers, body }));
        });
      });
      const wss = new WebSocketServer({ server: s });
      wss.on('connection', (ws) => ws.on('message', (m: Buffer) => ws.send(`${name}:${m.toString()}`)));
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(b.port, host, () => resolve());
      });
      b.port = (s.address() as AddressInfo).port;
      server = s;
    },
  };
  await b.start();
  return b;
}

/** A TCP backend that writes its name to every connection and closes. */
export async function startNamedTcp(name: string, host: string): Promise<{ port: number; connections: number; close(): Promise<void> }> {
  const state = { connections: 0 };
  const server = net.createServer((socket) => {
    state.connections++;
    socket.on('error', () => socket.destroy());
    socket.end(name);
  });
  await new Promise<void>((r) => server.listen(0, host, () => r()));
  return {
    port: (server.address() as AddressInfo).port,
    get connections() {
      return state.connections;
    },
    close: () => new Promise((r) => server.close(() => r())),
  };
}

/** A port on `host` where nothing listens. */
export async function deadPort(host: string): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, host, () => r()));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}
