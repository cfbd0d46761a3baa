// The HTTP and HTTPS entrypoints: accept (peer, PROXY header) → [TLS] → client IP → host route →
// restriction chain → forward → access log. One class; the HTTPS one adds the TLS layer.
//
// Every connection takes the same path, with or without the PROXY protocol: a plain net.Server
// accepts it, the peer is settled (src/client-ip/accept.ts), then the socket is handed to an
// http.Server that is never bound itself. That server is told it is listening once, so that
// Node's connection tracking runs for it: header and request timeouts, idle closing and the
// shutdown grace apply to every connection.
//
// HTTPS: after the PROXY header, the TLS manager may take the connection (a tls-alpn-01
// validation); otherwise the raw socket goes to an https.Server the same way, which wraps it in a
// TLSSocket. That TLSSocket is what requests see, so the peer is attached to it as well, when the
// handshake completes ('secureConnection', before the HTTP layer reads from it).
//
// HTTP with TLS services: ACME http-01 answers first, then the restriction chain, then the 308 to
// https:// for admitted clients of services with redirect_https (a denied client gets its 403 here
// too, without costing a TLS handshake).
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type http2 from 'node:http2';
import https from 'node:https';
import net, { type Socket } from 'node:net';
import type { TLSSocket, TlsOptions } from 'node:tls';
import type { Duplex, Readable } from 'node:stream';
import type { Logger } from 'pino';
import { deniedWith, type AppSecForwarder, type AppSecGate } from '../appsec/gate';
import type { AuthGate } from '../auth/gate';
import { challengeRoute } from '../challenge/core';
import type { ChallengeGate } from '../challenge/gate';
import { authOf } from './auth-site';
import { acceptConnection } from '../client-ip/accept';
import { attachPeer, peerOf, type Peer } from '../client-ip/peer';
import type { AppSecConfig, HostPort } from '../config/types';
import { isHttp2Request } from '../forward/h2-response';
import { rejectUpgradeDenied, respondDenied, type Denial } from '../forward/deny-response';
import { HttpForwarder, upgradeStatus, upstreamErrorOf } from '../forward/http';
import { redirect, redirectUpgrade, rejectUpgrade, respond, respondText } from '../util/responses';
import { isWebSocketUpgrade } from '../request/hop-by-hop';
import { isHttp01Path } from '../tls/acme/challenges';
import type { IpSet } from '../net/ip-set';
import type { ChainContext } from '../restrictions/chain';
import type { Verdict } from '../restrictions/types';
import type { HttpServiceRuntime } from '../services';
import { httpsRedirectLocation, type HttpsRedirectPort } from '../tls/redirect';
import { answerFavicon } from '../forward/favicon';
import { metadataOrEmpty, startClock, type AccessLog } from '../telemetry/access-log';
import type { HandlerPlace, Metrics } from '../telemetry/metrics';
import type { UsageRecorder } from '../crowdsec/usage/counters';
import { admitRequest, requestAccessEntry, type Admission, type AdmissionContext } from './admission';
import { canonicalizeInPlace, refusedAdmission } from './canonical';
import { HostRouter } from './host-router';
import type { H2Request } from './http2-request';
import { closeAllHttp2, createHttp2Server, drainHttp2, type Http2Limits, type LoggedH2Response } from './http2-server';
import { http2RequestClosed, trackHttp2Request } from './http2-sessions';
import { lingerOnUnreadBody } from './linger';
import { closeServer, listenOn } from './listen';
import { OpenConnection, type OpenConnections } from './open-connections';
import { newRequestId } from './request-id';

export type Scheme = 'http' | 'https';

/** What the entrypoints use of the TLS manager (src/tls/manager.ts). */
export interface EntrypointTls {
  serverOptions(): TlsOptions;
  /** HTTPS: resolves false when the socket was taken (tls-alpn-01 validation, or dead). */
  routeConnection(socket: Socket): Promise<boolean>;
  /** HTTP: the answer to a pending http-01 challenge at this path, else undefined. */
  answerHttp01(path: string): string | undefined;
}

