import type { Server } from 'node:net';
import type { HostPort } from '../config/types';

export function listenOn(server: Server, addr: HostPort): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => reject(err);
    server.once('error', onError);
    // "::" listens dual-stack (ipv6Only defaults to false), so IPv4 clients arrive as ::ffff:a.b.c.d.
    server.listen({ host: addr.host, port: addr.port }, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
}
