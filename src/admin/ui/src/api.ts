// The JSON API the page is built on (documented in docs/admin-ui.md), typed.

export type Outcome = 'allowed' | 'denied' | 'observed' | 'not_found';
export type Mode = 'off' | 'enforce' | 'observe';

export interface EventRow {
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
  decision: string | null;
  crowdsec_mode: string | null;
  upstream_error: string | null;
  auth_mechanism?: string;
  user_id?: string;
  auth_success?: boolean;
  /** Services with access.challenge: issued, passed or failed. */
  challenge?: string;
  appsec_verdict: string | null;
  appsec_mode: string | null;
}

export interface EventsResponse {
  newest_seq: number;
  held: number;
  capacity: number;
  events: EventRow[];
}

export interface Session {
  auth_required: boolean;
  csrf_token: string;
  event_log_size: number;
  access_log: string;
}

export interface AllowDeny {
  allow: string[];
  deny: string[];
}

export interface ServiceInfo {
  name: string;
  protocol: 'http' | 'tcp';
  domains: string[] | null;
  listen: string | null;
  target: string;
  access: { cidr: AllowDeny; countries: AllowDeny; crowdsec: Mode; appsec?: { mode: Mode; skipPaths: string[] } };
  /** Services with routes or several targets (src/admin/status.ts RouteStatus). */
  routes?: RouteInfo[] | null;
  /** Login in front of the service (src/auth/summary.ts); null: none. */
  auth: { method: 'password' | 'pin' | 'oidc' | 'header'; issuer?: string; allowed_groups?: string[]; allowed_emails?: string[]; header?: string } | null;
  counters: { allowed: number; observed: number; denied: Record<string, number> } | null;
}

export interface RouteInfo {
  route: string;
  balance: string;
  /** http: the route's login (its own or the service's); null or absent: none. */
  auth?: ServiceInfo['auth'];
  targets: { target: string; weight: number; backup: boolean; health: 'up' | 'down'; down_reason?: string; probe_error?: string }[];
}

export interface ServicesResponse {
  supports_crowdsec: boolean;
  crowdsec_hint: string | null;
  supports_appsec?: boolean;
  appsec_hint?: string | null;
  config_file: string;
  version: string | null;
  services: ServiceInfo[];
}

export interface BouncerStatus {
  configured: boolean;
  state: string;
  services?: { service: string; mode: string }[];
  decisions?: { total: number; by_type: Record<string, number>; by_origin: Record<string, number> };
  last_successful_pull?: string | null;
  seconds_since_last_pull?: number | null;
  last_error?: string | null;
  pulls_ok?: number;
  pulls_failed?: number;
}

/** One row of /status `certificates`: one configured TLS name (src/tls/status.ts). */
export interface CertificateStatus {
  name: string;
  service: string;
  source: 'acme' | 'file';
  state: 'valid' | 'expired' | 'pending';
  names: string[];
  issuer: string | null;
  not_before: string | null;
  not_after: string | null;
  serial: string | null;
  last_error: string | null;
  last_error_at: string | null;
  next_renewal: string | null;
  next_check: string | null;
}

export interface StatusResponse {
  version: string;
  crowdsec: BouncerStatus;
  certificates: CertificateStatus[];
  /** Routed services carry `routes` (with --workers: every worker's view merged). */
  services?: { name: string; routes?: RouteInfo[] }[];
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let session: Session | undefined;

async function request<T>(method: string, url: string, body?: unknown, retried = false): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['x-csrf-token'] = (await getSession()).csrf_token;
  }
  const res = await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  // Without --admin-token the CSRF token is per process: after a proxy restart, fetch it again once.
  if (res.status === 403 && body !== undefined && !retried && (await res.clone().text()).includes('x-csrf-token')) {
    session = undefined;
    return request<T>(method, url, body, true);
  }
  if (res.status === 401) {
    location.assign('/login');
    throw new ApiError(401, 'signed out');
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ApiError(res.status, text.trim() || `HTTP ${res.status}`);
  }
  if (!res.ok) {
    const err = parsed as { error?: unknown };
    throw new ApiError(res.status, typeof err.error === 'string' ? err.error : `HTTP ${res.status}`);
  }
  return parsed as T;
}

export async function getSession(): Promise<Session> {
  session ??= await request<Session>('GET', '/api/session');
  return session;
}

export const getEvents = (query: URLSearchParams): Promise<EventsResponse> => request('GET', `/api/events?${query.toString()}`);
export const getServices = (): Promise<ServicesResponse> => request('GET', '/api/services');
export const getStatus = (): Promise<StatusResponse> => request('GET', '/status');
export const putMode = (
  service: string,
  mode: Mode,
  version: string | null,
  field: 'crowdsec' | 'appsec' = 'crowdsec',
): Promise<{ service: string; mode: Mode; version: string; changed: boolean }> =>
  request('PUT', `/api/services/${encodeURIComponent(service)}/${field}`, version === null ? { mode } : { mode, version });

/** The access log line as the live stream sends it (see docs/admin-ui.md). */
interface AccessLine {
  time: number;
  service: string;
  protocol: 'http' | 'tcp';
  client_ip: string;
  country?: string;
  method?: string;
  host?: string;
  path?: string;
  status?: number;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  deny_reason: string;
  upstream_error?: string;
  metadata: Record<string, string>;
  auth_mechanism?: string;
  user_id?: string;
  auth_success?: boolean;
  challenge?: string;
}

/** One SSE message → rows, oldest first. Each data line is "<seq> <access log JSON line>". */
export function parseStreamBatch(data: string): EventRow[] {
  const rows: EventRow[] = [];
  for (const text of data.split('\n')) {
    const space = text.indexOf(' ');
    if (space <= 0) continue;
    const a = JSON.parse(text.slice(space + 1)) as AccessLine;
    const mode = a.metadata.crowdsec_mode ?? null;
    rows.push({
      seq: Number(text.slice(0, space)),
      time: new Date(a.time).toISOString(),
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
      outcome:
        a.deny_reason !== '' ? 'denied' : a.service === '' ? 'not_found' : mode === 'observe' || a.metadata.appsec_mode === 'observe' ? 'observed' : 'allowed',
      deny_reason: a.deny_reason,
      decision: a.metadata.crowdsec_verdict ?? null,
      crowdsec_mode: mode,
      upstream_error: a.upstream_error ?? null,
      auth_mechanism: a.auth_mechanism,
      user_id: a.user_id,
      auth_success: a.auth_success,
      challenge: a.challenge,
      appsec_verdict: a.metadata.appsec_verdict ?? null,
      appsec_mode: a.metadata.appsec_mode ?? null,
    });
  }
  return rows;
}
