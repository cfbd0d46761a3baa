// TCP forwarding: dial the upstream only after the client was admitted, then splice both ways.
import net, { type Socket } from 'node:net';
import type { HostPort } from '../config/types';
import { classifySocketError, type UpstreamErrorKind } from './errors';

// Like nginx stream's proxy_timeout default: a connection idle in both directions this long is cut.
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

export interface TcpForwardHooks {
  onUpstreamError(kind: UpstreamErrorKind, err: Error): void;
}

/** Connects client and upstream; half-close is passed through; any error or timeout destroys both. */
export function forwardTcp(client: Socket, target: HostPort, connectTimeoutMs: number, hooks: TcpForwardHooks): void {
  const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
  let connected = false;
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  upstream.setTimeout(connectTimeoutMs, () => {
    if (!connected) hooks.onUpstreamError('timeout', new Error('connect timed out'));
    destroyBoth();
  });
  upstream.once('connect', () => {
    connected = true;
    upstream.setTimeout(IDLE_TIMEOUT_MS);
    client.setTimeout(IDLE_TIMEOUT_MS, destroyBoth);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  upstream.on('error', (err: NodeJS.ErrnoException) => {
    hooks.onUpstreamError(classifySocketError(err), err);
    destroyBoth();
  });
  client.on('error', destroyBoth);
  client.once('close', () => closeAfterFlush(upstream));
  upstream.once('close', () => closeAfterFlush(client));
}

/** Once one side is fully closed, the other gets what is still buffered for it, then goes. */
function closeAfterFlush(socket: Socket): void {
  if (socket.destroyed) return;
  if (socket.writableFinished) {
    socket.destroy();
    return;
  }
  socket.once('finish', () => socket.destroy());
  socket.end();
}
