// A GET whose request target goes on the wire exactly as given (no URL parsing, so no
// percent-encoding of <, >, "), to see how the proxy and the admin UI treat hostile paths.
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';

export function rawGet(port: number, host: string, path: string, from = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, localAddress: from, agent: false, headers: { host } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end();
  });
}

export interface RawExchange {
  /** Everything the server sent, as latin1. */
  text: string;
  /** The server closed the connection (rather than the timeout ending the exchange). */
  closed: boolean;
}

export interface RawExchangeOptions {
  from?: string;
  /** TLS with this SNI (certificate not verified). */
  servername?: string;
  /** Resolve as soon as this holds for what was received so far (the socket is then destroyed). */
  until?: (text: string) => boolean;
  timeoutMs?: number;
}

/** Writes `data` exactly as given on a fresh connection and collects the answer until close (or `until`, or the timeout). */
export function rawExchange(port: number, data: string | Buffer, opts: RawExchangeOptions = {}): Promise<RawExchange> {
  return new Promise((resolve) => {
    let text = '';
    let done = false;
    const onConnect = (): void => void s.write(data);
    const s =
      opts.servername === undefined
        ? net.connect({ port, host: '127.0.0.1', localAddress: opts.from }, onConnect)
        : tls.connect(
            { port, host: '127.0.0.1', localAddress: opts.from, servername: opts.servername, rejectUnauthorized: false } as tls.ConnectionOptions,
            onConnect,
          );
    const finish = (closed: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ text, closed });
    };
    const timer = setTimeout(() => finish(false), opts.timeoutMs ?? 10_000);
    s.setEncoding('latin1');
    s.on('data', (c: string) => {
      text += c;
      if (opts.until?.(text) === true) finish(false);
    });
    s.on('error', () => undefined);
    s.on('close', () => finish(true));
  });
}

/** The status of the first response in `text`, or 0. */
export function firstStatus(text: string): number {
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
  return m === null ? 0 : Number(m[1]);
}

/** True once `text` holds a whole response head. */
export function hasHead(text: string): boolean {
  return text.includes('\r\n\r\n');
}
