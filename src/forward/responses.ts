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
export function rejectUpgrade(socket: Duplex, status: number): void {
  const body = bodyFor(status);
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${http.STATUS_CODES[status] ?? ''}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}
