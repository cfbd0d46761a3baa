// HTTP(S) client for the CrowdSec LAPI decision stream (GET /v1/decisions/stream). The only CrowdSec I/O.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { CrowdSecSettings } from './settings';
import { USER_AGENT } from '../../version';
import { collectStream, StreamBodyParser, StreamParseError, type DecisionSink } from './stream-parser';
import type { StreamResponse } from '../core/types';

export type { DecisionSink } from './stream-parser';

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

export interface PullResult {
  /** The parsed lists; undefined when a sink was given to pull() (the decisions went there instead). */
  response: StreamResponse | undefined;
  /** Elements received in "new" and "deleted". */
  received: { new: number; deleted: number };
  /** Size of the body in bytes. */
  bytes: number;
  /** From sending the request to the parsed body. */
  durationMs: number;
}

export interface LapiTimeouts {
  /**
   * startup=true pull: the response headers must arrive within this, and the body may not stall for longer
   * than this between chunks (no overall deadline: a million decisions over a slow link take a while).
   */
  startupMs: number;
  /** Delta pulls: overall deadline for the whole exchange (connect, headers and body). */
  deltaMs: number;
}

export const STARTUP_TIMEOUT_MS = 30_000;
export const DELTA_TIMEOUT_MIN_MS = 1_000;
export const DELTA_TIMEOUT_MAX_MS = 10_000;

/**
 * Startup pull: 30 s (the LAPI builds the whole list before the first byte on 1.4.x, which takes a few
 * seconds for a million decisions), never less than the delta timeout. Delta pull: 2 × poll interval clamped
 * to [1 s, 10 s]: deltas are small, and a pull that takes longer than that would only pile up behind the next.
 */
export function defaultTimeouts(pollIntervalMs: number): LapiTimeouts {
  const deltaMs = Math.min(DELTA_TIMEOUT_MAX_MS, Math.max(DELTA_TIMEOUT_MIN_MS, 2 * pollIntervalMs));
  return { startupMs: Math.max(STARTUP_TIMEOUT_MS, deltaMs), deltaMs };
}

export interface LapiClientOptions {
  settings: CrowdSecSettings;
  timeouts?: Partial<LapiTimeouts>;
}

const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'EADDRNOTAVAIL', 'EAI_FAIL', 'EAI_NONAME']);
const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE', 'HOSTNAME_MISMATCH', 'EPROTO',
]);

function isTlsError(code: string | undefined, message: string): boolean {
  if (code !== undefined && (TLS_CODES.has(code) || code.startsWith('ERR_TLS_') || code.startsWith('ERR_SSL_'))) return true;
  return /\bSSL\b|\bTLS\b|certificate|handshake/i.test(message);
}

/** Decisions applied between two yields to the event loop when a pull hands back held-back batches. */
export const YIELD_EVERY_DECISIONS = 20_000;

/**
 * Parses a whole body given as chunks (the chunk list is emptied as it is consumed), with the same
 * incremental parser and the same errors as pull(); for callers that hold the body already.
 */
export function parseStreamBody(chunks: Buffer[]): StreamResponse {
  const c = collectStream();
  const parser = new StreamBodyParser(c.sink);
  try {
    for (let i = 0; i < chunks.length; i++) parser.push(chunks[i]);
    chunks.length = 0;
    return c.result(parser.end());
  } catch (err) {
    throw bodyError(err);
  }
}

function isJsonContentType(ct: string | undefined): boolean {
  if (ct === undefined) return false;
  const mime = ct.split(';')[0].trim().toLowerCase();
  return mime === 'application/json' || mime.endsWith('+json');
}

/**
 * One keep-alive connection to the LAPI. Requests are sequential (the bouncer never overlaps pulls);
 * close() destroys the pooled socket.
 */
export class LapiClient {
  readonly url: string;
  readonly timeouts: LapiTimeouts;
  private readonly settings: CrowdSecSettings;
  private readonly isHttps: boolean;
  private agent: http.Agent | undefined;

  constructor(opts: LapiClientOptions) {
    this.settings = opts.settings;
    this.url = opts.settings.apiUrl.replace(/\/+$/, '');
    this.isHttps = new URL(this.url).protocol === 'https:';
    this.timeouts = { ...defaultTimeouts(opts.settings.pollIntervalMs), ...opts.timeouts };
  }

  /**
   * GET /v1/decisions/stream (startup=true for the full list). Rejects with LapiError only.
   *
   * The body is parsed as it arrives. With a `sink`, the decisions are handed to it in batches while the body
   * streams in ("deleted" ones before "new" ones) and the result carries no `response`; a pull that fails
   * after some batches went to the sink leaves them applied (they are real decisions; the caller resyncs).
   * Without one, the lists are collected into `response`.
   */
  async pull(startup: boolean, signal?: AbortSignal, sink?: DecisionSink): Promise<PullResult> {
    try {
      return await this.attempt(startup, signal, false, sink);
    } catch (err) {
      // A keep-alive socket the server closed while idle fails on reuse before the server sees anything;
      // retry once on a fresh connection.
      if (err instanceof RetryOnFreshSocket) return this.attempt(startup, signal, true, sink);
      throw err;
    }
  }

