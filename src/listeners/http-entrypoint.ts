// The one HTTP entrypoint: accept (peer, PROXY header) → client IP → host route → restriction
// chain → forward → access log.
//
// Every connection takes the same path, with or without the PROXY protocol: a plain net.Server
// accepts it, the peer is settled (src/client-ip/accept.ts), then the socket is handed to an
// http.Server that is never bound itself. That server is told it is listening once, so that
// Node's connection tracking runs for it: header and request timeouts, idle closing and the
// shutdown grace apply to every connection.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { acceptConnection } from '../client-ip/accept';
import { peerOf, type Peer } from '../client-ip/peer';
import type { HostPort } from '../config/types';
import { HttpForwarder, upgradeStatus, upstreamErrorOf } from '../forward/http';
import { rejectUpgrade, respond } from '../forward/responses';
import type { IpSet } from '../net/ip-set';
import type { ChainContext } from '../restrictions/chain';
import { metadataOrEmpty, type AccessLog } from '../telemetry/access-log';
import type { Metrics } from '../telemetry/metrics';
import { admitRequest, requestAccessEntry, type Admission, type AdmissionContext } from './admission';
import { HostRouter } from './host-router';
import { closeServer, listenOn } from './listen';
import { OpenConnection, type OpenConnections } from './open-connections';

export interface HttpEntrypointOptions {
  chain: ChainContext;
  trusted: IpSet;
  proxyProtocol: boolean;
  upstreamTimeoutMs: number;
  headerTimeoutMs: number;
  maxHeaderSize: number;
  log: Logger;
  accessLog: AccessLog;
  metrics: Metrics;
  open: OpenConnections;
}

/** nginx's status for a client that closed the connection before the response was sent. */
const CLIENT_CLOSED_REQUEST = 499;

export class HttpEntrypoint implements AdmissionContext {
  /** Swapped whole on reload; requests already routed keep the service they were given. */
  router = new HostRouter([]);
  private readonly server: http.Server;
  private readonly acceptor: net.Server;
  private readonly forwarder: HttpForwarder;
  private readonly upgraded = new Set<Duplex>();
  private bound = false;
  readonly trusted: IpSet;
  readonly chain: ChainContext;
  readonly metrics: Metrics;

  constructor(private readonly opts: HttpEntrypointOptions) {
    this.trusted = opts.trusted;
    this.chain = opts.chain;
    this.metrics = opts.metrics;
    this.forwarder = new HttpForwarder({
      upstreamTimeoutMs: opts.upstreamTimeoutMs,
      log: opts.log,
      onUpstreamError: (service, kind) => opts.metrics.upstreamError(service, kind),
    });
    this.server = http.createServer(
      {
        headersTimeout: opts.headerTimeoutMs,
        // The whole request may take as long as the upstream may: a long upload is not an attack.
        requestTimeout: 0,
        maxHeaderSize: opts.maxHeaderSize,
        connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(opts.headerTimeoutMs / 4))),
      },
      (req, res) => this.onRequest(req, res),
    );
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket as Socket));
    this.server.emit('listening');
    this.acceptor = net.createServer({ pauseOnConnect: true }, (socket) =>
      acceptConnection(
        socket,
        { trusted: opts.trusted, proxyProtocol: opts.proxyProtocol, log: opts.log, onDrop: (reason) => opts.metrics.connectionDropped('http', reason) },
        (accepted) => {
          this.server.emit('connection', accepted);
          accepted.resume();
        },
      ),
    );
  }

  get listening(): boolean {
    return this.bound;
  }

  async listen(addr: HostPort): Promise<void> {
    await listenOn(this.acceptor, addr);
    this.bound = true;
  }

  /** Stop accepting, let in-flight requests finish within graceMs, then cut what remains. */
  async close(graceMs: number): Promise<void> {
    this.bound = false;
    for (const socket of this.upgraded) socket.destroy();
    // The acceptor's close completes once every connection it accepted has ended.
    const closing = closeServer(this.acceptor);
    // Stops Node's connection tracking and closes idle keep-alive connections.
    this.server.close(() => undefined);
    const timer = setTimeout(() => this.server.closeAllConnections(), graceMs);
    await closing;
    clearTimeout(timer);
    this.forwarder.close();
  }

  private admit(req: IncomingMessage): Admission {
    // Every socket reaches the HTTP server through acceptConnection, which attached its peer.
    const peer = peerOf(req.socket) as Peer;
    return admitRequest(this, req, peer, 'http', req.socket.localPort ?? 0);
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const startNs = process.hrtime.bigint();
    const admission = this.admit(req);
    if (admission.service === undefined) respond(res, 404);
    else if (!admission.verdict.allowed) respond(res, 403);
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
      const upstreamError = upstreamErrorOf(req);
      const status = !res.writableFinished && upstreamError === undefined ? CLIENT_CLOSED_REQUEST : res.statusCode;
      this.opts.accessLog.write(requestAccessEntry(req, admission, status, bytesIn, bytesOut, startNs, upstreamError));
    });
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const startNs = process.hrtime.bigint();
    socket.on('error', () => socket.destroy());
    const admission = this.admit(req);
    let status: number | undefined;
    if (admission.service === undefined) {
      status = 404;
      rejectUpgrade(socket, status);
    } else if (!admission.verdict.allowed) {
      status = 403;
      rejectUpgrade(socket, status);
    } else {
      this.upgraded.add(socket);
      const conn = new OpenConnection('http', admission.service.name, admission.clientIp, admission.verdict, socket);
      this.opts.open.track(conn, socket);
      this.forwarder.ws(req, socket, head, admission.service.target);
      socket.once('close', () => (admission.verdict = conn.verdict));
    }
    socket.once('close', () => {
      this.upgraded.delete(socket);
      this.opts.accessLog.write(
        requestAccessEntry(req, admission, status ?? upgradeStatus(req) ?? 101, req.socket.bytesRead, req.socket.bytesWritten, startNs, upstreamErrorOf(req)),
      );
    });
  }

  /**
   * A request Node's parser refused or timed out: answer it as nginx would and log it with the
   * client's address, so that CrowdSec's scenarios see bad requests.
   */
  private onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
    const status = clientErrorStatus(err);
    if (status !== undefined && socket.writable && !socket.destroyed) {
      socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    }
    socket.destroy();
    if (status === undefined) return;
    const peer = peerOf(socket);
    if (peer === undefined) return;
    this.opts.metrics.httpRequest('', 'bad_request', '');
    this.opts.accessLog.write({
      service: '',
      protocol: 'http',
      client_ip: peer.address,
      status,
      bytes_in: socket.bytesRead,
      bytes_out: socket.bytesWritten,
      duration_ms: 0,
      deny_reason: '',
      metadata: metadataOrEmpty(undefined),
    });
  }

}

/** 431 for oversized heads, 408 for slow ones, 400 for the rest; undefined: the client left. */
function clientErrorStatus(err: NodeJS.ErrnoException): number | undefined {
  switch (err.code) {
    case 'ECONNRESET':
    case 'EPIPE':
      return undefined;
    case 'HPE_HEADER_OVERFLOW':
      return 431;
    case 'ERR_HTTP_REQUEST_TIMEOUT':
    case 'HPE_HEADERS_TIMEOUT':
      return 408;
    default:
      return 400;
  }
}

const kAccounted = Symbol('netbird-proxy.accounted');
type AccountedSocket = Socket & { [kAccounted]?: { read: number; written: number } };
