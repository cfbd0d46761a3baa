// HTTP and WebSocket forwarding through http-proxy, with keep-alive agents to the upstreams.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import httpProxy from 'http-proxy';
import type { Logger } from 'pino';
import type { UpstreamErrorKind } from '../telemetry/metrics';
import { classifySocketError } from './tcp';

export interface UpstreamTarget {
  service: string;
  url: URL;
}

export interface HttpForwarderOptions {
  upstreamTimeoutMs: number;
  log: Logger;
  onUpstreamError(service: string, kind: UpstreamErrorKind): void;
}

const kTarget = Symbol('netbird-proxy.target');
const kTimedOut = Symbol('netbird-proxy.timedOut');
const kUpgradeStatus = Symbol('netbird-proxy.upgradeStatus');
type TrackedRequest = IncomingMessage & { [kTarget]?: UpstreamTarget; [kTimedOut]?: boolean; [kUpgradeStatus]?: number };

/** What the client got for a proxied upgrade: 101, the upstream's refusal status, or 502/504. */
export function upgradeStatus(req: IncomingMessage): number | undefined {
  return (req as TrackedRequest)[kUpgradeStatus];
}

// Idle upstream sockets are dropped after 4 s: below the 5 s keep-alive of Node servers and
// far below nginx's 75 s, so the proxy never reuses a socket the upstream is about to close.
// A shorter "Keep-Alive: timeout=N" hint from the upstream wins (Node's agent honours it).
const AGENT_OPTIONS = { keepAlive: true, timeout: 4000, maxFreeSockets: 256, scheduling: 'lifo' as const };

export class HttpForwarder {
  private readonly httpAgent = new http.Agent(AGENT_OPTIONS);
  private readonly httpsAgent = new https.Agent(AGENT_OPTIONS);
  private readonly proxy: httpProxy;

  constructor(private readonly opts: HttpForwarderOptions) {
    this.proxy = httpProxy.createProxyServer({ xfwd: false, ws: true });
    // Unhandled, http-proxy's error event would kill the process.
    this.proxy.on('error', (err, req, res) => this.onProxyError(err, req as TrackedRequest, res));
    this.proxy.on('proxyReq', (proxyReq, req) => this.armTimeout(proxyReq, req as TrackedRequest));
    this.proxy.on('proxyReqWs', (proxyReq, req) => {
      const tracked = req as TrackedRequest;
      this.armTimeout(proxyReq, tracked);
      proxyReq.once('upgrade', () => (tracked[kUpgradeStatus] = 101));
      proxyReq.once('response', (res) => (tracked[kUpgradeStatus] = res.statusCode));
    });
  }

  web(req: IncomingMessage, res: ServerResponse, target: UpstreamTarget): void {
    (req as TrackedRequest)[kTarget] = target;
    this.proxy.web(req, res, { target: target.url, agent: this.agentFor(target.url) });
  }

  ws(req: IncomingMessage, socket: Duplex, head: Buffer, target: UpstreamTarget): void {
    (req as TrackedRequest)[kTarget] = target;
    this.proxy.ws(req, socket, head, { target: target.url, agent: this.agentFor(target.url) });
  }

  close(): void {
    this.httpAgent.destroy();
    this.httpsAgent.destroy();
  }

  private agentFor(url: URL): http.Agent {
    return url.protocol === 'https:' ? this.httpsAgent : this.httpAgent;
  }

  private armTimeout(proxyReq: http.ClientRequest, req: TrackedRequest): void {
    proxyReq.setTimeout(this.opts.upstreamTimeoutMs, () => {
      req[kTimedOut] = true;
      proxyReq.destroy(new Error('upstream timed out'));
    });
  }

  private onProxyError(err: Error, req: TrackedRequest, res: ServerResponse | Duplex | undefined): void {
    const target = req[kTarget];
    const kind: UpstreamErrorKind = req[kTimedOut] === true ? 'timeout' : classify(err);
    const clientGone = req.socket.destroyed;
    if (target !== undefined && !(clientGone && kind === 'reset')) {
      this.opts.onUpstreamError(target.service, kind);
      this.opts.log.warn({ service: target.service, upstream: target.url.origin, kind, err: err.message }, 'upstream error');
    }
    if (res === undefined) return;
    if (isServerResponse(res)) {
      if (!res.headersSent && !res.destroyed) {
        const status = kind === 'timeout' ? 504 : 502;
        const body = status === 504 ? 'Gateway Timeout\n' : 'Bad Gateway\n';
        res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
        res.end(body);
      } else {
        res.destroy();
      }
    } else {
      // An upgrade that failed before the upstream answered: tell the client, then close.
      if (req[kUpgradeStatus] === undefined && res.writable) {
        const status = kind === 'timeout' ? 504 : 502;
        req[kUpgradeStatus] = status;
        res.once('finish', () => res.destroy());
        res.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      } else {
        res.destroy();
      }
    }
  }
}

function isServerResponse(res: ServerResponse | Duplex): res is ServerResponse {
  return 'writeHead' in res;
}

function classify(err: Error): UpstreamErrorKind {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && (code.startsWith('ERR_TLS') || code.includes('CERT'))) return 'tls';
  return classifySocketError(err);
}

/** X-Forwarded-* as the upstream should see them: a trusted peer's values are kept and extended. */
export function setForwardedHeaders(req: IncomingMessage, peerTrusted: boolean, forwardedFor: string): void {
  const headers = req.headers;
  headers['x-forwarded-for'] = forwardedFor;
  if (!peerTrusted || headers['x-forwarded-proto'] === undefined) headers['x-forwarded-proto'] = 'http';
  if (!peerTrusted || headers['x-forwarded-host'] === undefined) {
    if (headers.host !== undefined) headers['x-forwarded-host'] = headers.host;
    else delete headers['x-forwarded-host'];
  }
}
