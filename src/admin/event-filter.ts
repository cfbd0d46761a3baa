// Query parameters of GET /api/events and /api/events/stream → a predicate over stored events,
// and the JSON shape one event has in the API.
import { CidrSet } from '../net/prefix-map';
import { tryParseGoDuration } from '../util/duration';
import { outcomeOf, type Outcome, type StoredEvent } from './event-log';

export const OUTCOMES: readonly Outcome[] = ['allowed', 'denied', 'observed', 'not_found'];
export const DEFAULT_LIMIT = 200;

export interface EventFilter {
  service: string | undefined;
  outcome: Outcome | undefined;
  reason: string | undefined;
  ip: CidrSet | undefined;
  /** Epoch ms, inclusive. */
  since: number | undefined;
  until: number | undefined;
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

export function matches(f: EventFilter, ev: StoredEvent): boolean {
  const e = ev.entry;
  if (f.since !== undefined && ev.time < f.since) return false;
  if (f.until !== undefined && ev.time > f.until) return false;
  if (f.service !== undefined && e.service !== f.service) return false;
  if (f.outcome !== undefined && outcomeOf(e) !== f.outcome) return false;
  if (f.reason !== undefined && e.deny_reason !== f.reason && observedReason(ev) !== f.reason) return false;
  if (f.ip !== undefined && !f.ip.contains(e.client_ip)) return false;
  return true;
}

/** The deny_reason an observed request would have had in enforce mode. */
function observedReason(ev: StoredEvent): string | undefined {
  const verdict = ev.entry.metadata.crowdsec_verdict;
  return ev.entry.metadata.crowdsec_mode === 'observe' && verdict !== undefined ? `crowdsec_${verdict}` : undefined;
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
}

export function eventJson(ev: StoredEvent): EventJson {
  const e = ev.entry;
  return {
    seq: ev.seq,
    time: new Date(ev.time).toISOString(),
    service: e.service,
    protocol: e.protocol,
    client_ip: e.client_ip,
    country: e.country ?? null,
    method: e.method ?? null,
    host: e.host ?? null,
    path: e.path ?? null,
    status: e.status ?? null,
    bytes_in: e.bytes_in,
    bytes_out: e.bytes_out,
    duration_ms: e.duration_ms,
    outcome: outcomeOf(e),
    deny_reason: e.deny_reason,
    decision: e.metadata.crowdsec_verdict ?? null,
    crowdsec_mode: e.metadata.crowdsec_mode ?? null,
  };
}
