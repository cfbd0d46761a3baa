// Lingering close for answers the proxy writes itself (denials, 404s, redirects): a body the client
// is still sending is read and discarded for at most 30 s and 64 KiB (nginx's lingering_time),
// then the connection is closed. Without it, a refused client could hold its connection for as long
// as it trickles a body. A body that ends within the bounds leaves the connection usable.
import type { IncomingMessage } from 'node:http';

export const LINGER_MS = 30_000;
export const LINGER_BYTES = 64 * 1024;

export function lingerOnUnreadBody(req: IncomingMessage): void {
  const length = req.headers['content-length'];
  if (req.complete || ((length === undefined || length === '0') && req.headers['transfer-encoding'] === undefined)) return;
  const socket = req.socket;
  let bytes = 0;
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  // Reading the body ourselves (rather than Node's dump after the response) lets it be counted.
  req.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > LINGER_BYTES) socket.destroy();
  });
  const stop = (): void => clearTimeout(timer);
  req.once('end', stop);
  socket.once('close', stop);
}
