// The gate's small HTTP helpers: an answer with its headers, and the verification form's body.
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_FORM_BYTES = 16 * 1024;
const FORM_TIMEOUT_MS = 10_000;

export function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, {
    'content-type': type,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    'x-content-type-options': 'nosniff',
    ...extra,
  });
  res.end(body);
}

/** The urlencoded body of the verification form, or the status to refuse it with. */
export function readForm(req: IncomingMessage): Promise<URLSearchParams | 408 | 413> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => done(408), FORM_TIMEOUT_MS);
    const done = (r: URLSearchParams | 408 | 413): void => {
      clearTimeout(timer);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > MAX_FORM_BYTES) return done(413);
      chunks.push(chunk);
    };
    const onEnd = (): void => done(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => done(408));
  });
}