export interface HttpEntrypointOptions {
  /** 'https' needs `tls`; 'http' with `tls` answers http-01 challenges and redirects to https. */
  scheme: Scheme;
  tls?: EntrypointTls;
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
  usage?: UsageRecorder;
  /** HTTP with tls: the port of the 308's https:// URL (--https-redirect-port). */
  httpsRedirectPort?: HttpsRedirectPort;
  /** HTTPS: offer HTTP/2 (ALPN h2, then http/1.1) with this stream limit (--http2). */
  http2?: { maxConcurrentStreams: number };
  /** Sessions of services with auth (src/auth/). */
  auth: AuthGate;
  /** Undefined without --appsec-url. */
  appsec?: AppSecGate;
  /** Services with access.challenge (src/challenge/). */
  challenge?: ChallengeGate;
}

/** nginx's status for a client that closed the connection before the response was sent. */
const CLIENT_CLOSED_REQUEST = 499;

export class HttpEntrypoint implements AdmissionContext {
  /** Swapped whole on reload; requests already routed keep the service they were given. */
  router = new HostRouter([]);
  private readonly server:
    http.Server<typeof IncomingMessage, typeof LoggedResponse> | https.Server<typeof IncomingMessage, typeof LoggedResponse> | http2.Http2SecureServer;
  private readonly acceptor: net.Server;
  /** HTTPS: peers of connections in their TLS handshake, by the raw socket's remote address and port. */
  private readonly handshaking = new Map<string, Peer>();
  private readonly forwarder: HttpForwarder;
  private readonly upgraded = new Set<Duplex>();
  private bound = false;
  readonly trusted: IpSet;
  readonly chain: ChainContext;
  readonly metrics: Metrics;
  readonly usage: UsageRecorder | undefined;
  readonly challenge: ChallengeGate | undefined;

