// The one HTTP entrypoint: accept → (PROXY header) → client IP → host route → restriction chain
// → forward → access log.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { elapsedMs, metadataOrEmpty, writeAccess } from '../access-log';
import { buildForwardedFor } from '../client-ip/forwarded-for';
import { resolveHttpClientIp } from '../client-ip/resolve';
import type { HostPort } from '../config/types';
import { HttpForwarder, setForwardedHeaders } from '../forward/http';
import type { Metrics } from '../metrics';
import { evaluate, type ChainContext, type IpMatcher } from '../restrictions/chain';
import type { Verdict } from '../restrictions/types';
import type { HttpServiceRuntime } from '../services';
import { HostRouter } from './host-router';
import { listenOn, closeServer } from './listen';
import { peerOf, type PeerInfo } from './peer';
import { acceptProxyHeader } from './proxy-header';

export interface HttpEntrypointOptions {
  chain: ChainContext;
  trusted: IpMatcher;
  proxyProtocol: boolean;
  upstreamTimeoutMs: number;
  log: Logger;
  accessLog: Logger;
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

  private admit(req: IncomingMessage, service: HttpServiceRuntime): { peer: PeerInfo; clientIp: string; verdict: Verdict } {
    const peer = peerOf(req.socket, this.opts.trusted);
    const xff = req.headers['x-forwarded-for'];
    const clientIp = peer.trusted && xff !== undefined ? resolveHttpClientIp(peer.address, xff, this.opts.trusted) : peer.address;
    const verdict = evaluate(service.access, clientIp, this.opts.chain, Date.now());
    return { peer, clientIp, verdict };
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const startNs = process.hrtime.bigint();
    const socket = req.socket;
    const readBefore = socket.bytesRead;
    const writtenBefore = socket.bytesWritten;
    const service = this.router.match(req.headers.host);
    let clientIp: string;
    let verdict: Verdict | undefined;
    if (service === undefined) {
      clientIp = peerOf(socket, this.opts.trusted).address;
      this.opts.metrics.httpRequest('', 'not_found', '');
      respond(res, 404, NOT_FOUND);
    } else {
      const admitted = this.admit(req, service);
      clientIp = admitted.clientIp;
      verdict = admitted.verdict;
      if (!verdict.allowed) {
        this.opts.metrics.httpRequest(service.name, 'denied', verdict.denyReason);
        respond(res, 403, FORBIDDEN);
      } else {
        this.opts.metrics.httpRequest(service.name, 'allowed', '');
        const peer = admitted.peer;
        setForwardedHeaders(req, peer.trusted, buildForwardedFor(req.headers['x-forwarded-for'], peer.address, peer.trusted));
        this.forwarder.web(req, res, service.target);
      }
    }
    res.once('close', () => {
      writeAccess(this.opts.accessLog, {
        service: service?.name ?? '',
        protocol: 'http',
        client_ip: clientIp,
        country: verdict?.country,
        method: req.method,
        host: req.headers.host,
        path: req.url,
        status: res.statusCode,
        bytes_in: socket.bytesRead - readBefore,
        bytes_out: socket.bytesWritten - writtenBefore,
        duration_ms: elapsedMs(startNs),
        deny_reason: verdict?.denyReason ?? '',
        metadata: metadataOrEmpty(verdict?.metadata),
      });
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const startNs = process.hrtime.bigint();
    socket.on('error', () => socket.destroy());
    const service = this.router.match(req.headers.host);
    const netSocket = req.socket;
    let clientIp = peerOf(netSocket, this.opts.trusted).address;
    let verdict: Verdict | undefined;
    let status = 101;
    if (service === undefined) {
      status = 404;
      this.opts.metrics.httpRequest('', 'not_found', '');
      rejectUpgrade(socket, 404, NOT_FOUND);
    } else {
      const admitted = this.admit(req, service);
      clientIp = admitted.clientIp;
      verdict = admitted.verdict;
      if (!verdict.allowed) {
        status = 403;
        this.opts.metrics.httpRequest(service.name, 'denied', verdict.denyReason);
        rejectUpgrade(socket, 403, FORBIDDEN);
      } else {
        this.opts.metrics.httpRequest(service.name, 'allowed', '');
        const peer = admitted.peer;
        setForwardedHeaders(req, peer.trusted, buildForwardedFor(req.headers['x-forwarded-for'], peer.address, peer.trusted));
        this.upgraded.add(socket);
        this.forwarder.ws(req, socket, head, service.target);
      }
    }
    socket.once('close', () => {
      this.upgraded.delete(socket);
      writeAccess(this.opts.accessLog, {
        service: service?.name ?? '',
        protocol: 'http',
        client_ip: clientIp,
        country: verdict?.country,
        method: req.method,
        host: req.headers.host,
        path: req.url,
        status,
        bytes_in: netSocket.bytesRead,
        bytes_out: netSocket.bytesWritten,
        duration_ms: elapsedMs(startNs),
        deny_reason: verdict?.denyReason ?? '',
        metadata: metadataOrEmpty(verdict?.metadata),
      });
    });
  }
}

function respond(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function rejectUpgrade(socket: Duplex, status: number, body: string): void {
  const reason = http.STATUS_CODES[status] ?? '';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
