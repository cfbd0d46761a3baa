// Read a PROXY protocol header (v1 or v2) off a freshly accepted socket, before any
// other consumer sees its bytes.
//
// Only call this for a peer inside --trusted-proxies. For an untrusted peer the
// connection is treated as plain: its bytes are payload, so a forged header just
// reaches the upstream (TCP) or fails as a bad HTTP request (HTTP).
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
import { parseProxyHeader } from './proxy-protocol';
import { clientIpFromPeer } from './resolve';

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
 * caller then keeps the socket peer as the client.
 */
export function readProxyHeader(socket: net.Socket, timeoutMs: number): Promise<{ address: string | undefined }> {
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
        resolve({ address: r.source ? clientIpFromPeer(r.source.address) || undefined : undefined });
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
