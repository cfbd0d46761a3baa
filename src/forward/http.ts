// HTTP and WebSocket forwarding through http-proxy, with keep-alive agents to the upstreams.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex, Readable } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import { classifyHttpError, statusForUpstreamError, type UpstreamErrorKind } from './errors';
import { rejectUpgrade, respond } from './responses';

export interface UpstreamTarget {
  service: string;
  url: URL;
  /** The service's own agent (upstream_tls), else the shared one for the URL's protocol. */
  agent?: http.Agent;
}

export interface HttpForwarderOptions {
  upstreamTimeoutMs: number;
  log: Logger;
  onUpstreamError(service: string, kind: UpstreamErrorKind): void;
}

const kTarget = Symbol('netbird-proxy.target');
const kUpgradeStatus = Symbol('netbird-proxy.upgradeStatus');
const kUpstreamError = Symbol('netbird-proxy.upstreamError');
type TrackedRequest = IncomingMessage & {
  [kTarget]?: UpstreamTarget;
  [kUpgradeStatus]?: number;
  [kUpstreamError]?: UpstreamErrorKind;
};

/** What the client got for a proxied upgrade: 101, the upstream's refusal status, or 502/504. */
export function upgradeStatus(req: IncomingMessage): number | undefined {
  return (req as TrackedRequest)[kUpgradeStatus];
}

/** The upstream failure this request met, if any (for the access log). */
export function upstreamErrorOf(req: IncomingMessage): UpstreamErrorKind | undefined {
  return (req as TrackedRequest)[kUpstreamError];
}

// Idle upstream sockets are dropped after 4 s: below the 5 s keep-alive of Node servers and
// far below nginx's 75 s, so the proxy never reuses a socket the upstream is about to close.
// A shorter "Keep-Alive: timeout=N" hint from the upstream wins (Node's agent honours it).
export const AGENT_OPTIONS = { keepAlive: true, timeout: 4000, maxFreeSockets: 256, scheduling: 'lifo' as const };

export class HttpForwarder {
  private readonly httpAgent = new http.Agent(AGENT_OPTIONS);
  private readonly httpsAgent = new https.Agent(AGENT_OPTIONS);
  private readonly proxy: httpProxy;

  constructor(private readonly opts: HttpForwarderOptions) {
    this.proxy = httpProxy.createProxyServer({ xfwd: false, ws: true });
    // Unhandled, http-proxy's error event would kill the process.
    this.proxy.on('error', (err, req, res) => this.onProxyError(err, req as TrackedRequest, res));
    this.proxy.on('proxyReq', (proxyReq) => this.armTimeout(proxyReq));
    this.proxy.on('proxyRes', (proxyRes, req, res) => this.watchBody(proxyRes, req as TrackedRequest, res));
    this.proxy.on('proxyReqWs', (proxyReq, req) => {
      const tracked = req as TrackedRequest;
      this.armTimeout(proxyReq);
      proxyReq.once('upgrade', () => (tracked[kUpgradeStatus] = 101));
      proxyReq.once('response', (res) => (tracked[kUpgradeStatus] = res.statusCode));
    });
  }

  /** `body`: the request body to send instead of reading `req` (AppSec read it first; src/appsec/body.ts). */
  web(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget, body?: Readable): void {
    (req as TrackedRequest)[kTarget] = target;
    this.proxy.web(req, res, { target: target.url, agent: target.agent ?? this.agentFor(target.url), buffer: body });
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

  private armTimeout(proxyReq: http.ClientRequest): void {
    proxyReq.setTimeout(this.opts.upstreamTimeoutMs, onUpstreamTimeout);
  }

  /**
   * An upstream that dies mid-body: http-proxy pipes the body and would leave the client waiting
   * for the rest forever. Cut the client connection so it sees a truncated response.
   */
  private watchBody(proxyRes: IncomingMessage, req: TrackedRequest, res: ServerResponse): void {
    proxyRes.once('close', () => {
      if (proxyRes.complete || res.destroyed) return;
      this.record(req, 'aborted', new Error('upstream closed the connection before the response was complete'));
      res.destroy();
    });
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
    if (!(req.socket.destroyed && kind === 'reset')) this.record(req, kind, err);
    if (res === undefined) return;
    if (isServerResponse(res)) {
      if (!res.headersSent && !res.destroyed) respond(res, statusForUpstreamError(kind), true);
      else res.destroy();
    } else if (req[kUpgradeStatus] === undefined && res.writable) {
      // An upgrade that failed before the upstream answered: tell the client, then close.
      const status = statusForUpstreamError(kind);
      req[kUpgradeStatus] = status;
      rejectUpgrade(res, status);
    } else {
      res.destroy();
    }
  }
}

/** What a timed-out upstream request is destroyed with, so that its error is named 'timeout'. */
class UpstreamTimeoutError extends Error {
  constructor() {
    super('upstream timed out');
  }
}

/** One shared 'timeout' listener for every upstream request (no closure per request). */
function onUpstreamTimeout(this: http.ClientRequest): void {
  this.destroy(new UpstreamTimeoutError());
}

function isServerResponse(res: ServerResponse | Duplex): res is ServerResponse {
  return 'writeHead' in res;
}
