// TCP forwarding: dial the upstream only after the client was admitted, then splice both ways.
//
// Per connection: one timer (the upstream's connect timeout, then the client's idle timeout) and
// shared listener functions that find the other side through the socket, no closures.
import net, { type Socket } from 'node:net';
import type { HostPort } from '../config/types';
import { classifySocketError, type UpstreamErrorKind } from './errors';

// Like nginx stream's proxy_timeout default: a connection idle in both directions this long is cut.
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

export interface TcpForwardHooks {
  onUpstreamError(kind: UpstreamErrorKind, err: Error): void;
}

const kOtherSide = Symbol('netbird-proxy.otherSide');
const kHooks = Symbol('netbird-proxy.tcpHooks');
type SplicedSocket = Socket & { [kOtherSide]?: SplicedSocket; [kHooks]?: TcpForwardHooks };

/** Connects client and upstream; half-close is passed through; any error or timeout destroys both. */
export function forwardTcp(client: Socket, target: HostPort, connectTimeoutMs: number, hooks: TcpForwardHooks): void {
  const upstream: SplicedSocket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true });
  const down = client as SplicedSocket;
  upstream[kOtherSide] = down;
  upstream[kHooks] = hooks;
  down[kOtherSide] = upstream;
  upstream.setTimeout(connectTimeoutMs);
  upstream.on('timeout', onConnectTimeout);
  upstream.on('connect', onUpstreamConnected);
  upstream.on('error', onUpstreamError);
  down.on('error', destroyBoth);
  down.on('close', onSideClosed);
  upstream.on('close', onSideClosed);
}

function onUpstreamConnected(this: SplicedSocket): void {
  const client = this[kOtherSide] as SplicedSocket;
  // The client's socket timer is refreshed by its reads (client → upstream) and by its writes
  // (upstream → client), so it alone sees the connection idle in both directions.
  this.setTimeout(0);
  client.setTimeout(IDLE_TIMEOUT_MS);
  client.on('timeout', destroyBoth);
  client.pipe(this);
  this.pipe(client);
}

function onConnectTimeout(this: SplicedSocket): void {
  this[kHooks]?.onUpstreamError('timeout', new Error('connect timed out'));
  destroyBoth.call(this);
}

function onUpstreamError(this: SplicedSocket, err: NodeJS.ErrnoException): void {
  this[kHooks]?.onUpstreamError(classifySocketError(err), err);
  destroyBoth.call(this);
}

function destroyBoth(this: SplicedSocket): void {
  this.destroy();
  this[kOtherSide]?.destroy();
}

/** Once one side is fully closed, the other gets what is still buffered for it, then goes. */
function onSideClosed(this: SplicedSocket): void {
  const other = this[kOtherSide];
  if (other === undefined || other.destroyed) return;
  if (other.writableFinished) {
    other.destroy();
    return;
  }
  other.on('finish', destroySelf);
  other.end();
}

function destroySelf(this: Socket): void {
  this.destroy();
}