  constructor(private readonly opts: HttpEntrypointOptions) {
    this.challenge = opts.challenge;
    this.trusted = opts.trusted;
    this.chain = opts.chain;
    this.metrics = opts.metrics;
    this.usage = opts.usage;
    this.forwarder = new HttpForwarder({
      upstreamTimeoutMs: opts.upstreamTimeoutMs,
      log: opts.log,
      onUpstreamError: (service, kind) => opts.metrics.upstreamError(service, kind),
      onHandlerError: (err, req) => this.handlerFailed('forward', err, req, req.socket),
    });
    const httpOptions: http.ServerOptions<typeof IncomingMessage, typeof LoggedResponse> = {
      headersTimeout: opts.headerTimeoutMs,
      // The whole request may take as long as the upstream may: a long upload is not an attack.
      requestTimeout: 0,
      maxHeaderSize: opts.maxHeaderSize,
      connectionsCheckingInterval: Math.min(1000, Math.max(100, Math.floor(opts.headerTimeoutMs / 4))),
      ServerResponse: LoggedResponse,
    };
    // Every handler runs inside a boundary: an exception ends its request, never the process.
    const onRequest = (req: IncomingMessage, res: LoggedResponse): void => {
      try {
        this.onRequest(req, res);
      } catch (err) {
        this.handlerFailed(opts.scheme, err, req, res);
      }
    };
    if (opts.scheme === 'https') {
      if (opts.tls === undefined) throw new Error('the HTTPS entrypoint needs the TLS manager');
      // A handshake is bounded like a request head: a slow client cannot hold a socket longer.
      const tlsOptions = { ...opts.tls.serverOptions(), ...httpOptions, handshakeTimeout: opts.headerTimeoutMs };
      this.server =
        opts.http2 === undefined
          ? https.createServer(tlsOptions, onRequest)
          : createHttp2Server(tlsOptions, httpOptions as http.ServerOptions, this.http2Limits(opts.http2.maxConcurrentStreams), onRequest as never, {
              log: opts.log,
              onAbuse: () => opts.metrics.connectionDropped('https', 'http2_abuse'),
            });
      this.server.prependListener('secureConnection', (socket: TLSSocket) => this.onSecure(socket));
      this.server.on('tlsClientError', (err: Error, socket: TLSSocket) => this.onTlsError(err, socket));
    } else {
      this.server = http.createServer(httpOptions, onRequest);
    }
    // Expect: the 100 Continue (or 417) is decided after admission, in onRequest.
    this.server.on('checkContinue', onRequest);
    this.server.on('checkExpectation', onRequest);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      try {
        this.onUpgrade(req, socket, head);
      } catch (err) {
        this.handlerFailed('upgrade', err, req, socket);
      }
    });
    this.server.on('connect', (req: IncomingMessage, socket: Duplex) => {
      try {
        this.onConnect(req, socket);
      } catch (err) {
        this.handlerFailed('connect', err, req, socket);
      }
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.onClientError(err, socket as Socket));
    this.server.emit('listening');
    this.acceptor = net.createServer({ pauseOnConnect: true }, (socket) =>
      acceptConnection(
        socket,
        { trusted: opts.trusted, proxyProtocol: opts.proxyProtocol, log: opts.log, onDrop: (reason) => opts.metrics.connectionDropped(opts.scheme, reason) },
        (accepted, peer) => {
          if (opts.scheme === 'https') return this.startTls(accepted, peer);
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
    const server = this.server;
    if ('updateSettings' in server) drainHttp2(server);
    const timer = setTimeout(() => ('updateSettings' in server ? closeAllHttp2(server) : server.closeAllConnections()), graceMs);
    await closing;
    clearTimeout(timer);
    this.forwarder.close();
  }

  /** HTTPS: hands an accepted socket to the TLS server unless the TLS manager takes it. */
  private startTls(raw: Socket, peer: Peer): void {
    raw.on('error', () => raw.destroy());
    (this.opts.tls as EntrypointTls).routeConnection(raw).then(
      (goOn) => {
        const key = socketKey(raw);
        if (!goOn || key === undefined || raw.destroyed) {
          if (goOn) raw.destroy();
          return;
        }
        this.handshaking.set(key, peer);
        raw.once('close', () => {
          if (this.handshaking.get(key) === peer) this.handshaking.delete(key);
        });
        this.server.emit('connection', raw);
        raw.resume();
      },
      () => raw.destroy(),
    );
  }

  /** Handshake done, before the HTTP layer reads: the TLSSocket gets the peer settled at accept. */
  private onSecure(socket: TLSSocket): void {
    const key = socketKey(socket);
    const peer = key === undefined ? undefined : this.handshaking.get(key);
    if (key !== undefined) this.handshaking.delete(key);
    if (peer === undefined) socket.destroy();
    else attachPeer(socket, peer);
  }

  private onTlsError(err: Error, socket: TLSSocket): void {
    const key = socketKey(socket);
    const peer = key === undefined ? undefined : this.handshaking.get(key);
    this.opts.log.debug({ client_ip: peer?.address, sni: socket.servername || undefined, err: err.message }, 'TLS handshake failed');
    this.opts.metrics.connectionDropped('https', 'tls_handshake');
    socket.destroy();
  }

  /** HTTP: where an admitted request of a redirect_https service is sent (308), or undefined. */
  private redirectFor(req: IncomingMessage, service: HttpServiceRuntime): string | undefined {
    if (this.opts.scheme !== 'http' || this.opts.tls === undefined) return undefined;
    return httpsRedirectLocation(service.config.redirectHttps, req.headers.host, req.url ?? '/', this.opts.httpsRedirectPort);
  }

  private admit(req: IncomingMessage): Admission {
    // Every socket reaches the HTTP server through acceptConnection (HTTPS: and onSecure), which attached its peer.
    const peer = peerOf(req.socket) as Peer;
    const admission = admitRequest(this, req, peer, this.opts.scheme, req.socket.localPort ?? 0);
    if (isHttp2Request(req)) trackHttp2Request(this.opts.open, req, admission);
    return admission;
  }

  private http2Limits(maxConcurrentStreams: number): Http2Limits {
    const { maxHeaderSize, headerTimeoutMs, upstreamTimeoutMs } = this.opts;
    return { maxConcurrentStreams, maxHeaderSize, idleTimeoutMs: Math.max(headerTimeoutMs, upstreamTimeoutMs) + 5000 };
  }

  private onRequest(req: IncomingMessage, res: LoggedResponse): void {
    const startMs = startClock();
    // Node asks (checkContinue) only for HTTP/1.1; canonicalisation refuses any other expectation.
    const expectsContinue = req.headers.expect !== undefined && req.httpVersion === '1.1';
    const refused = canonicalizeInPlace(req, false);
    if (refused !== undefined) return this.refuse(req, res, refused, startMs);
    // An ACME http-01 answer goes out before anything else: the CA's validator must always reach it.
    const challenge = this.opts.scheme === 'http' ? this.opts.tls?.answerHttp01(req.url ?? '/') : undefined;
    const admission: Admission =
      challenge === undefined
        ? this.admit(req)
        : { requestId: newRequestId(), service: undefined, clientIp: (peerOf(req.socket) as Peer).address, verdict: undefined };
    let location: string | undefined;
    if (challenge !== undefined) respondText(res, challenge);
    else if (admission.service === undefined) respond(res, 404);
    else if (!admission.verdict.allowed) {
      // A denied browser's automatic /favicon.ico: the proxy's icon, not a second denial in the log.
      if (answerFavicon(req, res)) return;
      if (!(hasChallenge(admission) && this.challenge?.answerDenied(req, res, admission, this.redirectFor(req, admission.service)) === true))
        respondDenied(res, req.headers.accept, (admission.route ?? admission.service.config).deny, denialOf(admission));
    } else if (this.isUnknownChallenge(req, admission.service)) respond(res, 404);
    else if (hasChallenge(admission) && this.challenge !== undefined && challengeRoute(req.url ?? '/') !== undefined)
      this.challenge.answerAllowed(req, res, admission);
    else if ((location = this.redirectFor(req, admission.service)) !== undefined) {
      this.opts.appsec?.redirected(admission);
      redirect(res, location);
    } else if (this.opts.appsec !== undefined && appsecOf(admission).mode !== 'off') {
      // AppSec reads the body: the client that asked may send it now (the IP layers admitted it).
      if (expectsContinue) res.writeContinue();
      res.admission = admission;
      this.opts.appsec.request(req, res, admission, this.afterAppSec);
    } else this.pass(req, res, admission, undefined, expectsContinue);
    if (res.headersSent) lingerOnUnreadBody(req);
    res.entrypoint = this;
    res.admission = admission;
    res.startMs = startMs;
    res.on('close', logResponse);
    logWhenQueued(req, res);
  }

  /** A request that is not canonical: its status (400, 405, 417, 501), logged, and the connection closed. */
  private refuse(req: IncomingMessage, res: LoggedResponse, status: number, startMs: number): void {
    this.opts.metrics.httpRequest('', 'bad_request', '');
    respond(res, status, true);
    res.entrypoint = this;
    res.admission = refusedAdmission(this.trusted, req, peerOf(req.socket) as Peer);
    res.startMs = startMs;
    res.on('close', logResponse);
    logWhenQueued(req, res);
  }

  /**
   * HTTP: a challenge path of a service whose certificates the proxy holds, with no pending token.
   * Only the proxy can answer those; forwarded, they would reach the upstream over plain HTTP.
   */
  private isUnknownChallenge(req: IncomingMessage, service: HttpServiceRuntime): boolean {
    return this.opts.scheme === 'http' && service.config.tls.mode !== 'off' && isHttp01Path(req.url ?? '/');
  }

  /** CONNECT: the proxy is no forward proxy. 405, logged so that CrowdSec sees the probe. */
  private onConnect(req: IncomingMessage, socket: Duplex): void {
    const startMs = startClock();
    socket.on('error', () => socket.destroy());
    const admission = refusedAdmission(this.trusted, req, peerOf(req.socket) as Peer);
    this.opts.metrics.httpRequest('', 'bad_request', '');
    rejectUpgrade(socket, 405, 'Allow: GET, HEAD, POST, PUT, DELETE, OPTIONS, PATCH\r\n');
    socket.once('close', () => this.logAccess(req, admission, 405, req.socket.bytesRead, req.socket.bytesWritten, startMs, undefined));
  }

  /** The boundary: a handler threw. Its request ends (500, or the socket destroyed); counted and logged. */
  private handlerFailed(where: HandlerPlace, err: unknown, req: IncomingMessage, out: LoggedResponse | Duplex): void {
    this.opts.metrics.requestError(where);
    const requestId = out instanceof LoggedResponse ? out.admission?.requestId : undefined;
    this.opts.log.error({ where, request_id: requestId, method: req.method, err: err instanceof Error ? err.stack : String(err) }, 'request handler failed');
    try {
      if (out instanceof LoggedResponse && !out.headersSent && !out.destroyed) respond(out, 500, true);
      else out.destroy();
    } catch {
      req.socket.destroy();
    }
  }

  /** A response closed (sent, or the client left): its access line. */
  responseClosed(res: LoggedResponse, admission: Admission, startMs: number): void {
    const req = res.req;
    if (isHttp2Request(req)) return this.http2ResponseClosed(req, res, admission, startMs);
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
    this.logAccess(req, admission, status, bytesIn, bytesOut, startMs, upstreamError);
  }

  /** HTTP/2: the stream's own bytes (a connection carries many at once), and the session's re-judgement. */
  private http2ResponseClosed(req: IncomingMessage, res: LoggedResponse, admission: Admission, startMs: number): void {
    http2RequestClosed(req, admission);
    const upstreamError = upstreamErrorOf(req);
    const h2res = res as unknown as LoggedH2Response;
    const status = !h2res.complete && upstreamError === undefined ? CLIENT_CLOSED_REQUEST : res.statusCode;
    const h2req = req as unknown as H2Request;
    this.opts.accessLog.write(requestAccessEntry(req, admission, status, h2req.bytesIn, h2res.bytesOut, startMs, upstreamError, 'https', h2req.servername));
  }

  private onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const startMs = startClock();
    socket.on('error', () => socket.destroy());
    const websocket = isWebSocketUpgrade(req.method ?? '', req.headers.upgrade);
    const refused = canonicalizeInPlace(req, websocket);
    const admission = refused === undefined ? this.admit(req) : refusedAdmission(this.trusted, req, peerOf(req.socket) as Peer);
    let status: number | undefined;
    let location: string | undefined;
    if (refused !== undefined) {
      this.opts.metrics.httpRequest('', 'bad_request', '');
      status = refused;
      rejectUpgrade(socket, status);
    } else if (admission.service === undefined) {
      status = 404;
      rejectUpgrade(socket, status);
    } else if (!admission.verdict.allowed) {
      const deny = (admission.route ?? admission.service.config).deny;
      status = deny.status;
      rejectUpgradeDenied(socket, deny, denialOf(admission));
    } else if ((location = this.redirectFor(req, admission.service)) !== undefined) {
      status = 308;
      this.opts.appsec?.redirected(admission);
      redirectUpgrade(socket, location);
    } else if (!websocket) {
      // Only WebSocket is relayed; h2c and other protocols are not implemented.
      status = 501;
      rejectUpgrade(socket, status);
    } else if (this.opts.appsec !== undefined && appsecOf(admission).mode !== 'off') {
      // AppSec judges the upgrade request (headers only) before auth and the upstream see it.
      void this.opts.appsec
        .upgrade(req, admission)
        .then((outcome) => {
          if (socket.destroyed) return;
          if (outcome.verdict.allowed) {
            status = this.passUpgrade(req, socket, head, admission);
            return;
          }
          const deny = deniedWith((admission.route ?? admission.service.config).deny, outcome.denyStatus);
          status = deny.status;
          rejectUpgradeDenied(socket, deny, denialOf(admission));
        })
        .catch(() => socket.destroy());
    } else {
      status = this.passUpgrade(req, socket, head, admission);
    }
    socket.once('close', () => {
      this.upgraded.delete(socket);
      this.logAccess(
        req,
        admission,
        status ?? upgradeStatus(req) ?? CLIENT_CLOSED_REQUEST,
        req.socket.bytesRead,
        req.socket.bytesWritten,
        startMs,
        upstreamErrorOf(req),
      );
    });
  }

  /** After the restriction chain and AppSec: auth (which may answer itself), then the route's or the service's target. */
  private pass(req: IncomingMessage, res: ServerResponse, admission: AdmittedRequest, body: Readable | undefined, expectsContinue: boolean): void {
    const auth = authOf(admission.service, admission.route, req.url);
    if (auth !== undefined && !this.opts.auth.request(req, res, admission, auth)) return;
    if (expectsContinue) res.writeContinue();
    if (admission.route !== undefined) this.forwarder.webRouted(req, res, admission.route, admission.clientIp, body);
    else this.forwarder.web(req, res, admission.service.target, body);
  }

  /** AppSec allowed the request: the rest of the way (LoggedResponse carries the admission). */
  private readonly afterAppSec: AppSecForwarder = {
    web: (req, res, _target, body) => this.pass(req, res, (res as LoggedResponse).admission as AdmittedRequest, body, false),
    instead: (req, res) => {
      const admission = (res as LoggedResponse).admission as AdmittedRequest;
      return hasChallenge(admission) ? this.challenge?.instead(req, res, admission) : undefined;
    },
  };

  /** An upgrade after the chain and AppSec: auth's refusal status, or undefined once it is relayed. */
  private passUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, admission: AdmittedRequest): number | undefined {
    const auth = authOf(admission.service, admission.route, req.url);
    if (auth !== undefined) {
      const refused = this.opts.auth.upgrade(req, socket, admission, auth);
      if (refused !== undefined) return refused;
    }
    this.upgraded.add(socket);
    const conn = new OpenConnection('http', admission.service.name, admission.clientIp, admission.verdict, socket);
    if (admission.route !== undefined) conn.path = req.url;
    this.opts.open.track(conn, socket);
    if (admission.route !== undefined) this.forwarder.wsRouted(req, socket, head, admission.route, admission.clientIp);
    else this.forwarder.ws(req, socket, head, admission.service.target);
    socket.once('close', () => (admission.verdict = conn.verdict));
    return undefined;
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
      scheme: this.opts.scheme,
      request_id: newRequestId(),
      client_ip: peer.address,
      status,
      bytes_in: socket.bytesRead,
      bytes_out: socket.bytesWritten,
      duration_ms: 0,
      deny_reason: '',
      metadata: metadataOrEmpty(undefined),
    });
  }

  private logAccess(
    req: IncomingMessage,
    admission: Admission,
    status: number,
    bytesIn: number,
    bytesOut: number,
    startMs: number,
    upstreamError: string | undefined,
  ): void {
    const sni = this.opts.scheme === 'https' ? (req.socket as TLSSocket).servername || undefined : undefined;
    this.opts.accessLog.write(requestAccessEntry(req, admission, status, bytesIn, bytesOut, startMs, upstreamError, this.opts.scheme, sni));
  }
}

