// One request through the per-request path, on the real modules: HttpEntrypoint.admit() then
// logAccess() (src/listeners/http-entrypoint.ts, private there, so mirrored here: keep in step).
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import { Socket } from 'node:net';
import { peerAt, toClientAddress, type Peer } from '../../src/client-ip/peer';
import { admitRequest, requestAccessEntry, type AdmissionContext } from '../../src/listeners/admission';
import { canonicalizeInPlace } from '../../src/listeners/canonical';
import type { HostRouter } from '../../src/listeners/host-router';
import type { IpSet } from '../../src/net/ip-set';
import type { ChainContext } from '../../src/restrictions/chain';
import { startClock, type AccessLog } from '../../src/telemetry/access-log';
import type { Metrics } from '../../src/telemetry/metrics';

/** One keep-alive connection: a real net.Socket (no handle) whose peer address is set, and the
 * IncomingMessage the requests on it are parsed into. */
export interface Conn {
  req: IncomingMessage;
  peer: Peer;
  host: string;
  xff: string | undefined;
}

export function connection(peer: string, trusted: IpSet, host: string, xff: string | undefined): Conn {
  const address = toClientAddress(peer);
  if (address === undefined) throw new Error(`not an address: ${peer}`);
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  req.url = '/';
  return { req, peer: peerAt(address, trusted), host, xff };
}

export interface PathDeps {
  router: HostRouter;
  trusted: IpSet;
  chain: ChainContext;
  metrics: Metrics;
  accessLog: AccessLog;
}

export type Step = (c: Conn) => void;

const NO_METRICS: AdmissionContext['metrics'] = { httpRequest: () => undefined };

/** The entrypoint's admission then its access entry (src/listeners/admission.ts), for a request
 * answered at once (no upstream). `parts` switches the metrics counter and the access line off,
 * for the per-stage rows. */
export function pathStep(d: PathDeps, parts: { metrics: boolean; accessLine: boolean } = { metrics: true, accessLine: true }): Step {
  const ctx: AdmissionContext = { router: d.router, trusted: d.trusted, chain: d.chain, metrics: parts.metrics ? d.metrics : NO_METRICS };
  const accessLine = parts.accessLine;
  return (c) => {
    const startMs = startClock();
    const req = c.req;
    // Node's HTTP parser makes a fresh headers object per request.
    req.headers = freshHeaders(c);
    const admission = admitRequest(ctx, req, c.peer, 'http', 8080);
    if (admission.service === undefined) throw new Error(`no service for ${c.host}`);
    if (!accessLine) return;
    const allowed = admission.verdict.allowed;
    d.accessLog.write(requestAccessEntry(req, admission, allowed ? 200 : 403, 78, allowed ? 160 : 150, startMs, undefined));
  };
}

function freshHeaders(c: Conn): IncomingHttpHeaders {
  return c.xff === undefined ? { host: c.host } : { host: c.host, 'x-forwarded-for': c.xff };
}

/** What the loop itself costs: the fresh headers object, nothing of ours. */
export const baselineStep: Step = (c) => {
  c.req.headers = freshHeaders(c);
};

/** The canonical-request checks alone (src/listeners/canonical.ts), on a request as Node's parser makes it. */
export const canonicalStep: Step = (c) => {
  const req = c.req;
  req.headers = freshHeaders(c);
  req.rawHeaders = ['Host', c.host];
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  req.httpVersion = '1.1';
  req.url = '/';
  if (canonicalizeInPlace(req, false) !== undefined) throw new Error('the bench request is not canonical');
};
