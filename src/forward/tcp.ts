// TCP forwarding: dial the upstream only after the client was admitted, then splice both ways.
//
// Per connection: one timer (the upstream's connect timeout, then the client's idle timeout) and
// shared listener functions that find the other side through the socket, no closures.
// Upstream → client (the direction downloads take) reads into reused, growing buffers (`onread`,
// read-buffers.ts) instead of pipe()'s fresh 64 KiB per read; client → upstream is a pipe(), since an
// accepted socket cannot be given `onread`.
import net, { type Socket } from 'node:net';
import type { HostPort } from '../config/types';
import { classifySocketError, type UpstreamErrorKind } from './errors';
import { MIN_READ, nextReadSize, releaseBuffer, takeBuffer } from './read-buffers';

// Like nginx stream's proxy_timeout default: a connection idle in both directions this long is cut.
const IDLE_TIMEOUT_MS = 10 * 60 * 1000;

export interface TcpForwardHooks {
  onUpstreamError(kind: UpstreamErrorKind, err: Error): void;
  /** Several targets: the connection failed before anything was sent; another target to dial, or undefined. */
  redial?(kind: UpstreamErrorKind): HostPort | undefined;
  onConnected?(): void;
}

const kOtherSide = Symbol('netbird-proxy.otherSide');
const kHooks = Symbol('netbird-proxy.tcpHooks');
/** Read buffers whose writes to the client are still pending (on the upstream socket). */
const kHeld = Symbol('netbird-proxy.heldBuffers');
/** Reading stopped by onUpstreamData returning false (net does not mark the stream paused for it). */
const kStalled = Symbol('netbird-proxy.stalled');
const kConnectTimeout = Symbol('netbird-proxy.connectTimeout');
/** The buffer net reads the upstream's next bytes into: back to the pool once the socket is closed. */
const kReading = Symbol('netbird-proxy.readingInto');
type SplicedSocket = Socket & {
  [kReading]?: Buffer;
  [kOtherSide]?: SplicedSocket;
  [kHooks]?: TcpForwardHooks;
  [kHeld]?: Buffer[];
  [kStalled]?: boolean;
  [kConnectTimeout]?: number;
};

/**
 * The buffer for the upstream socket's next read. net calls `buffer()` without the socket, right
 * after `callback` (which sets it) returns; at the socket's creation it is unset and a small one is given.
 */
let nextBuffer: Buffer | undefined;
/** The buffer nextReadBuffer() gave last: the new socket's, right after net.connect() returns. */
let handed: Buffer | undefined;
const UPSTREAM_READS = { buffer: nextReadBuffer, callback: onUpstreamData };

/** Connects client and upstream; half-close is passed through; any error or timeout destroys both. */
export function forwardTcp(client: Socket, target: HostPort, connectTimeoutMs: number, hooks: TcpForwardHooks): void {
  const down = client as SplicedSocket;
  dial(down, target, connectTimeoutMs, hooks);
  down.on('error', destroyBoth);
  down.on('close', onSideClosed);
}

function dial(down: SplicedSocket, target: HostPort, connectTimeoutMs: number, hooks: TcpForwardHooks): void {
  handed = undefined;
  const upstream: SplicedSocket = net.connect({ host: target.host, port: target.port, allowHalfOpen: true, noDelay: true, onread: UPSTREAM_READS });
  // net gives the new handle its first buffer inside connect(); if a Node version did that later,
  // `handed` stays unset here and the first read's callback records it instead.
  upstream[kReading] = handed;
  handed = undefined;
  upstream[kOtherSide] = down;
  upstream[kHooks] = hooks;
  upstream[kConnectTimeout] = connectTimeoutMs;
  down[kOtherSide] = upstream;
  upstream.setTimeout(connectTimeoutMs);
  upstream.on('timeout', onConnectTimeout);
  upstream.on('connect', onUpstreamConnected);
  upstream.on('error', onUpstreamError);
  upstream.on('close', onSideClosed);
}

