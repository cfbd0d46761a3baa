// One GET /v1/decisions/stream exchange: the request, the status check, the body streamed into the
// incremental parser under the timeouts, and every failure mapped to a LapiError. LapiClient runs one at a time.
import http from 'node:http';
import https from 'node:https';
import { USER_AGENT } from '../../version';
import type { LapiDecision, StreamResponse } from '../core/types';
import { bodyError, LapiError, redactKey, requestError, RetryOnFreshSocket, statusError } from './lapi-errors';
import { collectStream } from './collect-stream';
import { StreamBodyParser, type DecisionSink } from './stream-parser';
import { streamQuery, type StreamFilters } from './filters';

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

/** Decisions applied between two yields to the event loop when a pull hands back held-back batches. */
export const YIELD_EVERY_DECISIONS = 20_000;

export interface PullAttemptOptions {
  /** Base URL of the LAPI, without a trailing slash. */
  url: string;
  isHttps: boolean;
  agent: http.Agent;
  apiKey: string | undefined;
  /** startup=true (the full list) rather than a delta. */
  startup: boolean;
  filters: StreamFilters;
  /** Startup: headers and each body chunk within this; delta: the whole exchange within this. */
  timeoutMs: number;
  /** This is the retry on a fresh connection (no further retry). */
  fresh: boolean;
  signal: AbortSignal | undefined;
  /** Receives the decisions batch by batch; without one they are collected into PullResult.response. */
  sink: DecisionSink | undefined;
}

type Collector = ReturnType<typeof collectStream>;

function isJsonContentType(ct: string | undefined): boolean {
  if (ct === undefined) return false;
  const mime = ct.split(';')[0].trim().toLowerCase();
  return mime === 'application/json' || mime.endsWith('+json');
}

export class PullAttempt {
  private readonly opts: PullAttemptOptions;
  private readonly where: string;
  private started = 0;
  private settled = false;
  private gotResponse = false;
  private bytes = 0;
  private timer: NodeJS.Timeout | undefined;
  private req: http.ClientRequest | undefined;
  private resolve: (r: PullResult) => void = () => undefined;
  private reject: (err: Error) => void = () => undefined;
  private readonly onAbort = (): void => this.fail(new LapiError('aborted', 'CrowdSec LAPI pull aborted'));

  constructor(opts: PullAttemptOptions) {
    this.opts = opts;
    this.where = `CrowdSec LAPI at ${opts.url}`;
  }