type AdmittedRequest = Admission & { service: HttpServiceRuntime; verdict: Verdict };

/** access.challenge is set (off is undefined) for the request's route or service. */
function hasChallenge(admission: AdmittedRequest): boolean {
  return (admission.route ?? admission.service).access.challenge !== undefined;
}

/** The AppSec setting that applies: the route's when the request has one. */
function appsecOf(admission: AdmittedRequest): AppSecConfig {
  return admission.route?.appsec ?? admission.service.config.access.appsec;
}

function denialOf(admission: Admission & { verdict: Verdict }): Denial {
  return { reason: admission.verdict.denyReason, clientIp: admission.clientIp, requestId: admission.requestId };
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

/** The raw socket and the TLSSocket over it report the same remote address and port. */
function socketKey(socket: Socket): string | undefined {
  const { remoteAddress, remotePort } = socket;
  return remoteAddress === undefined || remotePort === undefined ? undefined : `${remoteAddress}|${remotePort}`;
}

const kAccounted = Symbol('netbird-proxy.accounted');
type AccountedSocket = Socket & { [kAccounted]?: { read: number; written: number } };

/**
 * The server's response class: it carries what the access line needs, so that every response
 * shares one 'close' listener (logResponse) instead of a closure (and a once() wrapper) per request.
 */
class LoggedResponse extends http.ServerResponse {
  entrypoint: HttpEntrypoint | undefined = undefined;
  admission: Admission | undefined = undefined;
  startMs = 0;
  logged = false;
}

function logResponse(this: LoggedResponse): void {
  if (this.logged) return;
  this.logged = true;
  if (this.entrypoint !== undefined && this.admission !== undefined) this.entrypoint.responseClosed(this, this.admission, this.startMs);
}

/**
 * A pipelined request's response waits for a socket (res.socket null); should the connection die
 * first, Node never emits its 'close', and the request (perhaps already forwarded) would have no
 * access line. The connection's close logs it instead.
 */
function logWhenQueued(req: IncomingMessage, res: LoggedResponse): void {
  if (res.socket === null) req.socket.once('close', () => logResponse.call(res));
}
