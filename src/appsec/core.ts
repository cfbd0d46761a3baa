// The pure part of the AppSec client: which requests go to the engine, the headers the engine gets,
// what its answer means, and the verdict that results. No I/O; unit-tested on its own.
//
// The protocol (CrowdSec docs appsec/protocol, crowdsecurity/crowdsec pkg/appsec/request.go):
// one request per client request, GET without a body and POST with one (an exact Content-Length:
// released engines read exactly that many bytes), the client's headers plus X-Crowdsec-Appsec-Ip,
// -Uri, -Verb (the three required: 500 without them), -Host, -User-Agent, -Http-Version,
// -Api-Key and -Transaction-Id. The answer is JSON {"action", "http_status"}; the action decides,
// not the status code (the engine's codes are configurable), except 401: the key was refused.
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { AppSecConfig } from '../config/types';
import type { Verdict } from '../restrictions/types';
import type { AppSecFailureAction } from './settings';

const APPSEC_PREFIX = 'x-crowdsec-appsec-';

/** Headers that describe one hop, not the request (RFC 9110 7.6.1), plus what the client request sets itself. */
const NOT_COPIED = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
  'host',
  'expect',
]);

/** The admin UI's session cookie (src/admin/auth.ts SESSION_COOKIE): a proxy secret, never sent to the engine. */
export const PROXY_COOKIES: readonly string[] = ['nbp_session'];

/**
 * Whether a request of a service is sent to the engine. skip_paths match the path as sent; a path
 * with dot segments, encoded dots or slashes, or backslashes is judged anyway: an upstream may
 * resolve `/upload/../admin` to `/admin`, and a prefix must not open a way around the WAF.
 */
export function appsecApplies(config: AppSecConfig, url: string): boolean {
  if (config.mode === 'off') return false;
  const skip = config.skipPaths;
  if (skip.length === 0) return true;
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  for (const prefix of skip) {
    if (path.startsWith(prefix)) return !isPlainPath(path);
  }
  return true;
}

function isPlainPath(path: string): boolean {
  return !/(^|\/)\.\.?(\/|$)|%2e|%2f|%5c|\\/i.test(path);
}

/** Drops client-sent X-Crowdsec-Appsec-* from a request's headers: only the proxy speaks for a request, to the engine and upstream. */
export function stripAppSecHeaders(headers: IncomingHttpHeaders): void {
  for (const name in headers) if (name.startsWith(APPSEC_PREFIX)) delete headers[name];
}

/** What the engine is told about the request besides the client's own headers. */
export interface EngineRequestInfo {
  clientIp: string;
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  httpVersion: string;
  requestId: string;
  apiKey: string;
  /** Bytes of the body sent, or undefined: headers only (GET). */
  bodyLength: number | undefined;
}

/** "1.1" → "11", "2.0" → "20", "1.0" → "10". */
export function versionCode(httpVersion: string): string {
  return httpVersion.length === 3 && httpVersion[1] === '.' ? `${httpVersion[0]}${httpVersion[2]}` : '11';
}

/**
 * The engine request's headers: the client's minus hop-by-hop ones, minus any client-sent
 * X-Crowdsec-Appsec-* (only the proxy speaks for the request), minus the proxy's own secrets, plus
 * the protocol's headers and an exact Content-Length when a body goes along.
 */
export function engineHeaders(client: IncomingHttpHeaders, info: EngineRequestInfo): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const name in client) {
    const value = client[name];
    if (value === undefined || NOT_COPIED.has(name) || name.startsWith(APPSEC_PREFIX)) continue;
    if (name === 'cookie') {
      const kept = withoutProxyCookies(value as string);
      if (kept !== '') out.cookie = kept;
      continue;
    }
    out[name] = value;
  }
  out['x-crowdsec-appsec-ip'] = info.clientIp;
  out['x-crowdsec-appsec-uri'] = info.url;
  out['x-crowdsec-appsec-verb'] = info.method;
  const host = client.host;
  if (host !== undefined) out['x-crowdsec-appsec-host'] = host;
  const ua = client['user-agent'];
  if (ua !== undefined) out['x-crowdsec-appsec-user-agent'] = ua;
  out['x-crowdsec-appsec-http-version'] = versionCode(info.httpVersion);
  out['x-crowdsec-appsec-api-key'] = info.apiKey;
  out['x-crowdsec-appsec-transaction-id'] = info.requestId;
  if (info.bodyLength !== undefined) out['content-length'] = info.bodyLength;
  return out;
}

