// What can go wrong talking to the LAPI, as LapiError kinds with one-line messages that say what to check.
// Messages never carry the API key (redactKey() is applied to every error a pull rejects with).
import { StreamParseError } from './stream-parser';

/** What went wrong with a pull, in categories the bouncer logs and counts. */
export type LapiErrorKind =
  | 'unreachable' // ECONNREFUSED, ENOTFOUND, EHOSTUNREACH...: nothing listening / no route
  | 'network' // connection reset or closed mid-request
  | 'tls' // handshake or certificate verification failed
  | 'timeout' // no response, or the body stalled, within the request timeout
  | 'auth' // 401/403: key or client certificate refused
  | 'http' // any other non-200 status
  | 'malformed' // wrong content-type, invalid JSON, wrong shape
  | 'truncated' // connection closed before the whole body arrived
  | 'config' // CA / cert / key file unreadable
  | 'aborted'; // stop() aborted the request

export class LapiError extends Error {
  readonly kind: LapiErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  /**
   * The request may have reached the LAPI, which then moved this bouncer's delta cursor even though
   * the answer never arrived intact; the next pull must be a full (startup=true) resync to not miss decisions.
   */
  readonly maybeProcessed: boolean;

  constructor(kind: LapiErrorKind, message: string, opts: { status?: number; code?: string; maybeProcessed?: boolean } = {}) {
    super(message);
    this.name = 'LapiError';
    this.kind = kind;
    this.status = opts.status;
    this.code = opts.code;
    this.maybeProcessed = opts.maybeProcessed ?? false;
  }
}

/** Internal signal: the reused keep-alive socket was dead; retry on a new connection. */
export class RetryOnFreshSocket extends Error {
  constructor() {
    super('reused keep-alive socket was closed by the server');
  }
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'EAI_FAIL', 'EAI_NONAME']);
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH',
  'EPROTO',
]);

function isTlsError(code: string | undefined, message: string): boolean {
  if (code !== undefined && (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))) return true;
  return /\bSSL\b|\bTLS\b|certificate|handshake/i.test(message);
}

export interface RequestErrorContext {
  /** Base URL of the LAPI. */
  url: string;
  /** Response headers had arrived when the error happened. */
  gotResponse: boolean;
  /** The request went out on a reused keep-alive socket and has not been retried yet. */
  retryable: boolean;
}

/** Maps an 'error' event of the request (connect, TLS, socket) to a LapiError, or to a retry on a fresh socket. */
export function requestError(err: NodeJS.ErrnoException, ctx: RequestErrorContext): LapiError | RetryOnFreshSocket {
  const code = err.code;
  const where = `CrowdSec LAPI at ${ctx.url}`;
  if (!ctx.gotResponse && ctx.retryable && (code === 'ECONNRESET' || code === 'EPIPE')) return new RetryOnFreshSocket();
  if (code !== undefined && UNREACHABLE_CODES.has(code)) {
    return new LapiError('unreachable', `CrowdSec LAPI unreachable at ${ctx.url} (${code})`, { code });
  }
  if (!ctx.gotResponse && isTlsError(code, err.message)) {
    return new LapiError(
      'tls',
      `TLS error talking to ${where}: ${err.message}${code ? ` (${code})` : ''}; check the LAPI certificate, --crowdsec-ca-cert and --crowdsec-cert/--crowdsec-key`,
      { code },
    );
  }
  if (ctx.gotResponse) {
    return new LapiError('truncated', `${where} closed the connection before the whole body arrived (${err.message})`, { code, maybeProcessed: true });
  }
  return new LapiError('network', `connection to ${where} failed: ${err.message}${code && !err.message.includes(code) ? ` (${code})` : ''}`, {
    code,
    maybeProcessed: true,
  });
}

/** A non-200 answer; `body` is the start of the body, for the message. */
export function statusError(url: string, usesApiKey: boolean, status: number, statusMessage: string | undefined, body: string): LapiError {
  if (status === 401 || status === 403) {
    const message = usesApiKey
      ? `CrowdSec LAPI rejected the API key (${status}); check NB_PROXY_CROWDSEC_API_KEY / cscli bouncers list`
      : `CrowdSec LAPI rejected the client certificate (${status}); check NB_PROXY_CROWDSEC_CERT and the LAPI's bouncers_allowed_ou`;
    return new LapiError('auth', message, { status });
  }
  const detail = body ? `: ${body}` : '';
  return new LapiError('http', `CrowdSec LAPI at ${url} answered HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}${detail}`, {
    status,
    // A 5xx from a proxy in front of the LAPI may hide a pull the LAPI answered.
    maybeProcessed: true,
  });
}

/** A body the parser or the sink refused, as a LapiError. */
export function bodyError(err: unknown): LapiError {
  if (err instanceof LapiError) return err;
  if (err instanceof StreamParseError) return new LapiError('malformed', err.message, { maybeProcessed: true });
  return new LapiError('malformed', `CrowdSec decisions could not be applied: ${(err as Error).message}`, { maybeProcessed: true });
}

/** `message` with every occurrence of the API key replaced. */
export function redactKey(message: string, apiKey: string | undefined): string {
  // Real keys are long random strings; a very short one would match ordinary words.
  return apiKey !== undefined && apiKey.length >= 8 ? message.split(apiKey).join('[redacted]') : message;
}
