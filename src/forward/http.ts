// HTTP forwarding (exchange.ts) and WebSocket forwarding (http-proxy), with keep-alive agents to the upstreams.
import type http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable, type Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { fitForHttp2, isHttp2Request } from './h2-response';
import { recordSuccess } from '../routing/health';
import { hasBody, mayRetry, type FailurePhase } from '../routing/retry';
import { stickySetCookie } from '../routing/sticky';
import { classifyHttpError, statusForUpstreamError, type UpstreamErrorKind } from './errors';
import { rejectUpgrade, respond } from '../util/responses';
import { applyRoute, chooseMember, stickyMissed, type ForwardRoute, type HttpMember } from './routed';
import type { UpstreamTarget } from './target';
import { UpstreamHttpAgent, UpstreamHttpsAgent, UpstreamTimeoutError } from './upstream-agent';
import { exchange, type ExchangeHooks } from './exchange';
import { sanitizeUpstreamResponse } from './upstream-response';

export type { UpstreamTarget } from './target';

export interface HttpForwarderOptions {
  upstreamTimeoutMs: number;
  log: Logger;
  onUpstreamError(service: string, kind: UpstreamErrorKind): void;
  /** An exception in a forwarding callback: the request it belongs to is ended, the process goes on. */
  onHandlerError?(err: unknown, req: IncomingMessage): void;
}

/** What the access log shows of a routed request; every route with no healthy target left answers 502 with this upstream_error. */
export const NO_HEALTHY_TARGET = 'no_healthy_target';

const kTarget = Symbol('netbird-proxy.target');
const kUpgradeStatus = Symbol('netbird-proxy.upgradeStatus');
const kUpstreamError = Symbol('netbird-proxy.upstreamError');
const kRoute = Symbol('netbird-proxy.route');
const kMember = Symbol('netbird-proxy.member');
const kRetried = Symbol('netbird-proxy.retried');
const kSetCookie = Symbol('netbird-proxy.setCookie');
const kAnswered = Symbol('netbird-proxy.answered');
const kClientUrl = Symbol('netbird-proxy.clientUrl');
type TrackedRequest = IncomingMessage & {
  [kTarget]?: UpstreamTarget;
  [kUpgradeStatus]?: number;
  [kUpstreamError]?: UpstreamErrorKind | typeof NO_HEALTHY_TARGET;
  [kRoute]?: ForwardRoute;
  [kMember]?: HttpMember;
  [kRetried]?: boolean;
  [kSetCookie]?: string;
  [kAnswered]?: boolean;
  [kClientUrl]?: string;
};

/** What the client got for a proxied upgrade: 101, the upstream's refusal status, or 502/504. */
export function upgradeStatus(req: IncomingMessage): number | undefined {
  return (req as TrackedRequest)[kUpgradeStatus];
}

/** The upstream failure this request met, if any (for the access log). */
export function upstreamErrorOf(req: IncomingMessage): UpstreamErrorKind | typeof NO_HEALTHY_TARGET | undefined {
  return (req as TrackedRequest)[kUpstreamError];
}

/** A routed request's route name and the target it was last sent to (for the access log). */
export function routeOf(req: IncomingMessage): string | undefined {
  return (req as TrackedRequest)[kRoute]?.name;
}

/** The request target as the client sent it (a route's rewrite changes req.url). */
export function clientUrlOf(req: IncomingMessage): string | undefined {
  return (req as TrackedRequest)[kClientUrl] ?? req.url;
}

export function upstreamOf(req: IncomingMessage): string | undefined {
  return (req as TrackedRequest)[kMember]?.key;
}