/** A Cookie header without the proxy's own cookies ("" when nothing is left). */
export function withoutProxyCookies(header: string): string {
  let mine = false;
  for (const name of PROXY_COOKIES) if (header.includes(name)) mine = true;
  if (!mine) return header;
  return header
    .split(';')
    .filter((pair) => !PROXY_COOKIES.includes(pair.split('=', 1)[0]?.trim() ?? ''))
    .map((pair) => pair.trim())
    .join('; ');
}

/** Why the engine could not judge a request. */
export type EngineFailure = 'unreachable' | 'timeout' | 'unauthorized' | 'bad_status' | 'bad_answer' | 'overloaded';

export type EngineResult = { ok: true; action: string; httpStatus: number | undefined } | { ok: false; failure: EngineFailure; status?: number };

const ACTION_RE = /^[a-z0-9_-]{1,32}$/;

/** The engine's answer: JSON {"action", "http_status"} whatever the status code, except 401. */
export function parseEngineAnswer(status: number, body: string): EngineResult {
  if (status === 401) return { ok: false, failure: 'unauthorized', status };
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return { ok: false, failure: body === '' ? 'bad_status' : 'bad_answer', status };
  }
  if (parsed === null || typeof parsed !== 'object') return { ok: false, failure: 'bad_answer', status };
  const { action, http_status: httpStatus } = parsed as { action?: unknown; http_status?: unknown };
  if (typeof action !== 'string') return { ok: false, failure: 'bad_answer', status };
  const name = action.toLowerCase();
  if (!ACTION_RE.test(name)) return { ok: false, failure: 'bad_answer', status };
  const code = typeof httpStatus === 'number' && Number.isInteger(httpStatus) && httpStatus >= 100 && httpStatus <= 599 ? httpStatus : undefined;
  return { ok: true, action: name, httpStatus: code };
}

/** The verdict after AppSec, and the status a denied client is shown (the engine's http_status). */
export interface AppSecOutcome {
  verdict: Verdict;
  /** For a denial: the engine's http_status when it is a 4xx/5xx; else the service's deny status applies. */
  denyStatus: number | undefined;
}

/**
 * Folds the engine's result into the chain's verdict (which allowed the request). Enforce denies on
 * any action but allow, and on a failure when the failure action is deny; observe only annotates,
 * like CrowdSec's observe mode (deny_reason empty, appsec_verdict and appsec_mode in metadata).
 */
export function appsecOutcome(
  chain: Verdict,
  mode: 'enforce' | 'observe',
  result: EngineResult,
  failureAction: AppSecFailureAction,
  bodySkipped: boolean,
): AppSecOutcome {
  const meta: Record<string, string> = chain.metadata === undefined ? {} : { ...chain.metadata };
  if (bodySkipped) meta.appsec_body = 'skipped';
  if (result.ok && result.action === 'allow') return { verdict: withMeta(chain, true, '', meta), denyStatus: undefined };
  meta.appsec_mode = mode;
  if (result.ok) {
    meta.appsec_verdict = result.action;
    if (mode === 'observe') return { verdict: withMeta(chain, true, '', meta), denyStatus: undefined };
    const status = result.httpStatus !== undefined && result.httpStatus >= 400 ? result.httpStatus : undefined;
    return { verdict: withMeta(chain, false, `appsec_${result.action}`, meta), denyStatus: status };
  }
  meta.appsec_verdict = 'unavailable';
  meta.appsec_error = result.failure;
  const deny = mode === 'enforce' && failureAction === 'deny';
  return { verdict: withMeta(chain, !deny, deny ? 'appsec_unavailable' : '', meta), denyStatus: undefined };
}

function withMeta(chain: Verdict, allowed: boolean, denyReason: Verdict['denyReason'], meta: Record<string, string>): Verdict {
  const metadata = Object.keys(meta).length === 0 ? undefined : meta;
  return { allowed, denyReason, country: chain.country, metadata, decision: allowed ? chain.decision : undefined };
}

/** Engine requests in flight, bounded: over the cap a request is not sent (the failure action applies). */
export class InFlight {
  private n = 0;
  constructor(readonly max: number) {}

  get count(): number {
    return this.n;
  }

  tryAcquire(): boolean {
    if (this.n >= this.max) return false;
    this.n++;
    return true;
  }

  release(): void {
    if (this.n > 0) this.n--;
  }
}
