// One HTTP request's admission: client IP → host route → restriction chain → forwarding headers,
// and the access entry it ends with. Pure apart from the counter it bumps, so the per-request
// benchmark (bench/micro/path.ts) runs exactly this.
import type { IncomingMessage } from 'node:http';
import type { AuthOutcome } from '../auth/types';
import type { ChallengeOutcome } from '../challenge/core';
import type { ChallengeJudge } from '../challenge/gate';
import { resolveForwardedFor } from '../client-ip/forwarded-for';
import type { ClientAddress, Peer } from '../client-ip/peer';
import { isHttp2Request } from '../forward/h2-response';
import { setForwardingHeaders } from '../forward/headers';
import { setVerdictHeaders } from '../forward/verdict-headers';
import type { IpSet } from '../net/ip-set';
import { evaluate, type ChainContext } from '../restrictions/chain';
import type { Verdict } from '../restrictions/types';
import type { HttpServiceRuntime } from '../services';
import type { RouteRuntime } from '../service-routes';
import { clientUrlOf, upstreamOf } from '../forward/http';
import { elapsedMs, metadataOrEmpty, type AccessEntry } from '../telemetry/access-log';
import type { Metrics } from '../telemetry/metrics';
import type { HostRouter } from './host-router';
import { countAdmission, type UsageRecorder } from '../crowdsec/usage/counters';
import type { H2Request } from './http2-request';
import { requestIdFor } from './request-id';

export interface AdmissionContext {
  router: HostRouter;
  trusted: IpSet;
  chain: ChainContext;
  metrics: Pick<Metrics, 'httpRequest'>;
  /** CrowdSec usage metrics; undefined when they are not pushed. */
  usage?: UsageRecorder;
  /** Services with access.challenge (src/challenge/). */
  challenge?: ChallengeJudge;
}

export type Admission = { requestId: string; auth?: AuthOutcome; challenge?: ChallengeOutcome } & (
  | { service: undefined; clientIp: ClientAddress; verdict: undefined; route?: undefined }
  | {
      service: HttpServiceRuntime;
      clientIp: ClientAddress;
      verdict: Verdict;
      /** Routed services: the request's route, whose access was judged. */ route?: RouteRuntime;
    }
);

/** Routes, resolves the client and runs the chain; counts the outcome; rewrites the forwarding headers of an admitted request. */
export function admitRequest(ctx: AdmissionContext, req: IncomingMessage, peer: Peer, scheme: string, port: number): Admission {
  const forwardedFor = resolveForwardedFor(peer, req.headers['x-forwarded-for'], ctx.trusted);
  const requestId = requestIdFor(peer, req.headers['x-request-id']);
  const service = ctx.router.match(req.headers.host);
  if (service === undefined) {
    ctx.metrics.httpRequest('', 'not_found', '');
    return { requestId, service, clientIp: forwardedFor.clientIp, verdict: undefined, route: undefined, auth: undefined, challenge: undefined };
  }
  const route = service.routing?.match(req.url);
  const access = route === undefined ? service.access : route.access;
  const nowMs = Date.now();
  let verdict = evaluate(access, forwardedFor.clientIp, ctx.chain, nowMs);
  let challenge: ChallengeOutcome | undefined;
  if (access.challenge !== undefined && ctx.challenge !== undefined) {
    ({ verdict, outcome: challenge } = ctx.challenge.admit(req, verdict, forwardedFor.clientIp, service.name, nowMs));
  }
  if (ctx.usage !== undefined && access.crowdsec !== 'off') countAdmission(ctx.usage, 'request', verdict);
  if (verdict.allowed) {
    // AppSec services: counted by the gate once the engine has judged (src/appsec/gate.ts).
    if (service.config.access.appsec.mode === 'off') ctx.metrics.httpRequest(service.name, 'allowed', '');
    setForwardingHeaders(req.headers, { peer, forwardedFor, scheme, port });
    req.headers['x-request-id'] = requestId;
    setVerdictHeaders(req.headers, service.config.forwardVerdict, verdict);
  } else {
    ctx.metrics.httpRequest(service.name, 'denied', verdict.denyReason);
  }
  // One object shape for every request, routed or not, with auth or not.
  return { requestId, service, clientIp: forwardedFor.clientIp, verdict, route, auth: undefined, challenge };
}

export function requestAccessEntry(
  req: IncomingMessage,
  admission: Admission,
  status: number,
  bytesIn: number,
  bytesOut: number,
  startMs: number,
  upstreamError: string | undefined,
  scheme: 'http' | 'https' = 'http',
  sni?: string,
): AccessEntry {
  const verdict = admission.verdict;
  return {
    service: admission.service?.name ?? '',
    protocol: 'http',
    scheme,
    sni,
    request_id: admission.requestId,
    client_ip: admission.clientIp,
    country: verdict?.country,
    method: req.method,
    host: req.headers.host,
    path: admission.route === undefined ? req.url : clientUrlOf(req),
    http_version: req.httpVersion,
    stream_id: isHttp2Request(req) ? (req as unknown as H2Request).streamId : undefined,
    status,
    bytes_in: bytesIn,
    bytes_out: bytesOut,
    duration_ms: elapsedMs(startMs),
    deny_reason: verdict?.denyReason ?? '',
    upstream_error: upstreamError,
    route: admission.route === undefined ? undefined : admission.route.name,
    upstream: admission.route === undefined ? undefined : upstreamOf(req),
    metadata: metadataOrEmpty(verdict?.metadata),
    auth_mechanism: admission.auth?.mechanism,
    user_id: admission.auth?.userId,
    auth_success: admission.auth?.success,
    challenge: admission.challenge,
  };
}
