// A tiny HTTP/2 frame writer and reader (RFC 9113 section 4, HPACK RFC 7541 without Huffman), to
// drive the proxy with frames no well-behaved client library would send: floods, resets, endless
// CONTINUATION, header blocks that decode to far more than they weigh.
import net from 'node:net';
import tls from 'node:tls';

export const FRAME = {
  DATA: 0,
  HEADERS: 1,
  PRIORITY: 2,
  RST_STREAM: 3,
  SETTINGS: 4,
  PUSH_PROMISE: 5,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4, PADDED: 0x8, PRIORITY: 0x20 } as const;
export const ERROR = {
  NO_ERROR: 0,
  PROTOCOL_ERROR: 1,
  INTERNAL_ERROR: 2,
  FLOW_CONTROL_ERROR: 3,
  REFUSED_STREAM: 7,
  CANCEL: 8,
  COMPRESSION_ERROR: 9,
  ENHANCE_YOUR_CALM: 11,
} as const;
export const SETTING = {
  HEADER_TABLE_SIZE: 1,
  ENABLE_PUSH: 2,
  MAX_CONCURRENT_STREAMS: 3,
  INITIAL_WINDOW_SIZE: 4,
  MAX_FRAME_SIZE: 5,
  MAX_HEADER_LIST_SIZE: 6,
} as const;

export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export function frame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export function settings(values: Array<[number, number]> = [], ack = false): Buffer {
  const payload = Buffer.alloc(values.length * 6);
  values.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, ack ? FLAG.ACK : 0, 0, payload);
}

export function ping(data = Buffer.alloc(8)): Buffer {
  return frame(FRAME.PING, 0, 0, data);
}

export function rstStream(streamId: number, code: number = ERROR.CANCEL): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(code);
  return frame(FRAME.RST_STREAM, 0, streamId, p);
}

export function windowUpdate(streamId: number, increment: number): Buffer {
  const p = Buffer.alloc(4);
  p.writeUInt32BE(increment);
  return frame(FRAME.WINDOW_UPDATE, 0, streamId, p);
}

/** HPACK integer with an N-bit prefix (RFC 7541 section 5.1). */
export function hpackInt(value: number, prefixBits: number, firstByteFlags: number): Buffer {
  const max = (1 << prefixBits) - 1;
  if (value < max) return Buffer.from([firstByteFlags | value]);
  const out = [firstByteFlags | max];
  let v = value - max;
  while (v >= 128) {
    out.push((v % 128) + 128);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return Buffer.from(out);
}

function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7, 0), bytes]);
}

/** A literal header field without indexing, new name (RFC 7541 section 6.2.2). */
export function literal(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

/** A literal header field with incremental indexing, new name: it enters the dynamic table (index 62). */
export function literalIndexed(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x40]), hpackString(name), hpackString(value)]);
}

/** An indexed header field (RFC 7541 section 6.1): one byte for indexes below 127. */
export function indexed(index: number): Buffer {
  return hpackInt(index, 7, 0x80);
}

/** A GET request's header block for `authority` and `path`, plus extra literal fields. */
export function requestBlock(authority: string, path: string, extra: Array<[string, string]> = []): Buffer {
  return Buffer.concat([
    indexed(2), // :method GET
    indexed(7), // :scheme https
    literal(':path', path),
    literal(':authority', authority),
    ...extra.map(([n, v]) => literal(n, v)),
  ]);
}

export function headers(streamId: number, block: Buffer, flags: number = FLAG.END_HEADERS | FLAG.END_STREAM): Buffer {
  return frame(FRAME.HEADERS, flags, streamId, block);
}

export function continuation(streamId: number, block: Buffer, end = false): Buffer {
  return frame(FRAME.CONTINUATION, end ? FLAG.END_HEADERS : 0, streamId, block);
}

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** A raw HTTP/2 connection over TLS (ALPN h2): what it wrote, what came back, when it closed. */
export interface RawH2 {
  socket: tls.TLSSocket;
  frames: Frame[];
  /** The GOAWAY error code, once one arrived. */
  goaway(): number | undefined;
  closed(): boolean;
  write(data: Buffer): boolean;
  /** Stops reading from the socket (the TCP window closes once the buffers fill). */
  pauseReading(): void;
  resumeReading(): void;
}

export function connectRawH2(opts: { port: number; servername: string; from?: string; sendPreface?: boolean }): Promise<RawH2> {
  return new Promise((resolve, reject) => {
    const raw = net.connect({ host: '127.0.0.1', port: opts.port, localAddress: opts.from });
    raw.once('error', reject);
    const socket = tls.connect({ socket: raw, servername: opts.servername, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
    const frames: Frame[] = [];
    let pending: Buffer = Buffer.alloc(0);
    let closed = false;
    let goaway: number | undefined;
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 9) {
        const length = pending.readUIntBE(0, 3);
        if (pending.length < 9 + length) break;
        const f: Frame = {
          type: pending[3] as number,
          flags: pending[4] as number,
          streamId: pending.readUInt32BE(5) & 0x7fffffff,
          payload: pending.subarray(9, 9 + length),
        };
        pending = pending.subarray(9 + length);
        // Keep the count bounded for the floods: only frames that tests look at are kept.
        if (f.type !== FRAME.PING && f.type !== FRAME.SETTINGS) frames.push(f);
        if (f.type === FRAME.GOAWAY) goaway = f.payload.readUInt32BE(4);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => (closed = true));
    socket.once('secureConnect', () => {
      if (socket.alpnProtocol !== 'h2') {
        socket.destroy();
        reject(new Error(`ALPN gave ${String(socket.alpnProtocol)}, not h2`));
        return;
      }
      if (opts.sendPreface !== false) socket.write(Buffer.concat([PREFACE, settings()]));
      resolve({
        socket,
        frames,
        goaway: () => goaway,
        closed: () => closed,
        write: (data) => socket.write(data),
        pauseReading: () => {
          socket.pause();
          raw.pause();
        },
        resumeReading: () => {
          raw.resume();
          socket.resume();
        },
      });
    });
  });
}
