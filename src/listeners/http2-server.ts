// The HTTPS entrypoint's server with --http2: ALPN h2, then http/1.1. HTTP/1.1 connections get
// the same http.Server behaviour as without HTTP/2 (timeouts, header limits, connection tracking);
// HTTP/2 requests reach the same request handler as H2Request (pseudo-headers mapped) and a
// response class that carries the access line's fields. Each session gets explicit limits and a
// SessionGuard; a session that breaks one is sent GOAWAY and closed, and logged.
import http, { type IncomingMessage } from 'node:http';
import http2, { type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { TlsOptions } from 'node:tls';
import type { Logger } from 'pino';
import { peerOf } from '../client-ip/peer';
import { budgetFor, SessionGuard, type Abuse } from './http2-guard';
import { H2Request } from './http2-request';

export interface Http2Limits {
  maxConcurrentStreams: number;
  /** --max-header-size: SETTINGS_MAX_HEADER_LIST_SIZE, enforced by Node. */
  maxHeaderSize: number;
  /** A session with no frame in either direction for this long is closed. */
  idleTimeoutMs: number;
}

export interface Http2Hooks {
  log: Logger;
  /** A session closed for abuse (the metrics' dropped connections). */
  onAbuse(abuse: Abuse | 'session_error'): void;
}

type Handler = (req: IncomingMessage, res: http.ServerResponse) => void;

/**
 * Node's own per-session protections, set explicitly (their defaults, or tighter). The header
 * list limit is announced and enforced at --max-header-size: Node resets a stream whose decoded
 * list exceeds it (ENHANCE_YOUR_CALM), so an HPACK bomb is cut off there.
 */
export function sessionOptions(limits: Http2Limits): http2.SecureServerOptions {
  return {
    settings: {
      maxConcurrentStreams: limits.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderSize,
      enablePush: false,
      enableConnectProtocol: false,
      initialWindowSize: 65_535,
      maxFrameSize: 16_384,
      headerTableSize: 4096,
    },
    maxHeaderListPairs: 256,
    // MB of nghttp2 buffers per session (outbound queue, header blocks): 10 is Node's default.
    maxSessionMemory: 10,
    maxSettings: 32,
    maxOutstandingPings: 10,
    maxSessionInvalidFrames: 100,
    maxSessionRejectedStreams: 100,
    peerMaxConcurrentStreams: limits.maxConcurrentStreams,
  };
}

/**
 * The response class of HTTP/2 requests: the same fields as the entrypoint's HTTP/1.1 one, which
 * its shared 'close' listener reads (set by the request handler).
 */
export class LoggedH2Response extends http2.Http2ServerResponse {
  entrypoint: unknown = undefined;
  admission: unknown = undefined;
  startMs = 0;
  /** Body bytes written (DATA payload). */
  bodyOut = 0;

  override write(chunk: string | Uint8Array, encoding?: BufferEncoding | ((err: Error) => void), cb?: (err: Error) => void): boolean {
    this.bodyOut += typeof chunk === 'string' ? Buffer.byteLength(chunk, typeof encoding === 'string' ? encoding : 'utf8') : chunk.byteLength;
    return super.write(chunk, encoding as BufferEncoding, cb);
  }

  /** Ended by the proxy and closed without a reset: the client got the whole response. */
  get complete(): boolean {
    return this.writableEnded && this.stream.rstCode === http2.constants.NGHTTP2_NO_ERROR;
  }

  /** Status and header fields as HTTP/1.1 would write them, plus the body. */
  get bytesOut(): number {
    let size = 0;
    const sent = this.stream.sentHeaders as Record<string, string | string[] | number | undefined> | undefined;
    if (sent !== undefined) {
      for (const name in sent) {
        const value = sent[name];
        if (Array.isArray(value)) for (const v of value) size += name.length + v.length + 4;
        else if (value !== undefined) size += name.length + String(value).length + 4;
      }
    }
    return size + this.bodyOut;
  }
}

const kSessions = Symbol('netbird-proxy.h2sessions');
type TrackedServer = http2.Http2SecureServer & { [kSessions]: Set<Http2Session> };

export function createHttp2Server(
  tls: TlsOptions & { handshakeTimeout: number },
  http1: http.ServerOptions,
  limits: Http2Limits,
  onRequest: Handler,
  hooks: Http2Hooks,
): http2.Http2SecureServer {
  const server = http2.createSecureServer({
    ...tls,
    ...sessionOptions(limits),
    allowHTTP1: true,
    unknownProtocolTimeout: tls.handshakeTimeout,
    Http1ServerResponse: http1.ServerResponse,
    Http2ServerRequest: H2Request as typeof http2.Http2ServerRequest,
    Http2ServerResponse: LoggedH2Response,
  } as http2.SecureServerOptions) as TrackedServer;
  const sessions = new Set<Http2Session>();
  server[kSessions] = sessions;
  copyHttp1Options(server, http1);
  // Node re-emits TLS errors as 'clientError', which the HTTP/1.1 handler would answer with a 400.
  server.removeAllListeners('tlsClientError');
  const budget = budgetFor(limits.maxConcurrentStreams);
  server.on('session', (session: Http2Session) => {
    const guard = new SessionGuard(budget);
    const clientIp = peerOf(session.socket as never)?.address;
    const trip = (abuse: Abuse | 'session_error', detail: string): void => closeAbusive(session, clientIp, guard, abuse, detail, hooks);
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
    // No frame either way for longer than an upstream may take: nothing legitimate is pending.
    session.setTimeout(limits.idleTimeoutMs, () => session.destroy());
    session.on('ping', () => {
      const abuse = guard.controlFrame(Date.now());
      if (abuse !== undefined) trip(abuse, 'PING');
    });
    session.on('remoteSettings', () => {
      const abuse = guard.controlFrame(Date.now());
      if (abuse !== undefined) trip(abuse, 'SETTINGS');
    });
    const onReset = (): void => {
      const abuse = guard.clientReset(Date.now());
      if (abuse !== undefined) trip(abuse, 'RST_STREAM');
    };
    // One listener per session, none per stream: the stream reaches its session's through it.
    (session as GuardedSession)[kOnReset] = onReset;
    session.on('stream', onStream);
    session.on('error', (err: Error) => trip('session_error', err.message));
    session.on('frameError', () => undefined);
  });
  server.on('request', (req: IncomingMessage | H2Request, res: http.ServerResponse) => {
    if (req instanceof H2Request) req.adopt();
    onRequest(req as IncomingMessage, res);
  });
  return server;
}

const kOnReset = Symbol('netbird-proxy.h2reset');
type GuardedSession = Http2Session & { [kOnReset]?: () => void };

function onStream(stream: ServerHttp2Stream): void {
  stream.on('aborted', onStreamAborted);
}

/** The client reset a stream whose response was not complete. */
function onStreamAborted(this: ServerHttp2Stream): void {
  (this.session as GuardedSession | undefined)?.[kOnReset]?.();
}

/**
 * GOAWAY ENHANCE_YOUR_CALM and the socket goes; one log line per session. A session Node closed
 * itself (its own limits: invalid frames, rejected streams, memory, CONTINUATION) arrives here
 * as 'session_error', already destroyed.
 */
function closeAbusive(
  session: Http2Session,
  clientIp: string | undefined,
  guard: SessionGuard,
  abuse: Abuse | 'session_error',
  detail: string,
  hooks: Http2Hooks,
): void {
  if (guard.tripped) return;
  guard.tripped = true;
  hooks.log.warn({ client_ip: clientIp, abuse, detail, control_frames: guard.totalControl, client_resets: guard.totalResets }, 'HTTP/2 session closed');
  hooks.onAbuse(abuse);
  if (!session.destroyed) session.destroy(http2.constants.NGHTTP2_ENHANCE_YOUR_CALM as never);
}

/** The http.Server settings an Http2SecureServer does not take from its options (Node 20 and 24). */
function copyHttp1Options(server: http2.Http2SecureServer, options: http.ServerOptions): void {
  const reference = new http.Server(options);
  const target = server as unknown as Record<string, unknown>;
  const source = reference as unknown as Record<string, unknown>;
  for (const key of HTTP1_FIELDS) target[key] = source[key];
}

const HTTP1_FIELDS = [
  'maxHeaderSize',
  'insecureHTTPParser',
  'requestTimeout',
  'headersTimeout',
  'keepAliveTimeout',
  'connectionsCheckingInterval',
  'requireHostHeader',
  'joinDuplicateHeaders',
  'rejectNonStandardBodyWrites',
  'maxHeadersCount',
  'maxRequestsPerSocket',
  'httpAllowHalfOpen',
] as const;

/** Shutdown: GOAWAY to every HTTP/2 session; their open streams may finish. */
export function drainHttp2(server: http2.Http2SecureServer): void {
  for (const session of (server as TrackedServer)[kSessions]) session.close();
}

/** End of the grace: HTTP/1.1 connections through Node's tracking, HTTP/2 sessions destroyed. */
export function closeAllHttp2(server: http2.Http2SecureServer): void {
  http.Server.prototype.closeAllConnections.call(server as unknown as http.Server);
  for (const session of (server as TrackedServer)[kSessions]) session.destroy();
}
