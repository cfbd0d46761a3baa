// The urlencoded body of a form the proxy answers itself (the login page, the challenge), read
// with a size cap and a deadline: the status to refuse it with otherwise.
import type { IncomingMessage } from 'node:http';

export function readForm(req: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<URLSearchParams | 408 | 413> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => done(408), timeoutMs);
    const done = (r: URLSearchParams | 408 | 413): void => {
      clearTimeout(timer);
      req.removeListener('data', onData);
      req.removeListener('end', onEnd);
      resolve(r);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) return done(413);
      chunks.push(chunk);
    };
    const onEnd = (): void => done(new URLSearchParams(Buffer.concat(chunks).toString('utf8')));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', () => done(408));
  });
}
