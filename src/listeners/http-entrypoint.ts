// The one HTTP entrypoint: accept → (PROXY header) → client IP → host route → restriction chain
// → forward → access log.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { elapsedMs, metadataOrEmpty, type AccessLog } from '../telemetry/access-log';
import { buildForwardedFor } from '../client-ip/forwarded-for';
import { resolveHttpClientIp } from '../client-ip/resolve';
import type { HostPort } from '../config/types';
import { HttpForwarder, setForwardedHeaders, upgradeStatus } from '../forward/http';
import type { Metrics } from '../telemetry/metrics';
import { evaluate, type ChainContext, type IpMatcher } from '../restrictions/chain';
import type { Verdict } from '../restrictions/types';
import type { HttpServiceRuntime } from '../services';
import { HostRouter } from './host-router';
import { listenOn, closeServer } from './listen';
import { peerOf } from '../client-ip/peer';
import { acceptProxyHeader } from './proxy-header';

export interface HttpEntrypointOptions {
  chain: ChainContext;
  trusted: IpMatcher;
  proxyProtocol: boolean;
  upstreamTimeoutMs: number;
  log: Logger;
  accessLog: AccessLog;
  metrics: Metrics;
}

const FORBIDDEN = 'Forbidden';
const NOT_FOUND = 'Not Found\n';

export class HttpEntrypoint {
  /** Swapped whole on reload; requests already routed keep the service they were given. */
  router = new HostRouter([]);
  private readonly server: http.Server;
  private readonly acceptor: net.Server | undefined;
  private readonly forwarder: HttpForwarder;
  private readonly upgraded = new Set<Duplex>();
  private bound = false;

  constructor(private readonly opts: HttpEntrypointOptions) {
    this.forwarder = new HttpForwarder({
      upstreamTimeoutMs: opts.upstreamTimeoutMs,
      log: opts.log,
      onUpstreamError: (service, kind) => opts.metrics.upstreamError(service, kind),
    });
    this.server = http.createServer((req, res) => this.onRequest(req, res));
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (socket.writable && err.code !== 'ECONNRESET') socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      socket.destroy();
    });
    // With the PROXY protocol, a plain net.Server takes the connection, reads the header from
    // trusted peers, then hands the socket to the HTTP server.
    this.acceptor = opts.proxyProtocol
      ? net.createServer({ pauseOnConnect: true }, (socket) => {
          acceptProxyHeader(socket, opts.trusted, opts.log).then(
            () => {
              this.server.emit('connection', socket);
              socket.resume();
            },
            () => socket.destroy(),
          );
        })
      : undefined;
  }

  get listening(): boolean {
    return this.bound;
  }

  async listen(addr: HostPort): Promise<void> {
    await listenOn(this.acceptor ?? this.server, addr);
    this.bound = true;
  }

  /** Stop accepting, let in-flight requests finish within graceMs, then cut what remains. */
  async close(graceMs: number): Promise<void> {
    this.bound = false;
    for (const socket of this.upgraded) socket.destroy();
    const closing = Promise.all([closeServer(this.server), this.acceptor ? closeServer(this.acceptor) : Promise.resolve()]);
    this.server.closeIdleConnections();
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closing;
    clearTimeout(timer);
    this.forwarder.close();
  }

  /** Route, resolve the client and run the restriction chain; counts the outcome. */
  private admit(req: IncomingMessage): Admission {
    const service = this.router.match(req.headers.host);
    const peer = peerOf(req.socket, this.opts.trusted);
    if (service === undefined) {
      this.opts.metrics.httpRequest('', 'not_found', '');
      return { service, clientIp: peer.address, verdict: undefined };
    }
    const xff = req.headers['x-forwarded-for'];
    const clientIp = peer.trusted && xff !== undefined ? resolveHttpClientIp(peer.address, xff, this.opts.trusted) : peer.address;
    const verdict = evaluate(service.access, clientIp, this.opts.chain, Date.now());
    if (verdict.allowed) {
      this.opts.metrics.httpRequest(service.name, 'allowed', '');
      setForwardedHeaders(req, peer.trusted, buildForwardedFor(xff, peer.address, peer.trusted));
    } else {
      this.opts.metrics.httpRequest(service.name, 'denied', verdict.denyReason);
    }
    return { service, clientIp, verdict };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const startNs = process.hrtime.bigint();
    const admission = this.admit(req);
    if (admission.service === undefined) respond(res, 404, NOT_FOUND);
    else if (!admission.verdict.allowed) respond(res, 403, FORBIDDEN);
    else this.forwarder.web(req, res, admission.service.target);
    res.once('close', () => {
      // Bytes on the connection since the previous request on it ended: request line, headers
      // and body in; status line, headers and body out (nginx's $request_length / $bytes_sent).
      const socket = req.socket as AccountedSocket;
      const seen = socket[kAccounted] ?? { read: 0, written: 0 };
      const bytesIn = socket.bytesRead - seen.read;
      const bytesOut = socket.bytesWritten - seen.written;
      seen.read = socket.bytesRead;
      seen.written = socket.bytesWritten;
      socket[kAccounted] = seen;
      this.logAccess(req, admission, res.statusCode, bytesIn, bytesOut, startNs);
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const startNs = process.hrtime.bigint();
    socket.on('error', () => socket.destroy());
    const admission = this.admit(req);
    let status: number | undefined;
    if (admission.service === undefined) {
      status = 404;
      rejectUpgrade(socket, status, NOT_FOUND);
    } else if (!admission.verdict.allowed) {
      status = 403;
      rejectUpgrade(socket, status, FORBIDDEN);
    } else {
      this.upgraded.add(socket);
      this.forwarder.ws(req, socket, head, admission.service.target);
    }
    socket.once('close', () => {
      this.upgraded.delete(socket);
      this.logAccess(req, admission, status ?? upgradeStatus(req) ?? 101, req.socket.bytesRead, req.socket.bytesWritten, startNs);
    });
  }

  private logAccess(req: IncomingMessage, admission: Admission, status: number, bytesIn: number, bytesOut: number, startNs: bigint): void {
    const verdict = admission.verdict;
    this.opts.accessLog.write({
      service: admission.service?.name ?? '',
      protocol: 'http',
      client_ip: admission.clientIp,
      country: verdict?.country,
      method: req.method,
      host: req.headers.host,
      path: req.url,
      status,
      bytes_in: bytesIn,
      bytes_out: bytesOut,
      duration_ms: elapsedMs(startNs),
      deny_reason: verdict?.denyReason ?? '',
      metadata: metadataOrEmpty(verdict?.metadata),
    });
  }
}

const kAccounted = Symbol('netbird-proxy.accounted');
type AccountedSocket = Socket & { [kAccounted]?: { read: number; written: number } };

type Admission =
  | { service: undefined; clientIp: string; verdict: undefined }
  | { service: HttpServiceRuntime; clientIp: string; verdict: Verdict };

function respond(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function rejectUpgrade(socket: Duplex, status: number, body: string): void {
  const reason = http.STATUS_CODES[status] ?? '';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
