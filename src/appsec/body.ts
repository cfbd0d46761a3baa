// Reading a client's body for the engine, up to --appsec-max-body, without losing a byte for the
// upstream: a body within the cap is kept whole and replayed; over the cap, what was read is
// replayed and the rest piped after it. Chunked bodies are read the same way (the engine gets an
// exact Content-Length either way).
import type { IncomingMessage } from 'node:http';
import { PassThrough, Readable } from 'node:stream';

export type BodyRead =
  /** No body: nothing to send, nothing to replay. */
  | { kind: 'none' }
  /** The whole body, within the cap. */
  | { kind: 'full'; body: Buffer }
  /** Over the cap: the engine gets headers only; `upstream` is the body to forward. */
  | { kind: 'over'; upstream: Readable | undefined }
  /** The client left or failed while sending it. */
  | { kind: 'aborted' };

/** Whether the request announces a body (a Content-Length above 0, or a Transfer-Encoding). */
export function hasBody(req: IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}

export function readBody(req: IncomingMessage, cap: number): Promise<BodyRead> {
  if (!hasBody(req)) return Promise.resolve({ kind: 'none' });
  const declared = Number(req.headers['content-length']);
  // Declared too large: nothing is read, the request is forwarded as it comes.
  if (req.headers['transfer-encoding'] === undefined && declared > cap) return Promise.resolve({ kind: 'over', upstream: undefined });
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (result: BodyRead): void => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onAbort);
      req.off('close', onAbort);
      resolve(result);
    };
    const onData = (chunk: Buffer): void => {
      chunks.push(chunk);
      size += chunk.length;
      if (size <= cap) return;
      req.pause();
      done({ kind: 'over', upstream: replay(chunks, req) });
    };
    const onEnd = (): void => {
      if (size > cap) return;
      done({ kind: 'full', body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size) });
    };
    const onAbort = (): void => done({ kind: 'aborted' });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onAbort);
    req.on('close', onAbort);
  });
}

/** What was read, then the rest of the request. */
function replay(head: Buffer[], req: IncomingMessage): Readable {
  if (req.readableEnded) return Readable.from(head, { objectMode: false });
  const out = new PassThrough();
  for (const chunk of head) out.write(chunk);
  req.on('error', (err) => out.destroy(err));
  req.pipe(out);
  return out;
}

/** A body kept whole, as the stream http-proxy forwards instead of the (consumed) request. */
export function replayBody(body: Buffer): Readable {
  return Readable.from([body], { objectMode: false });
}
