// Lingering close for answers the proxy writes itself (denials, 404s, redirects): a body the client
// is still sending is read and discarded for at most 30 s and 64 KiB (nginx's lingering_time),
// then the connection is closed. Without it, a refused client could hold its connection for as long
// as it trickles a body. Polled: Node's parser reads the socket directly, so there is no 'data' to count.
import type { IncomingMessage, ServerResponse } from 'node:http';

export const LINGER_MS = 30_000;
export const LINGER_BYTES = 64 * 1024;
const CHECK_MS = 100;

export function lingerOnUnreadBody(req: IncomingMessage, res: ServerResponse): void {
  res.once('finish', () => {
    if (!req.complete && !req.socket.destroyed) linger(req);
  });
}

function linger(req: IncomingMessage): void {
  const socket = req.socket;
  const t0 = Date.now();
  const bytes0 = socket.bytesRead;
  const timer = setInterval(() => {
    if (Date.now() - t0 >= LINGER_MS || socket.bytesRead - bytes0 > LINGER_BYTES) socket.destroy();
  }, CHECK_MS);
  const stop = (): void => clearInterval(timer);
  req.once('end', stop);
  socket.once('close', stop);
}
