// The answers the proxy writes itself: 403/404/502/504 on a request, and the same on a WebSocket
// upgrade (where there is no ServerResponse, only the raw socket).
import http, { type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';

const BODIES: Readonly<Record<number, string>> = {
  403: 'Forbidden',
  404: 'Not Found\n',
  502: 'Bad Gateway\n',
  504: 'Gateway Timeout\n',
};

function bodyFor(status: number): string {
  return BODIES[status] ?? `${http.STATUS_CODES[status] ?? ''}\n`;
}

export function respond(res: ServerResponse, status: number, close = false): void {
  const body = bodyFor(status);
  const headers: http.OutgoingHttpHeaders = { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) };
  if (close) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

/** Answers an upgrade request on its raw socket, then closes it once the answer is flushed. */
export function rejectUpgrade(socket: Duplex, status: number, extraHeaders = ''): void {
  const body = bodyFor(status);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n${extraHeaders}\r\n${body}`,
  );
}

/** 308 Permanent Redirect (method and body kept) to `location`, on a request or an upgrade's raw socket. */
export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(308, { location, 'content-length': 0 });
  res.end();
}

export function redirectUpgrade(socket: Duplex, location: string): void {
  socket.once('finish', () => socket.destroy());
  socket.end(`HTTP/1.1 308 Permanent Redirect\r\nLocation: ${location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
}

/** The body of an ACME http-01 challenge answer. */
export function respondText(res: ServerResponse, body: string): void {
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
