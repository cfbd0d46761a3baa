// PROXY protocol on accept: a trusted peer's header (v1 or v2) is read off the freshly accepted
// socket before any other consumer sees its bytes. For an untrusted peer the header is never read:
// its bytes are payload, so a forged header just reaches the upstream (TCP) or fails as a bad HTTP
// request (HTTP).
//
// The socket is read in paused mode (a 'readable' listener + read()), and the bytes
// after the header are put back with unshift(), so the next consumer — socket.pipe()
// for TCP, or `httpServer.emit('connection', socket)` for HTTP — sees exactly the
// payload, in order. No 'data' listener is ever added, so the socket is never put in
// flowing mode by us: once our 'readable' listener is removed, the first consumer to
// add a 'data' listener (or call pipe/resume) starts the flow as on a fresh socket.
//
// On timeout, invalid header, or the socket ending/closing/erroring first, the promise
// rejects with a ProxyHeaderError and our listeners are removed; the caller destroys
// the socket.

import type * as net from 'net';
import type { IpSet } from '../net/ip-set';
import { peerAt, toClientAddress, type ClientAddress, type Peer } from './peer';
import { parseProxyHeader } from './proxy-protocol';

/**
 * The peer of a connection from a trusted balancer, as its PROXY header says. A header without a
 * source (v1 UNKNOWN, v2 LOCAL or UNSPEC/UNIX) makes the balancer itself the client, and its
 * forwarded headers are not believed for this connection: an L4 balancer never writes
 * X-Forwarded-For, so one arriving inside such a connection comes from the client. Rejects (the
 * caller closes the connection) on timeout, an invalid header, or the connection going first.
 */
export async function peerFromProxyHeader(socket: net.Socket, balancer: Peer, trusted: IpSet, timeoutMs: number): Promise<Peer> {
  const { address } = await readProxyHeader(socket, timeoutMs);
  return address === undefined ? { address: balancer.address, trusted: false } : peerAt(address, trusted);
}

export type ProxyHeaderErrorCode = 'timeout' | 'invalid' | 'closed' | 'socket_error';

export class ProxyHeaderError extends Error {
  readonly code: ProxyHeaderErrorCode;
  constructor(code: ProxyHeaderErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProxyHeaderError';
    this.code = code;
  }
}

/**
 * Resolves with the header's source address, normalised (::ffff:1.2.3.4 -> 1.2.3.4), or
 * `undefined` when the header carries none (v1 UNKNOWN, v2 LOCAL, v2 UNSPEC/UNIX): the
 * caller then makes the balancer itself the client (see peerFromProxyHeader).
 */
export function readProxyHeader(socket: net.Socket, timeoutMs: number): Promise<{ address: ClientAddress | undefined }> {
  return new Promise((resolve, reject) => {
    if (socket.destroyed || socket.readableEnded) {
      reject(new ProxyHeaderError('closed', 'connection closed before the PROXY header'));
      return;
    }

    let pending: Buffer = Buffer.alloc(0);
    let settled = false;

    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      socket.removeListener('readable', onReadable);
      socket.removeListener('end', onEnd);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
    };

    const fail = (err: ProxyHeaderError): void => {
      if (settled) return;
      cleanup();
      reject(err);
    };

    const onReadable = (): void => {
      while (!settled) {
        const chunk: unknown = socket.read();
        if (chunk === null) return;
        if (!Buffer.isBuffer(chunk)) {
          fail(new ProxyHeaderError('invalid', 'socket has an encoding set; cannot read a PROXY header'));
          return;
        }
        // Bounded: the parser answers 'invalid' past 107 bytes (v1) or 65551 bytes (v2).
        pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
        const buf = pending;
        const r = parseProxyHeader(buf);
        if (r.kind === 'incomplete') continue;
        if (r.kind === 'invalid') {
          fail(new ProxyHeaderError('invalid', `invalid PROXY header: ${r.reason}`));
          return;
        }
        cleanup();
        const rest = buf.subarray(r.headerLength);
        // Put the payload back in front of anything still buffered, for the next consumer.
        if (rest.length > 0) socket.unshift(rest);
        resolve({ address: r.source ? toClientAddress(r.source.address) : undefined });
        return;
      }
    };

    const onEnd = (): void => fail(new ProxyHeaderError('closed', 'connection ended before the PROXY header was complete'));
    const onClose = (): void => fail(new ProxyHeaderError('closed', 'connection closed before the PROXY header was complete'));
    const onError = (err: Error): void =>
      fail(new ProxyHeaderError('socket_error', `socket error while reading the PROXY header: ${err.message}`, { cause: err }));

    const timer = setTimeout(() => {
      fail(new ProxyHeaderError('timeout', `no complete PROXY header within ${timeoutMs} ms`));
    }, timeoutMs);

    socket.on('readable', onReadable);
    socket.on('end', onEnd);
    socket.on('close', onClose);
    socket.on('error', onError);
  });
}
