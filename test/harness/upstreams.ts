// Small real upstreams for end-to-end tests.
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface HttpUpstream {
  port: number;
  url: string;
  requests: http.IncomingMessage[];
  close(): Promise<void>;
}

/** Answers every request with JSON describing what it received (method, url, headers). */
export function startHttpUpstream(handler?: http.RequestListener): Promise<HttpUpstream> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    if (handler) return handler(req, res);
    const body = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        url: `http://127.0.0.1:${port}`,
        requests,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

export interface TcpUpstream {
  port: number;
  connections: number;
  close(): Promise<void>;
}

/** Echo server that answers "echo:<data>" after the client half-closes, then closes. */
export function startTcpEcho(): Promise<TcpUpstream> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0 };
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (got += c));
    socket.on('end', () => socket.end(`echo:${got}`));
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        get connections() {
          return state.connections;
        },
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Echo server that answers every chunk as it arrives and counts the bytes it received. */
export function startLiveEcho(): Promise<TcpUpstream & { bytes: number }> {
  const sockets = new Set<net.Socket>();
  const state = { connections: 0, bytes: 0 };
  const server = net.createServer((socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (c: Buffer) => {
      state.bytes += c.length;
      socket.write(c);
    });
    socket.on('error', () => socket.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        port: (server.address() as AddressInfo).port,
        get connections() {
          return state.connections;
        },
        get bytes() {
          return state.bytes;
        },
        close: () =>
          new Promise((r) => {
            for (const s of sockets) s.destroy();
            server.close(() => r());
          }),
      });
    });
  });
}
