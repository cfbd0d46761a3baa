// The fuzzer's oracles: a recording upstream, and the comparison of what it received with what the
// proxy routed on (its access entry for the same X-Request-Id). Two parsers' views are compared:
// the proxy's (service, host, path in its access entry) against the upstream's (Node's parser on
// the forwarded bytes) and WHATWG URL's (`new URL(req.url, 'http://' + req.headers.host)`, the
// idiom Node documents for handlers).
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { LogLine } from './daemon';

export interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface RecordingUpstream {
  url: string;
  received: Received[];
  /** What the upstream's parser refused of what the proxy sent it: error code and the bytes. */
  parseErrors: string[];
  close(): Promise<void>;
}

export function startRecordingUpstream(): Promise<RecordingUpstream> {
  const received: Received[] = [];
  const parseErrors: string[] = [];
  const record = (req: http.IncomingMessage): void => void received.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
  const server = http.createServer({ keepAliveTimeout: 5000 }, (req, res) => {
    record(req);
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Socket) => {
    record(req);
    socket.on('error', () => undefined);
    socket.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
  });
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE')
      parseErrors.push(`${err.code ?? err.message}: ${JSON.stringify(err.rawPacket?.toString('latin1').slice(0, 1500))}`);
    socket.destroy();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        received,
        parseErrors,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections();
            server.close(() => r());
          }),
      });
    });
  });
}

/** Which host names each fixture service may be reached under. */
export type RouteCheck = (service: string, hostname: string) => boolean;

const HOP_BY_HOP = ['keep-alive', 'proxy-connection', 'trailer', 'expect'];

/** Violations of the oracles for one request the upstream received; [] when it is sound. */
export function checkReceived(r: Received, entry: LogLine | undefined, routes: RouteCheck): string[] {
  const out: string[] = [];
  if (entry === undefined) return ['no access entry carries its X-Request-Id'];
  if (entry.deny_reason !== '' || entry.service === '')
    out.push(`a refused request reached the upstream (service ${String(entry.service)}, deny_reason ${String(entry.deny_reason)})`);
  const host = r.headers.host;
  if (host === undefined) return [...out, 'no Host'];
  if (entry.host !== host) out.push(`Host differs: proxy logged ${JSON.stringify(entry.host)}, upstream got ${JSON.stringify(host)}`);
  if (entry.path !== r.url) out.push(`target differs: proxy logged ${JSON.stringify(entry.path)}, upstream got ${JSON.stringify(r.url)}`);
  if (!/^(?:[a-z0-9\-._~!$&'()*+,;=]*[a-z0-9\-_~!$&'()*+,;=]|\[[0-9a-f:.]+\])(?::[1-9][0-9]{0,4}|:0)?$/.test(host))
    out.push(`Host not canonical: ${JSON.stringify(host)}`);
  if (r.url !== '*' && (!r.url.startsWith('/') || r.url.startsWith('//') || r.url.startsWith('/\\')))
    out.push(`target not origin-form: ${JSON.stringify(r.url)}`);
  let hostname: string | undefined;
  try {
    hostname = new URL(r.url === '*' ? '/' : r.url, `http://${host}`).hostname;
  } catch (err) {
    out.push(`WHATWG URL cannot parse what the upstream got: ${(err as Error).message}`);
  }
  const routedName = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0];
  if (hostname !== undefined && hostname !== routedName)
    out.push(`WHATWG URL reads host ${JSON.stringify(hostname)}, the proxy routed on ${JSON.stringify(routedName)}`);
  if (!routes(String(entry.service), routedName ?? '')) out.push(`service ${String(entry.service)} does not serve ${JSON.stringify(routedName)}`);
  for (const name of HOP_BY_HOP) if (r.headers[name] !== undefined) out.push(`hop-by-hop ${name} forwarded`);
  const te = r.headers['transfer-encoding'];
  if (te !== undefined && te !== 'chunked') out.push(`Transfer-Encoding forwarded as ${JSON.stringify(te)}`);
  if (r.headers.te !== undefined && r.headers.te !== 'trailers') out.push(`TE forwarded as ${JSON.stringify(r.headers.te)}`);
  const conn = r.headers.connection;
  if (conn !== undefined && !['keep-alive', 'close', 'upgrade'].includes(conn)) out.push(`Connection forwarded as ${JSON.stringify(conn)}`);
  if (r.headers['x-forwarded-for'] === undefined) out.push('the proxy-set X-Forwarded-For is missing');
  return out;
}