export class HttpForwarder {
  // The upstream timeout is armed by the agents, per socket (upstream-agent.ts).
  private readonly httpAgent: UpstreamHttpAgent;
  private readonly httpsAgent: UpstreamHttpsAgent;
  private readonly proxy: httpProxy;
  /** exchange.ts's callbacks, each guarded: a throw ends its own request, never the process. */
  private readonly hooks: ExchangeHooks = {
    onResponse: (proxyRes, req, res) => {
      try {
        return this.onResponse(proxyRes, req as TrackedRequest, res);
      } catch (err) {
        this.handlerFailed(err, req);
        return false;
      }
    },
    onError: (err, req, res) => this.guard(req, () => this.onProxyError(err, req as TrackedRequest, res)),
  };

  constructor(private readonly opts: HttpForwarderOptions) {
    this.httpAgent = new UpstreamHttpAgent(opts.upstreamTimeoutMs);
    this.httpsAgent = new UpstreamHttpsAgent(opts.upstreamTimeoutMs);
    // Upgrades only (requests go through exchange.ts). toProxy: the (already canonical,
    // origin-form) target is used as it is: http-proxy would otherwise url.parse() it, which
    // throws on some inputs.
    this.proxy = httpProxy.createProxyServer({ xfwd: false, ws: true, toProxy: true });
    // Unhandled, http-proxy's error event would kill the process.
    this.proxy.on('error', (err, req, res) => this.onProxyError(err, req as TrackedRequest, res));
    this.proxy.on('proxyReqWs', (proxyReq, req, socket) =>
      this.guard(req, () => {
        const tracked = req as TrackedRequest;
        this.prepare(proxyReq, req);
        proxyReq.once('upgrade', () => (tracked[kUpgradeStatus] = 101));
        proxyReq.once('response', (res) => {
          tracked[kUpgradeStatus] = res.statusCode;
          if (!sanitizeUpstreamResponse(res)) res.statusCode = 502;
          // The upstream refused the upgrade: http-proxy relays its answer and ends the socket,
          // but nothing reads the client's side any more, so it would never close by itself.
          socket.once('finish', () => socket.destroy());
        });
      }),
    );
  }

  /** The upgrade's outgoing request: exactly the canonical target (http-proxy's urlJoin would merge "//"). */
  private prepare(proxyReq: http.ClientRequest, req: IncomingMessage): void {
    proxyReq.path = req.url ?? '/';
  }

  /** The upstream answered a request (exchange.ts): false when it was answered here instead. */
  private onResponse(proxyRes: IncomingMessage, req: TrackedRequest, res: ServerResponse): boolean {
    if (!sanitizeUpstreamResponse(proxyRes)) {
      this.record(req, 'other', new Error(`upstream answered with status ${proxyRes.statusCode ?? '?'}`));
      if (!res.headersSent) respond(res, 502, true);
      proxyRes.destroy();
      return false;
    }
    if (isHttp2Request(req)) this.fitForHttp2(proxyRes, req);
    if (req[kMember] !== undefined) answered(req, proxyRes);
    this.watchBody(proxyRes, req, res);
    return true;
  }

