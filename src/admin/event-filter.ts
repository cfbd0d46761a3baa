// Query parameters of GET /api/events and /api/events/stream → an EventQuery, and the JSON shape
// one event has in the API.
import type { AccessEntry } from '../telemetry/access-log';
import { CidrSet } from '../net/cidr-set';
import { tryParseGoDuration } from '../util/duration';
import { outcomeOf, type EventQuery, type Outcome, type StoredEvent } from './event-log';

export const OUTCOMES: readonly Outcome[] = ['allowed', 'denied', 'observed', 'not_found'];
export const DEFAULT_LIMIT = 200;

export interface EventFilter extends EventQuery {
  limit: number;
}

export class FilterError extends Error {}

/** Parses the filter parameters; throws FilterError naming the parameter. */
export function parseEventFilter(q: URLSearchParams, maxLimit: number, nowMs: number): EventFilter {
  const text = (name: string): string | undefined => {
    const v = q.get(name);
    return v === null || v.trim() === '' ? undefined : v.trim();
  };
  const outcomeRaw = text('outcome');
  const outcome = OUTCOMES.find((o) => o === outcomeRaw);
  if (outcomeRaw !== undefined && outcome === undefined) throw new FilterError(`outcome: "${outcomeRaw}" is not one of ${OUTCOMES.join(', ')}`);
  const ipRaw = text('ip');
  let ip: CidrSet | undefined;
  if (ipRaw !== undefined) {
    try {
      ip = new CidrSet([ipRaw]);
    } catch {
      throw new FilterError(`ip: "${ipRaw}" is not an IP address or CIDR prefix (e.g. 203.0.113.7 or 203.0.113.0/24)`);
    }
  }
  const limitRaw = text('limit');
  let limit = Math.min(DEFAULT_LIMIT, maxLimit);
  if (limitRaw !== undefined) {
    if (!/^\d+$/.test(limitRaw) || Number(limitRaw) < 1) throw new FilterError(`limit: "${limitRaw}" is not a positive integer`);
    limit = Math.min(Number(limitRaw), maxLimit);
  }
  return {
    service: text('service'),
    outcome,
    reason: text('reason'),
    ip,
    since: parseTime(text('since'), 'since', nowMs),
    until: parseTime(text('until'), 'until', nowMs),
    limit,
  };
}

/** An ISO 8601 time, epoch milliseconds, or a Go duration meaning "that long ago" (15m, 1h). */
function parseTime(v: string | undefined, name: string, nowMs: number): number | undefined {
  if (v === undefined) return undefined;
  if (/^\d{10,}$/.test(v)) return Number(v);
  const ago = tryParseGoDuration(v);
  if (!Number.isNaN(ago)) return nowMs - ago;
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw new FilterError(`${name}: "${v}" is not a time (ISO 8601, epoch ms, or a duration ago such as 15m)`);
  return t;
}

export interface EventJson {
  seq: number;
  time: string;
  service: string;
  protocol: 'http' | 'tcp';
  client_ip: string;
  country: string | null;
  method: string | null;
  host: string | null;
  path: string | null;
  status: number | null;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  outcome: Outcome;
  deny_reason: string;
  /** CrowdSec remediation type (ban, captcha, ...) when CrowdSec had a verdict. */
  decision: string | null;
  crowdsec_mode: string | null;
  /** The upstream failure a 502/504 met (refused, timeout, reset, ...), null when none. */
  upstream_error: string | null;
  /** CrowdSec AppSec's action (allow is not recorded) and its mode, when the engine judged the request. */
  appsec_verdict: string | null;
  appsec_mode: string | null;
  /** Which worker served it; only with --workers > 1. */
  worker?: number;
  /** Services with auth (docs/auth.md): the method, the user when known, and whether the credential was good. */
  auth_mechanism?: string;
  user_id?: string;
  auth_success?: boolean;
  /** Services with access.challenge (docs/challenge.md): issued, passed or failed. */
  challenge?: string;
}

/** An access-log line as formatAccessLine writes it: the entry plus its time. */
type AccessLine = AccessEntry & { time: number; worker?: number };

/** A held event (its access-log line) in the API's shape. */
export function eventJson(ev: StoredEvent): EventJson {
  const a = JSON.parse(ev.line) as AccessLine;
  const mode = a.metadata.crowdsec_mode;
  const json: EventJson = {
    seq: ev.seq,
    time: new Date(ev.time).toISOString(),
    service: a.service,
    protocol: a.protocol,
    client_ip: a.client_ip,
    country: a.country ?? null,
    method: a.method ?? null,
    host: a.host ?? null,
    path: a.path ?? null,
    status: a.status ?? null,
    bytes_in: a.bytes_in,
    bytes_out: a.bytes_out,
    duration_ms: a.duration_ms,
    outcome: outcomeOf(a),
    deny_reason: a.deny_reason,
    decision: a.metadata.crowdsec_verdict ?? null,
    crowdsec_mode: mode ?? null,
    upstream_error: a.upstream_error ?? null,
    appsec_verdict: a.metadata.appsec_verdict ?? null,
    appsec_mode: a.metadata.appsec_mode ?? null,
  };
  if (a.worker !== undefined) json.worker = a.worker;
  if (a.auth_mechanism !== undefined) json.auth_mechanism = a.auth_mechanism;
  if (a.user_id !== undefined) json.user_id = a.user_id;
  if (a.auth_success !== undefined) json.auth_success = a.auth_success;
  if (a.challenge !== undefined) json.challenge = a.challenge;
  return json;
}
