// HTTP(S) client for the CrowdSec LAPI: the decision stream (GET /v1/decisions/stream) and the usage-metrics
// push (POST /v1/usage-metrics, one exchange in usage-post.ts). The only CrowdSec I/O: the connection
// (keep-alive agent, TLS files, one retry on a dead reused socket) lives here, one pull in pull-attempt.ts,
// the error kinds and messages in lapi-errors.ts.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { StreamResponse } from '../core/types';
import { bodyError, LapiError, RetryOnFreshSocket } from './lapi-errors';
import { PullAttempt, type PullResult } from './pull-attempt';
import type { CrowdSecSettings } from './settings';
import { collectStream } from './collect-stream';
import { StreamBodyParser, type DecisionSink } from './stream-parser';
import { DEFAULT_FILTERS } from './filters';
import { postUsageMetrics, type UsagePostResult } from './usage-post';

export type { DecisionSink } from './stream-parser';
export type { PullResult } from './pull-attempt';

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
/** POST /v1/usage-metrics: the whole exchange. */
export const USAGE_TIMEOUT_MS = 10_000;
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

  private attempt(startup: boolean, signal: AbortSignal | undefined, fresh: boolean, sink: DecisionSink | undefined): Promise<PullResult> {
    if (signal?.aborted) return Promise.reject(new LapiError('aborted', 'CrowdSec LAPI pull aborted'));
    let agent: http.Agent;
    try {
      // Retry path: drop the pooled sockets so the request opens a new connection.
      if (fresh) this.close();
      agent = this.getAgent();
    } catch (err) {
      return Promise.reject(err);
    }
    return new PullAttempt({
      url: this.url,
      isHttps: this.isHttps,
      agent,
      apiKey: this.settings.apiKey,
      startup,
      filters: this.settings.filters ?? DEFAULT_FILTERS,
      timeoutMs: startup ? this.timeouts.startupMs : this.timeouts.deltaMs,
      fresh,
      signal,
      sink,
    }).run();
  }

  private getAgent(): http.Agent {
    if (this.agent) return this.agent;
    const common = { keepAlive: true, maxSockets: 1, maxFreeSockets: 1, scheduling: 'lifo' as const };
    if (!this.isHttps) {
      this.agent = new http.Agent(common);
      return this.agent;
    }
    this.agent = new https.Agent({ ...common, ...this.tlsOptions() });
    return this.agent;
  }

  /** CA and client certificate files for https URLs, read now; throws a 'config' LapiError. */
  private tlsOptions(): https.AgentOptions {
    const s = this.settings;
    const read = (path: string | undefined, what: string): Buffer | undefined => {
      if (path === undefined) return undefined;
      try {
        return readFileSync(path);
      } catch (err) {
        throw new LapiError('config', `cannot read CrowdSec ${what} ${path}: ${(err as Error).message}`);
      }
    };
    return {
      ca: read(s.caCertPath, 'CA certificate (--crowdsec-ca-cert)'),
      cert: read(s.certPath, 'client certificate (--crowdsec-cert)'),
      key: read(s.keyPath, 'client key (--crowdsec-key)'),
    };
  }

  /**
   * POST /v1/usage-metrics with the bouncer's credentials, on a connection of its own (a pull may be
   * streaming on the pooled one). Resolves with any status; rejects with LapiError when there is no answer.
   */
  async postUsageMetrics(body: string, timeoutMs = USAGE_TIMEOUT_MS): Promise<UsagePostResult> {
    const tls = this.isHttps ? this.tlsOptions() : {};
    return postUsageMetrics({ url: this.url, apiKey: this.settings.apiKey, tls, body, timeoutMs });
  }
}
