// A well-behaved HTTP/2 client (Node's http2) for end-to-end tests: chooses SNI and the source
// address (127.x.y.z poses as another client), many requests on one session.
import http2 from 'node:http2';
import net from 'node:net';
import tls from 'node:tls';

export interface H2Response {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

export interface H2Client {
  session: http2.ClientHttp2Session;
  /** 'close' seen on the session. */
  closed(): boolean;
  /** The GOAWAY code the server sent, once it did. */
  goaway(): number | undefined;
  get(path: string, headers?: http2.OutgoingHttpHeaders): Promise<H2Response>;
  close(): void;
}

export function connectH2(opts: { port: number; servername: string; from?: string; ca?: string }): Promise<H2Client> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`https://${opts.servername}:${opts.port}`, {
      createConnection: () => {
        const raw = net.connect({ host: '127.0.0.1', port: opts.port, localAddress: opts.from });
        return tls.connect({ socket: raw, servername: opts.servername, ca: opts.ca, rejectUnauthorized: opts.ca !== undefined, ALPNProtocols: ['h2'] });
      },
    });
    let closed = false;
    let goaway: number | undefined;
    session.on('close', () => (closed = true));
    session.on('goaway', (code) => (goaway = code));
    session.on('error', () => undefined);
    session.once('connect', () =>
      resolve({
        session,
        closed: () => closed,
        goaway: () => goaway,
        close: () => session.close(),
        get: (path, headers = {}) =>
          new Promise((res, rej) => {
            const stream = session.request({ ':path': path, ...headers });
            let body = '';
            let head: http2.IncomingHttpHeaders = {};
            stream.setEncoding('utf8');
            stream.on('response', (h) => (head = h));
            stream.on('data', (c: string) => (body += c));
            stream.on('end', () => res({ status: Number(head[':status']), headers: head, body }));
            stream.on('error', rej);
          }),
      }),
    );
    session.once('error', reject);
  });
}