  /** Destroys the pooled connection; a later pull opens a new one. */
  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }

  private getAgent(): http.Agent {
    if (this.agent) return this.agent;
    const common = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1, scheduling: 'lifo' as const };
    if (!this.isHttps) {
      this.agent = new http.Agent(common);
      return this.agent;
    }
    const s = this.settings;
    const read = (path: string | undefined, what: string): Buffer | undefined => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new LapiError('config', `cannot read CrowdSec ${what} ${path}: ${(err as Error).message}`);
      }
    };
    this.agent = new https.Agent({
      ...common,
      ca: read(s.caCertPath, 'CA certificate (--crowdsec-ca-cert)'),
      cert: read(s.certPath, 'client certificate (--crowdsec-cert)'),
      key: read(s.keyPath, 'client key (--crowdsec-key)'),
    });
    return this.agent;
  }

  private redact(message: string): string {
    // Real keys are long random strings; a very short one would match ordinary words.
    const key = this.settings.apiKey;
    return key !== undefined && key.length >= 8 ? message.split(key).join('[redacted]') : message;
  }

  private attempt(startup: boolean, signal: AbortSignal | undefined, fresh: boolean, sink: DecisionSink | undefined): Promise<PullResult> {
    return new Promise<PullResult>((resolve, reject) => {
      if (signal?.aborted) {
        reject(new LapiError('aborted', 'CrowdSec LAPI pull aborted'));
        return;
      }
      let agent: http.Agent;
      try {
        agent = this.getAgent();
      } catch (err) {
        reject(err);
        return;
      }
      const started = Date.now();
      const target = new URL(`${this.url}/v1/decisions/stream?${startup ? 'startup=true&' : ''}scopes=ip,range`);
      const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: 'application/json' };
      if (this.settings.apiKey) headers['X-Api-Key'] = this.settings.apiKey;
      const timeoutMs = startup ? this.timeouts.startupMs : this.timeouts.deltaMs;
      const where = `CrowdSec LAPI at ${this.url}`;

      let settled = false;
      let gotResponse = false;
      let timer: NodeJS.Timeout | undefined;
      const cleanup = (): void => {
        if (timer) clearTimeout(timer);
        timer = undefined;
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (err: Error): void => {
        if (settled) return;
        settled = true;
        cleanup();
        const safe = err instanceof LapiError || err instanceof RetryOnFreshSocket ? err : new LapiError('network', err.message);
        safe.message = this.redact(safe.message);
        req.destroy();
        reject(safe);
      };
      const arm = (ms: number, what: string): void => {
        if (timer) clearTimeout(timer);
        timer = setTimeout(() => {
          fail(new LapiError('timeout', `${where} timed out: ${what} within ${ms} ms`, { maybeProcessed: true }));
        }, ms);
        timer.unref();
      };
      const onAbort = (): void => fail(new LapiError('aborted', 'CrowdSec LAPI pull aborted'));

      const req = (this.isHttps ? https : http).request(target, { method: 'GET', headers, agent: fresh ? this.freshAgent() : agent });
      signal?.addEventListener('abort', onAbort, { once: true });
      arm(timeoutMs, startup ? 'no response' : 'no complete response');

      req.on('error', (err: NodeJS.ErrnoException) => {
        if (settled) return;
        const code = err.code;
        if (!gotResponse && !fresh && req.reusedSocket && (code === 'ECONNRESET' || code === 'EPIPE')) {
          fail(new RetryOnFreshSocket());
          return;
        }
        if (code !== undefined && UNREACHABLE_CODES.has(code)) {
          fail(new LapiError('unreachable', `CrowdSec LAPI unreachable at ${this.url} (${code})`, { code }));
        } else if (!gotResponse && isTlsError(code, err.message)) {
          fail(new LapiError('tls', `TLS error talking to ${where}: ${err.message}${code ? ` (${code})` : ''}; check the LAPI certificate, --crowdsec-ca-cert and --crowdsec-cert/--crowdsec-key`, { code }));
        } else if (gotResponse) {
          fail(new LapiError('truncated', `${where} closed the connection before the whole body arrived (${err.message})`, { code, maybeProcessed: true }));
        } else {
          fail(new LapiError('network', `connection to ${where} failed: ${err.message}${code && !err.message.includes(code) ? ` (${code})` : ''}`, { code, maybeProcessed: true }));
        }
      });

      req.on('response', (res: http.IncomingMessage) => {
        gotResponse = true;
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          // Keep a little of the body for the message; drain the rest so the socket can be reused.
          const preview: Buffer[] = [];
          let previewBytes = 0;
          res.on('data', (c: Buffer) => {
            if (previewBytes < 256) {
              preview.push(c);
              previewBytes += c.length;
            }
          });
          res.on('error', () => undefined);
          res.on('end', () => {
            const text = Buffer.concat(preview).toString('utf8').slice(0, 200).replace(/\s+/g, ' ').trim();
            fail(this.statusError(status, res.statusMessage, text));
          });
          res.on('close', () => {
            if (!res.complete) fail(this.statusError(status, res.statusMessage, ''));
          });
          return;
        }
        const ct = res.headers['content-type'];
        if (!isJsonContentType(ct)) {
          res.resume();
          fail(new LapiError('malformed', `${where} answered with content-type ${ct ?? '(none)'}, expected application/json; is the URL the LAPI?`, { maybeProcessed: true }));
          return;
        }
        if (startup) arm(timeoutMs, 'body stalled');
        const collector = sink === undefined ? collectStream() : undefined;
        const parser = new StreamBodyParser(sink ?? (collector as ReturnType<typeof collectStream>).sink);
        let bytes = 0;
        res.on('data', (c: Buffer) => {
          if (settled) return;
          bytes += c.length;
          if (startup) arm(timeoutMs, `body stalled after ${bytes} bytes`);
          try {
            parser.push(c);
          } catch (err) {
            fail(bodyError(err));
          }
        });
        res.on('error', (err: NodeJS.ErrnoException) => {
          fail(new LapiError('truncated', `${where} closed the connection after ${bytes} bytes of the body (${err.message})`, { code: err.code, maybeProcessed: true }));
        });
        res.on('close', () => {
          if (!res.complete) fail(new LapiError('truncated', `${where} closed the connection after ${bytes} bytes of the body`, { maybeProcessed: true }));
        });
        res.on('end', () => {
          if (settled) return;
          if (!res.complete) {
            fail(new LapiError('truncated', `${where} closed the connection after ${bytes} bytes of the body`, { maybeProcessed: true }));
            return;
          }
          if (timer) clearTimeout(timer);
          timer = undefined;
          void (async () => {
            let response: StreamResponse | undefined;
            let received: { new: number; deleted: number };
            try {
              const summary = parser.end();
              received = { new: summary.newCount, deleted: summary.deletedCount };
              if (collector !== undefined) {
                response = collector.result(summary);
              } else if (sink !== undefined) {
                // "new" came before "deleted" in the body: its batches were held back until now.
                let since = 0;
                for (const batch of summary.deferredNew) {
                  if (settled) return;
                  sink.onNew(batch);
                  since += batch.length;
                  if (since >= YIELD_EVERY_DECISIONS) {
                    since = 0;
                    await new Promise<void>((r) => setImmediate(r));
                  }
                }
              }
            } catch (err) {
              fail(bodyError(err));
              return;
            }
            if (settled) return;
            settled = true;
            cleanup();
            resolve({ response, received, bytes, durationMs: Date.now() - started });
          })();
        });
      });

      req.end();
    });
  }

  private freshAgent(): http.Agent {
    // Retry path: drop the pooled sockets so the request opens a new connection.
    this.agent?.destroy();
    this.agent = undefined;
    return this.getAgent();
  }

  private statusError(status: number, statusMessage: string | undefined, body: string): LapiError {
    const where = `CrowdSec LAPI at ${this.url}`;
    if (status === 401 || status === 403) {
      const message = this.settings.apiKey
        ? `CrowdSec LAPI rejected the API key (${status}); check NB_PROXY_CROWDSEC_API_KEY / cscli bouncers list`
        : `CrowdSec LAPI rejected the client certificate (${status}); check NB_PROXY_CROWDSEC_CERT and the LAPI's bouncers_allowed_ou`;
      return new LapiError('auth', message, { status });
    }
    const detail = body ? `: ${body}` : '';
    return new LapiError('http', `${where} answered HTTP ${status}${statusMessage ? ` ${statusMessage}` : ''}${detail}`, {
      status,
      // A 5xx from a proxy in front of the LAPI may hide a pull the LAPI answered.
      maybeProcessed: true,
    });
  }
}

/** A body the parser or the sink refused, as a LapiError. */
function bodyError(err: unknown): LapiError {
  if (err instanceof LapiError) return err;
  if (err instanceof StreamParseError) return new LapiError('malformed', err.message, { maybeProcessed: true });
  return new LapiError('malformed', `CrowdSec decisions could not be applied: ${(err as Error).message}`, { maybeProcessed: true });
}

/** Internal signal: the reused keep-alive socket was dead; retry on a new connection. */
class RetryOnFreshSocket extends Error {
  constructor() {
    super('reused keep-alive socket was closed by the server');
  }
}
