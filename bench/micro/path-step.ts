// One request through the per-request path, on the real modules: HttpEntrypoint.admit() then
// logAccess() (src/listeners/http-entrypoint.ts, private there, so mirrored here: keep in step).
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { buildForwardedFor } from '../../src/client-ip/forwarded-for';
import { peerOf } from '../../src/client-ip/peer';
import { resolveHttpClientIp } from '../../src/client-ip/resolve';
import { setForwardedHeaders } from '../../src/forward/http';
import type { HostRouter } from '../../src/listeners/host-router';
import type { CidrSet } from '../../src/net/prefix-map';
import { evaluate, type ChainContext } from '../../src/restrictions/chain';
import { elapsedMs, metadataOrEmpty, type AccessLog } from '../../src/telemetry/access-log';
import type { Metrics } from '../../src/telemetry/metrics';

/** One keep-alive connection: a real net.Socket (no handle) whose peer address is set, and the
 * IncomingMessage the requests on it are parsed into. */
export interface Conn {
  req: IncomingMessage;
  host: string;
  xff: string | undefined;
}

export function connection(peer: string, host: string, xff: string | undefined): Conn {
  const socket = new Socket();
  Object.defineProperty(socket, 'remoteAddress', { value: peer });
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = '/';
  return { req, host, xff };
}

export interface PathDeps {
  router: HostRouter;
  trusted: CidrSet;
  chain: ChainContext;
  metrics: Metrics;
  accessLog: AccessLog;
}

export type Step = (c: Conn) => void;

/** HttpEntrypoint.admit() then logAccess() for a request that is answered at once (no upstream).
 * `parts` switches the metrics counter and the access line off, for the per-stage rows. */
export function pathStep(d: PathDeps, parts: { metrics: boolean; accessLine: boolean } = { metrics: true, accessLine: true }): Step {
  const { metrics, accessLine } = parts;
  return (c) => {
    const startNs = process.hrtime.bigint();
    const req = c.req;
    // Node's HTTP parser makes a fresh headers object per request.
    req.headers = freshHeaders(c);
    const service = d.router.match(req.headers.host);
    const peer = peerOf(req.socket, d.trusted);
    if (service === undefined) throw new Error(`no service for ${c.host}`);
    const xff = req.headers['x-forwarded-for'];
    const clientIp = peer.trusted && xff !== undefined ? resolveHttpClientIp(peer.address, xff, d.trusted) : peer.address;
    const verdict = evaluate(service.access, clientIp, d.chain, Date.now());
    if (verdict.allowed) {
      if (metrics) d.metrics.httpRequest(service.name, 'allowed', '');
      setForwardedHeaders(req, peer.trusted, buildForwardedFor(xff, peer.address, peer.trusted));
    } else if (metrics) {
      d.metrics.httpRequest(service.name, 'denied', verdict.denyReason);
    }
    if (!accessLine) return;
    d.accessLog.write({
      service: service.name,
      protocol: 'http',
      client_ip: clientIp,
      country: verdict.country,
      method: req.method,
      host: req.headers.host,
      path: req.url,
      status: verdict.allowed ? 200 : 403,
      bytes_in: 78,
      bytes_out: verdict.allowed ? 160 : 150,
      duration_ms: elapsedMs(startNs),
      deny_reason: verdict.denyReason,
      metadata: metadataOrEmpty(verdict.metadata),
    });
  };
}

function freshHeaders(c: Conn): IncomingHttpHeaders {
  return c.xff === undefined ? { host: c.host } : { host: c.host, 'x-forwarded-for': c.xff };
}

/** What the loop itself costs: the fresh headers object, nothing of ours. */
export const baselineStep: Step = (c) => {
  c.req.headers = freshHeaders(c);
};