  /** Runs a callback called from event handlers (http-proxy's, exchange.ts's), where a throw would be uncaught. */
  private guard(req: IncomingMessage, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.handlerFailed(err, req);
    }
  }

  private handlerFailed(err: unknown, req: IncomingMessage): void {
    if (this.opts.onHandlerError === undefined) throw err;
    this.opts.onHandlerError(err, req);
  }

  /** A request of a routed service: its route's target, path and headers; a retry on another target when allowed (routing/retry.ts). */
  webRouted(req: IncomingMessage, res: ServerResponse, route: ForwardRoute, clientIp: string, body?: Readable): void {
    const tracked = req as TrackedRequest;
    tracked[kRoute] = route;
    const member = chooseMember(route, req, clientIp, Date.now());
    if (member === undefined) {
      tracked[kUpstreamError] = NO_HEALTHY_TARGET;
      respond(res, 502);
      return;
    }
    if (stickyMissed()) tracked[kSetCookie] = stickySetCookie(member.id, route.cookiePath, (req.headers['x-forwarded-proto'] ?? '') === 'https');
    if (route.rewrite !== undefined) tracked[kClientUrl] = req.url;
    applyRoute(route, req);
    res.on('close', releaseMember);
    this.send(tracked, res, member, body);
  }

  /** An upgrade of a routed service (no retry: the upgrade's bytes are on their way). */
  wsRouted(req: IncomingMessage, socket: Duplex, head: Buffer, route: ForwardRoute, clientIp: string): void {
    const tracked = req as TrackedRequest;
    tracked[kRoute] = route;
    const member = chooseMember(route, req, clientIp, Date.now());
    if (member === undefined) {
      tracked[kUpstreamError] = NO_HEALTHY_TARGET;
      tracked[kUpgradeStatus] = 502;
      rejectUpgrade(socket, 502);
      return;
    }
    if (route.rewrite !== undefined) tracked[kClientUrl] = req.url;
    applyRoute(route, req);
    tracked[kMember] = member;
    member.state.active++;
    member.state.requests++;
    socket.once('close', () => member.state.active--);
    this.ws(req, socket, head, member.upstream);
  }

  private send(req: TrackedRequest, res: ServerResponse, member: HttpMember, buffer: Readable | undefined): void {
    req[kMember] = member;
    member.state.active++;
    member.state.requests++;
    req[kTarget] = member.upstream;
    const target = member.upstream;
    exchange(req, res, target.url, target.agent ?? this.agentFor(target.url), buffer, this.hooks);
  }

  /** A routed request that failed: counted against its target; true when it was sent again to another one. */
  private retried(req: TrackedRequest, res: ServerResponse, kind: UpstreamErrorKind, err: Error): boolean {
    const member = req[kMember];
    const route = req[kRoute];
    if (member === undefined || route === undefined) return false;
    const now = Date.now();
    if (kind !== 'aborted' && route.pool.failed(member, now)) {
      this.opts.log.warn({ service: member.upstream.service, route: route.name, upstream: member.key, kind }, 'upstream target marked down');
    }
    if (req[kRetried] === true || req[kAnswered] === true || res.headersSent || res.destroyed) return false;
    const phase: FailurePhase =
      kind === 'refused' || kind === 'unreachable' || (err instanceof UpstreamTimeoutError && err.connecting) ? 'connect' : 'response';
    if (!mayRetry(req.method, hasBody(req.headers), phase)) return false;
    const next = route.pool.pick('', now, member);
    if (next === undefined) return false;
    member.state.active--;
    req[kRetried] = true;
    req[kUpstreamError] = undefined;
    this.opts.log.info(
      { service: member.upstream.service, route: route.name, upstream: member.key, next: next.key, kind },
      'upstream request retried on another target',
    );
    this.send(req, res, next, Readable.from([]));
    return true;
  }

  /** `body`: the request body to send instead of reading `req` (AppSec read it first; src/appsec/body.ts). */
  web(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget, body?: Readable): void {
    (req as TrackedRequest)[kTarget] = target;
    exchange(req, res, target.url, target.agent ?? this.agentFor(target.url), body, this.hooks);
  }

  ws(req: IncomingMessage, socket: Duplex, head: Buffer, target: UpstreamTarget): void {
    (req as TrackedRequest)[kTarget] = target;
    this.proxy.ws(req, socket, head, { target: target.url, agent: target.agent ?? this.agentFor(target.url) });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private agentFor(url: URL): http.Agent {
    return url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
  }

  /** HTTP/2 client: no upstream header or status may reset the stream (src/forward/h2-response.ts). */
  private fitForHttp2(proxyRes: IncomingMessage, req: TrackedRequest): void {
    if (fitForHttp2(proxyRes)) return;
    this.record(req, 'other', new Error(`upstream status ${proxyRes.statusCode ?? '?'} cannot be sent over HTTP/2`));
    proxyRes.statusCode = 502;
    proxyRes.headers = {};
  }

  /**
   * An upstream that dies mid-body: http-proxy pipes the body and would leave the client waiting
   * for the rest forever. Cut the client connection so it sees a truncated response.
   */
  private watchBody(proxyRes: IncomingMessage, req: TrackedRequest, res: ServerResponse): void {
    const watched = proxyRes as WatchedResponse;
    watched[kWatch] = this;
    watched[kClientReq] = req;
    watched[kClientRes] = res;
    proxyRes.on('close', onUpstreamBodyClosed);
  }

  /** The upstream response closed before it was complete (onUpstreamBodyClosed). */
  bodyCut(req: TrackedRequest, res: ServerResponse): void {
    this.record(req, 'aborted', new Error('upstream closed the connection before the response was complete'));
    res.destroy();
  }

  private record(req: TrackedRequest, kind: UpstreamErrorKind, err: Error): void {
    req[kUpstreamError] = kind;
    const target = req[kTarget];
    if (target === undefined) return;
    this.opts.onUpstreamError(target.service, kind);
    this.opts.log.warn({ service: target.service, upstream: target.url.origin, kind, err: err.message }, 'upstream error');
  }

  private onProxyError(err: Error, req: TrackedRequest, res: ServerResponse | Duplex | undefined): void {
    const kind: UpstreamErrorKind = err instanceof UpstreamTimeoutError ? 'timeout' : classifyHttpError(err);
    // A reset caused by the client leaving is the client's doing, not the upstream's.
    const clientLeft = req.socket.destroyed && kind === 'reset';
    if (!clientLeft) this.record(req, kind, err);
    if (res === undefined) return;
    if (isServerResponse(res)) {
      if (!clientLeft && req[kMember] !== undefined && this.retried(req, res, kind, err)) return;
      if (!res.headersSent && !res.destroyed) respond(res, statusForUpstreamError(kind), true);
      else res.destroy();
    } else if (req[kUpgradeStatus] === undefined && res.writable) {
      const member = req[kMember];
      if (member !== undefined && !clientLeft) req[kRoute]?.pool.failed(member, Date.now());
      // An upgrade that failed before the upstream answered: tell the client, then close.
      const status = statusForUpstreamError(kind);
      req[kUpgradeStatus] = status;
      rejectUpgrade(res, status);
    } else {
      res.destroy();
    }
  }
}

