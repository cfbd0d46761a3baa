// Admin listener: health, readiness, Prometheus metrics, bouncer status, capabilities.
import http, { type ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { HostPort } from '../config/types';
/** What /metrics serves: the daemon's registry, or with --workers > 1 the primary's aggregate of every process. */
export interface MetricsSource {
  registry: { metrics(): Promise<string>; readonly contentType: string };
  /** Counts an exception caught by the admin request boundary. */
  requestError(where: 'admin'): void;
}
import { closeServer, listenOn } from '../listeners/listen';
import type { AdminUi } from './api';
import { answerFavicon } from '../forward/favicon';
import { adminPath } from './request-path';

export interface AdminState {
  /** Empty when ready; otherwise why not (for the /readyz body). */
  notReadyReasons(): string[] | Promise<string[]>;
  status(): unknown;
  supportsCrowdSec: boolean;
  /** --appsec-url is set: access.appsec can be enforce/observe. */
  supportsAppSec?: boolean;
}

export class AdminServer {
  private readonly server: http.Server;

  constructor(
    state: AdminState,
    metrics: MetricsSource,
    log: Logger,
    private readonly ui?: AdminUi,
  ) {
    this.server = http.createServer((req, res) => {
      // The boundary: whatever a handler throws (or rejects with) ends this request, never the process.
      let pending: void | Promise<void>;
      try {
        pending = this.route(req, res, state, metrics, log);
      } catch (err) {
        return this.failed(req, res, err, metrics, log);
      }
      if (pending !== undefined) pending.catch((err: unknown) => this.failed(req, res, err, metrics, log));
    });
  }

  private route(req: http.IncomingMessage, res: ServerResponse, state: AdminState, metrics: MetricsSource, log: Logger): void | Promise<void> {
    const path = adminPath(req.url);
    if (path === undefined) return send(res, 400, 'text/plain', 'Bad Request: malformed request target\n');
    if (answerFavicon(req, res)) return;
    // Probes and scrapers stay unauthenticated; everything else goes through the admin UI
    // (issue 14), which checks the admin token and hands back what is not its own.
    const ui = this.ui;
    if (ui !== undefined && path !== '/healthz' && path !== '/readyz' && path !== '/metrics') {
      return ui.handle(req, res, path, () => this.probes(req, res, path, state, metrics, log));
    }
    return this.probes(req, res, path, state, metrics, log);
  }

  private failed(req: http.IncomingMessage, res: ServerResponse, err: unknown, metrics: MetricsSource, log: Logger): void {
    metrics.requestError('admin');
    const e = err instanceof Error ? err : new Error(String(err));
    log.error({ where: 'admin', method: req.method, path: adminPath(req.url) ?? null, err: e.message, stack: e.stack }, 'admin request failed');
    if (!res.headersSent) send(res, 500, 'text/plain', 'Internal Server Error (see the proxy log)\n');
    else res.destroy();
  }

  private probes(req: http.IncomingMessage, res: ServerResponse, path: string, state: AdminState, metrics: MetricsSource, log: Logger): void | Promise<void> {
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain', 'Method Not Allowed\n');
    switch (path) {
      case '/healthz':
        return send(res, 200, 'text/plain', 'ok\n');
      case '/readyz':
        return Promise.resolve(state.notReadyReasons()).then((reasons) =>
          reasons.length === 0 ? send(res, 200, 'text/plain', 'ready\n') : send(res, 503, 'text/plain', `not ready: ${reasons.join('; ')}\n`),
        );
      case '/capabilities':
        return sendJson(res, { supports_crowdsec: state.supportsCrowdSec, supports_appsec: state.supportsAppSec === true });
      case '/status':
        return Promise.resolve(state.status()).then((body) => sendJson(res, body));
      case '/metrics':
        return metrics.registry.metrics().then(
          (text) => send(res, 200, metrics.registry.contentType, text),
          (err: Error) => {
            log.error({ err: err.message }, 'metrics collection failed');
            send(res, 500, 'text/plain', 'metrics collection failed\n');
          },
        );
      default:
        return send(res, 404, 'text/plain', 'Not Found\n');
    }
  }

  listen(addr: HostPort): Promise<void> {
    return listenOn(this.server, addr);
  }

  close(): Promise<void> {
    this.ui?.close();
    const closing = closeServer(this.server);
    this.server.closeAllConnections();
    return closing;
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json', `${JSON.stringify(value)}\n`);
}