/** A connect that failed (nothing was sent yet): dials the next target when the hooks give one. */
function redialed(upstream: SplicedSocket, kind: UpstreamErrorKind): boolean {
  const hooks = upstream[kHooks];
  const down = upstream[kOtherSide];
  if (hooks?.redial === undefined || down === undefined || down.destroyed || upstream[kConnectTimeout] === undefined) return false;
  const next = hooks.redial(kind);
  if (next === undefined) return false;
  upstream[kOtherSide] = undefined;
  upstream.destroy();
  dial(down, next, upstream[kConnectTimeout], hooks);
  return true;
}

function onUpstreamConnected(this: SplicedSocket): void {
  const client = this[kOtherSide] as SplicedSocket;
  this[kConnectTimeout] = undefined;
  this[kHooks]?.onConnected?.();
  // The client's socket timer is refreshed by its reads (client → upstream) and by its writes
  // (upstream → client), so it alone sees the connection idle in both directions.
  this.setTimeout(0);
  client.setTimeout(IDLE_TIMEOUT_MS);
  client.on('timeout', destroyBoth);
  client.on('drain', onClientDrained);
  this.on('end', onUpstreamEnded);
  client.pipe(this);
}

function nextReadBuffer(): Buffer {
  const buf = nextBuffer ?? takeBuffer(MIN_READ);
  nextBuffer = undefined;
  handed = buf;
  return buf;
}

/** One read from the upstream: written to the client; false pauses reading until the client drains. */
function onUpstreamData(this: SplicedSocket, n: number, buf: Buffer): boolean {
  const client = this[kOtherSide];
  if (client === undefined || client.destroyed) {
    nextBuffer = buf; // the client is gone: the rest is discarded while both are closed
    return true;
  }
  const held = this[kHeld];
  if (held !== undefined && held.length > 0 && client.writableLength === 0) releaseHeld(held);
  const more = client.write(buf.subarray(0, n));
  const size = nextReadSize(n, buf.length);
  if (client.writableLength === 0 && size === buf.length) {
    nextBuffer = buf; // written through to the kernel already: the same buffer takes the next read
  } else {
    if (client.writableLength === 0) releaseBuffer(buf);
    else (this[kHeld] ??= []).push(buf);
    nextBuffer = takeBuffer(size);
  }
  this[kReading] = nextBuffer; // net takes it for the next read as soon as this returns
  if (!more) this[kStalled] = true;
  return more;
}

function onClientDrained(this: SplicedSocket): void {
  const upstream = this[kOtherSide];
  if (upstream === undefined) return;
  const held = upstream[kHeld];
  if (held !== undefined) releaseHeld(held);
  if (upstream[kStalled] === true && !upstream.destroyed) {
    upstream[kStalled] = false;
    upstream.resume();
  }
}

function releaseHeld(held: Buffer[]): void {
  for (const buf of held) releaseBuffer(buf);
  held.length = 0;
}

/** The upstream finished sending: so does the client's side (half-close), once its writes are out. */
function onUpstreamEnded(this: SplicedSocket): void {
  this[kOtherSide]?.end();
}

function onConnectTimeout(this: SplicedSocket): void {
  this[kHooks]?.onUpstreamError('timeout', new Error('connect timed out'));
  if (!redialed(this, 'timeout')) destroyBoth.call(this);
}

function onUpstreamError(this: SplicedSocket, err: NodeJS.ErrnoException): void {
  const kind = classifySocketError(err);
  this[kHooks]?.onUpstreamError(kind, err);
  if (!redialed(this, kind)) destroyBoth.call(this);
}

function destroyBoth(this: SplicedSocket): void {
  this.destroy();
  this[kOtherSide]?.destroy();
}

/** Once one side is fully closed, the other gets what is still buffered for it, then goes. */
function onSideClosed(this: SplicedSocket): void {
  const reading = this[kReading];
  if (reading !== undefined) {
    // Only the upstream has one; its handle is closed, so nothing reads into it any more. Without
    // this, every connection would allocate a fresh first buffer (off-heap, which also brings GC on).
    this[kReading] = undefined;
    releaseBuffer(reading);
  }
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