const kWatch = Symbol('netbird-proxy.watch');
const kClientReq = Symbol('netbird-proxy.clientReq');
const kClientRes = Symbol('netbird-proxy.clientRes');
type WatchedResponse = IncomingMessage & { [kWatch]?: HttpForwarder; [kClientReq]?: TrackedRequest; [kClientRes]?: ServerResponse };

/** One shared 'close' listener for every upstream response (no closure and once() wrapper per response). */
function onUpstreamBodyClosed(this: WatchedResponse): void {
  const res = this[kClientRes];
  if (this.complete || res === undefined || res.destroyed) return;
  (this[kWatch] as HttpForwarder).bodyCut(this[kClientReq] as TrackedRequest, res);
}

/** The routed target answered: its failure count starts again; a new sticky client gets its cookie. */
function answered(req: TrackedRequest, proxyRes: IncomingMessage): void {
  req[kAnswered] = true;
  recordSuccess((req[kMember] as HttpMember).state);
  const cookie = req[kSetCookie];
  if (cookie === undefined) return;
  const existing = proxyRes.headers['set-cookie'];
  proxyRes.headers['set-cookie'] = existing === undefined ? [cookie] : [...existing, cookie];
}

/** A routed response closed: its target has one request fewer in flight (least_conn). */
function releaseMember(this: ServerResponse): void {
  const member = (this.req as TrackedRequest)[kMember];
  if (member !== undefined) member.state.active--;
}

function isServerResponse(res: ServerResponse | Duplex): res is ServerResponse {
  return 'writeHead' in res;
}
