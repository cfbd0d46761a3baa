// Reads a TLS ClientHello off a socket without consuming it (the bytes are put back with unshift),
// to see the server name and the ALPN protocols before choosing who completes the handshake:
// Node picks the certificate in SNICallback, which does not see ALPN, and tls-alpn-01 must answer
// "acme-tls/1" connections with a different certificate for the same name.
import type { Socket } from 'node:net';

export interface ClientHelloInfo {
  serverName: string | undefined;
  alpn: string[];
}

const RECORD_HANDSHAKE = 22;
const HANDSHAKE_CLIENT_HELLO = 1;
const EXT_SERVER_NAME = 0;
const EXT_ALPN = 16;
/** A ClientHello larger than this is not worth waiting for (TLS allows 2^24, browsers send < 2 KiB). */
const MAX_HELLO_BYTES = 64 * 1024;

type Parsed = { done: true; info: ClientHelloInfo | undefined } | { done: false };

class Reader {
  constructor(
    private readonly b: Buffer,
    public pos = 0,
    private readonly end = b.length,
  ) {}

  left(): number {
    return this.end - this.pos;
  }

  u8(): number {
    if (this.left() < 1) throw new RangeError('short');
    return this.b.readUInt8(this.pos++);
  }

  u16(): number {
    if (this.left() < 2) throw new RangeError('short');
    const v = this.b.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  bytes(n: number): Buffer {
    if (this.left() < n) throw new RangeError('short');
    const v = this.b.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}

/** The handshake bytes carried by the leading handshake records, or undefined when not TLS. */
function handshakeBytes(buf: Buffer): Buffer | undefined {
  const parts: Buffer[] = [];
  let pos = 0;
  while (pos + 5 <= buf.length) {
    if (buf[pos] !== RECORD_HANDSHAKE) return parts.length === 0 ? undefined : Buffer.concat(parts);
    const len = buf.readUInt16BE(pos + 3);
    if (pos + 5 + len > buf.length) {
      parts.push(buf.subarray(pos + 5));
      break;
    }
    parts.push(buf.subarray(pos + 5, pos + 5 + len));
    pos += 5 + len;
  }
  if (parts.length === 0 && buf.length > 0 && buf[0] !== RECORD_HANDSHAKE) return undefined;
  return Buffer.concat(parts);
}

/** Parses what has arrived so far; `done: false` means more bytes are needed. */
export function parseClientHello(buf: Buffer): Parsed {
  const hs = handshakeBytes(buf);
  if (hs === undefined) return { done: true, info: undefined };
  if (hs.length < 4) return { done: false };
  if (hs[0] !== HANDSHAKE_CLIENT_HELLO) return { done: true, info: undefined };
  const len = hs.readUIntBE(1, 3);
  if (hs.length < 4 + len) return { done: false };
  try {
    return { done: true, info: parseHelloBody(new Reader(hs, 4, 4 + len)) };
  } catch {
    return { done: true, info: undefined };
  }
}

function parseHelloBody(r: Reader): ClientHelloInfo {
  r.bytes(2 + 32); // legacy_version, random
  r.bytes(r.u8()); // session id
  r.bytes(r.u16()); // cipher suites
  r.bytes(r.u8()); // compression methods
  const info: ClientHelloInfo = { serverName: undefined, alpn: [] };
  if (r.left() === 0) return info;
  const extEnd = r.u16() + r.pos;
  while (r.pos + 4 <= extEnd) {
    const type = r.u16();
    const body = new Reader(r.bytes(r.u16()));
    if (type === EXT_SERVER_NAME) {
      const listEnd = body.u16() + body.pos;
      while (body.pos < listEnd) {
        const nameType = body.u8();
        const name = body.bytes(body.u16());
        if (nameType === 0) info.serverName = name.toString('ascii');
      }
    } else if (type === EXT_ALPN) {
      const listEnd = body.u16() + body.pos;
      while (body.pos < listEnd) info.alpn.push(body.bytes(body.u8()).toString('ascii'));
    }
  }
  return info;
}

/**
 * Waits for the ClientHello, puts every byte read back on the socket, and resolves with what it
 * says (undefined when the peer does not speak TLS). The socket is left paused.
 */
export function peekClientHello(socket: Socket, timeoutMs: number): Promise<ClientHelloInfo | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const finish = (err: Error | undefined, info?: ClientHelloInfo): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onError);
      socket.pause();
      if (chunks.length > 0) socket.unshift(Buffer.concat(chunks));
      if (err !== undefined) reject(err);
      else resolve(info);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      const parsed = parseClientHello(chunks.length === 1 ? chunk : Buffer.concat(chunks));
      if (parsed.done) finish(undefined, parsed.info);
      else if (size > MAX_HELLO_BYTES) finish(undefined, undefined);
    };
    const onEnd = (): void => finish(new Error('connection closed before the TLS ClientHello'));
    const onError = (err: Error): void => finish(err);
    const timer = setTimeout(() => finish(new Error(`no TLS ClientHello within ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', onData);
    socket.once('end', onEnd);
    socket.once('error', onError);
    socket.resume();
  });
}
