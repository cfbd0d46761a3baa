// One JSON line per HTTP request and per TCP connection, with "msg":"access", in pino's line
// format (level, time, fields, msg). The schema is fixed, so the line is built directly: this is
// written once per request and pino's generic serialisation cost more than the rest of our code.
import { performance } from 'node:perf_hooks';
import type { DenyReason } from '../restrictions/types';

export interface AccessEntry {
  service: string;
  protocol: 'http' | 'tcp';
  /** HTTP: the entrypoint the request came in on. */
  scheme?: 'http' | 'https';
  /** HTTPS: the server name the client sent in its TLS ClientHello, when it sent one. */
  sni?: string;
  /** HTTP: X-Request-Id as sent upstream (src/listeners/request-id.ts). */
  request_id?: string;
  client_ip: string;
  country?: string;
  method?: string;
  host?: string;
  path?: string;
  /** HTTP: the request's version as Node read it: "1.0", "1.1" or "2.0". */
  http_version?: string;
  /** HTTP/2: the request's stream id on its connection. */
  stream_id?: number;
  status?: number;
  bytes_in: number;
  bytes_out: number;
  duration_ms: number;
  deny_reason: DenyReason;
  /** The upstream failure the request met (refused, timeout, reset, aborted, ...), absent when none. */
  upstream_error?: string;
  /** Routed services (routes or several targets): the route ("default" or its path prefix) and the target the request went to. */
  route?: string;
  upstream?: string;
  metadata: Record<string, string>;
  /** Services with auth (src/auth/): password, pin, oidc or header. */
  auth_mechanism?: string;
  /** The signed-in user (OIDC), when known. */
  user_id?: string;
  /** true: a valid session or credential; false: a wrong one; absent: none presented. */
  auth_success?: boolean;
  /** Services with access.challenge: the page was shown, a challenge was passed (or its cookie), or failed. */
  challenge?: 'issued' | 'passed' | 'failed';
}

/** Where lines go: the shared stdout destination or the --access-log file. */
export interface LineSink {
  write(line: string): boolean;
}

const NO_METADATA: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** What JSON.stringify would escape in a string: quote, backslash, control characters, surrogates. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what is looked for
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** JSON.stringify(s), without its generic entry for the common plain string (hosts, paths). */
function quote(s: string): string {
  return NEEDS_ESCAPE.test(s) ? JSON.stringify(s) : `"${s}"`;
}

export function metadataOrEmpty(metadata: Record<string, string> | undefined): Record<string, string> {
  return metadata ?? NO_METADATA;
}

export class AccessLog {
  /** The admin event log's ring (issue 14); undefined with --event-log-size 0. */
  tap: { append(entry: AccessEntry, time: number, line: string): void } | undefined;

  /** `head` starts every line; a worker of --workers > 1 adds its number: `{"level":30,"worker":2`. */
  constructor(
    private readonly sink: LineSink,
    private readonly head: string = LINE_HEAD,
  ) {}

  write(entry: AccessEntry): void {
    const time = Date.now();
    const line = formatAccessLine(entry, time, this.head);
    this.sink.write(line);
    if (this.tap !== undefined) this.tap.append(entry, time, line);
  }
}

export const LINE_HEAD = '{"level":30';

export function formatAccessLine(e: AccessEntry, time: number, head: string = LINE_HEAD): string {
  let line = `${linePrefix(time, head)}"service":"${e.service}","protocol":"${e.protocol}"`;
  if (e.scheme !== undefined) line += `,"scheme":"${e.scheme}"`;
  if (e.sni !== undefined) line += `,"sni":${quote(e.sni)}`;
  if (e.request_id !== undefined) line += `,"request_id":${quote(e.request_id)}`;
  line += `,"client_ip":"${e.client_ip}"`;
  if (e.country !== undefined) line += `,"country":${quote(e.country)}`;
  if (e.method !== undefined) line += `,"method":"${e.method}"`;
  if (e.host !== undefined) line += `,"host":${quote(e.host)}`;
  if (e.path !== undefined) line += `,"path":${quote(e.path)}`;
  if (e.http_version !== undefined) line += `,"http_version":"${e.http_version}"`;
  if (e.stream_id !== undefined) line += `,"stream_id":${e.stream_id}`;
  if (e.status !== undefined) line += `,"status":${e.status}`;
  const metadata = e.metadata === NO_METADATA ? '{}' : JSON.stringify(e.metadata);
  line += `,"bytes_in":${e.bytes_in},"bytes_out":${e.bytes_out},"duration_ms":${decimalMs(e.duration_ms)},"deny_reason":"${e.deny_reason}"`;
  if (e.upstream_error !== undefined) line += `,"upstream_error":${quote(e.upstream_error)}`;
  if (e.route !== undefined) line += `,"route":${quote(e.route)}`;
  if (e.upstream !== undefined) line += `,"upstream":${quote(e.upstream)}`;
  if (e.auth_mechanism !== undefined) line += `,"auth_mechanism":"${e.auth_mechanism}"`;
  if (e.user_id !== undefined) line += `,"user_id":${quote(e.user_id)}`;
  if (e.auth_success !== undefined) line += `,"auth_success":${e.auth_success}`;
  if (e.challenge !== undefined) line += `,"challenge":"${e.challenge}"`;
  return `${line},"metadata":${metadata},"msg":"access"}\n`;
}

// Written without JSON escaping, as nothing in them can need it: service names (config: [a-z0-9-]),
// protocol and scheme, client addresses (normalised IPs), methods (tokens Node's parser accepts),
// deny reasons (a fixed set) and HTTP versions (digits and a dot, set by Node). Host, path, SNI,
// country, metadata and errors are quoted.

/** `{"level":30,"time":<ms>,` — converting a 13-digit time to text costs more than the rest of a field,
 * and many lines share a millisecond. */
let prefixTime = NaN;
let prefixHead = '';
let prefixText = '';
function linePrefix(time: number, head: string): string {
  if (time !== prefixTime || head !== prefixHead) {
    prefixTime = time;
    prefixHead = head;
    prefixText = `${head},"time":${time},`;
  }
  return prefixText;
}

/** The same text as String(ms) for a duration rounded to microseconds (elapsedMs()), from integers:
 * a fractional number's shortest decimal form is the costly case of number-to-text. */
export function decimalMs(ms: number): string {
  const us = Math.round(ms * 1000);
  if (!Number.isSafeInteger(us) || us < 0) return String(ms);
  const whole = Math.floor(us / 1000);
  let frac = us - whole * 1000;
  if (frac === 0) return `${whole}`;
  let digits = 3;
  while (frac % 10 === 0) {
    frac /= 10;
    digits--;
  }
  return `${whole}.${String(frac).padStart(digits, '0')}`;
}

/** A monotonic start time for elapsedMs(): a plain number, where process.hrtime.bigint() allocated a BigInt per call. */
export function startClock(): number {
  return performance.now();
}

/** Milliseconds since `startMs` (from startClock()), rounded to microseconds. */
export function elapsedMs(startMs: number): number {
  return Math.round((performance.now() - startMs) * 1000) / 1000;
}