  /** Runs the exchange; rejects with a LapiError, or RetryOnFreshSocket when a reused socket was dead. */
  run(): Promise<PullResult> {
    return new Promise<PullResult>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
      this.send();
    });
  }

  private send(): void {
    const o = this.opts;
    this.started = Date.now();
    const target = new URL(`${o.url}/v1/decisions/stream?${streamQuery(o.filters, o.startup)}`);
    const headers: Record<string, string> = { 'User-Agent': USER_AGENT, Accept: 'application/json' };
    if (o.apiKey) headers['X-Api-Key'] = o.apiKey;
    const req = (o.isHttps ? https : http).request(target, { method: 'GET', headers, agent: o.agent });
    this.req = req;
    o.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.arm(o.startup ? 'no response' : 'no complete response');
    req.on('error', (err: NodeJS.ErrnoException) => {
      if (this.settled) return;
      this.fail(requestError(err, { url: o.url, gotResponse: this.gotResponse, retryable: !o.fresh && req.reusedSocket }));
    });
    req.on('response', (res: http.IncomingMessage) => this.onResponse(res));
    req.end();
  }

  private onResponse(res: http.IncomingMessage): void {
    this.gotResponse = true;
    const status = res.statusCode ?? 0;
    if (status !== 200) {
      this.drainStatusError(res, status);
      return;
    }
    const ct = res.headers['content-type'];
    if (!isJsonContentType(ct)) {
      res.resume();
      this.fail(
        new LapiError('malformed', `${this.where} answered with content-type ${ct ?? '(none)'}, expected application/json; is the URL the LAPI?`, {
          maybeProcessed: true,
        }),
      );
      return;
    }
    this.streamBody(res);
  }

  /** Keeps a little of a non-200 body for the message and drains the rest so the socket can be reused. */
  private drainStatusError(res: http.IncomingMessage, status: number): void {
    const error = (body: string): LapiError => statusError(this.opts.url, Boolean(this.opts.apiKey), status, res.statusMessage, body);
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
      this.fail(error(Buffer.concat(preview).toString('utf8').slice(0, 200).replace(/\s+/g, ' ').trim()));
    });
    res.on('close', () => {
      if (!res.complete) this.fail(error(''));
    });
  }

  /** Feeds the 200 body to the parser as it arrives; a startup pull re-arms the stall timeout per chunk. */
  private streamBody(res: http.IncomingMessage): void {
    const { startup, sink } = this.opts;
    if (startup) this.arm('body stalled');
    const collector = sink === undefined ? collectStream() : undefined;
    const parser = new StreamBodyParser(sink ?? (collector as Collector).sink);
    res.on('data', (c: Buffer) => {
      if (this.settled) return;
      this.bytes += c.length;
      if (startup) this.arm(`body stalled after ${this.bytes} bytes`);
      try {
        parser.push(c);
      } catch (err) {
        this.fail(bodyError(err));
        return;
      }
      const behind = sink?.backpressure?.();
      if (behind === undefined) return;
      res.pause();
      void behind.then(() => {
        if (this.settled) return;
        if (startup) this.arm(`body stalled after ${this.bytes} bytes`);
        res.resume();
      });
    });
    res.on('error', (err: NodeJS.ErrnoException) => {
      this.fail(
        new LapiError('truncated', `${this.where} closed the connection after ${this.bytes} bytes of the body (${err.message})`, {
          code: err.code,
          maybeProcessed: true,
        }),
      );
    });
    res.on('close', () => {
      if (!res.complete) this.fail(this.truncated());
    });
    res.on('end', () => {
      if (this.settled) return;
      if (!res.complete) {
        this.fail(this.truncated());
        return;
      }
      this.clearTimer();
      void this.finish(parser, collector);
    });
  }

  /** The body is complete: closes the parser, hands on held-back batches, resolves. */
  private async finish(parser: StreamBodyParser, collector: Collector | undefined): Promise<void> {
    let response: StreamResponse | undefined;
    let received: { new: number; deleted: number };
    try {
      const summary = parser.end();
      received = { new: summary.newCount, deleted: summary.deletedCount };
      if (collector !== undefined) {
        response = collector.result(summary);
      } else if (this.opts.sink !== undefined) {
        // "new" came before "deleted" in the body: its batches were held back until now.
        if (!(await this.applyDeferred(summary.deferredNew, this.opts.sink))) return;
      }
    } catch (err) {
      this.fail(bodyError(err));
      return;
    }
    if (this.settled) return;
    this.settled = true;
    this.cleanup();
    this.resolve({ response, received, bytes: this.bytes, durationMs: Date.now() - this.started });
  }

  /** Hands the batches to the sink, yielding to the event loop now and then; false if the pull ended meanwhile. */
  private async applyDeferred(batches: LapiDecision[][], sink: DecisionSink): Promise<boolean> {
    let since = 0;
    for (const batch of batches) {
      if (this.settled) return false;
      sink.onNew(batch);
      since += batch.length;
      if (since >= YIELD_EVERY_DECISIONS) {
        since = 0;
        await new Promise<void>((r) => setImmediate(r));
      }
    }
    return true;
  }

  private truncated(): LapiError {
    return new LapiError('truncated', `${this.where} closed the connection after ${this.bytes} bytes of the body`, { maybeProcessed: true });
  }

  /** (Re)starts the timeout; `what` says what did not happen in time. */
  private arm(what: string): void {
    const ms = this.opts.timeoutMs;
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.fail(new LapiError('timeout', `${this.where} timed out: ${what} within ${ms} ms`, { maybeProcessed: true }));
    }, ms);
    this.timer.unref();
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private cleanup(): void {
    this.clearTimer();
    this.opts.signal?.removeEventListener('abort', this.onAbort);
  }

  private fail(err: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.cleanup();
    const safe = err instanceof LapiError || err instanceof RetryOnFreshSocket ? err : new LapiError('network', err.message);
    safe.message = redactKey(safe.message, this.opts.apiKey);
    this.req?.destroy();
    this.reject(safe);
  }
}
