// Pushes the usage metrics to POST /v1/usage-metrics every --crowdsec-metrics-interval: the counts since
// the last successful push (a failed push keeps them for the next one) and the decisions held now.
// A LAPI older than the endpoint (1.4.x answers 404) is told once in the log and not asked again.
import type { Logger } from 'pino';
import type { ActiveDecisionRow } from '../core/stats';
import type { UsagePostResult } from '../stream/usage-post';
import { emptySnapshot, mergeSnapshots, type UsageSnapshot, type UsageSource } from './counters';
import { detectOs, type OsInfo } from './os-info';
import { buildPayload } from './payload';

export interface UsagePusherOptions {
  /** The LAPI client (the bouncer's credentials). */
  post: (body: string) => Promise<UsagePostResult>;
  source: UsageSource;
  /** Active decisions by origin and family; undefined while no bouncer runs (nothing is pushed then). */
  activeDecisions: () => ActiveDecisionRow[] | undefined | Promise<ActiveDecisionRow[] | undefined>;
  intervalMs: number;
  version: string;
  log: Logger;
  now?: () => number;
  os?: OsInfo;
}

export type PushOutcome = 'sent' | 'failed' | 'unsupported' | 'skipped';

/** Requests/connections processed and dropped that the final push could not deliver. */
export interface UnsentCounts {
  processed: number;
  dropped: number;
}

/** The final push gets at least this long, even when draining took all of --shutdown-grace. */
const FLUSH_MIN_MS = 1000;

export class UsageMetricsPusher {
  private readonly o: UsagePusherOptions;
  private readonly now: () => number;
  private readonly os: OsInfo;
  private readonly startedAt: number;
  /** Start of the window the next push covers: startup, then the last successful push. */
  private windowStart: number;
  /** Counts taken from the source but not yet accepted by the LAPI. */
  private pending: UsageSnapshot = emptySnapshot();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private unsupported = false;
  /** The push under way (timer or flush), so that the final one follows it instead of racing it. */
  private inFlight: Promise<unknown> = Promise.resolve();

  constructor(opts: UsagePusherOptions) {
    this.o = opts;
    this.now = opts.now ?? Date.now;
    this.os = opts.os ?? detectOs();
    this.startedAt = this.now();
    this.windowStart = this.startedAt;
  }

  start(): void {
    if (this.running || this.unsupported) return;
    this.running = true;
    this.schedule();
  }

  stop(): void {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One push (the timer calls this); exported for tests. */
  async push(): Promise<PushOutcome> {
    const active = await this.o.activeDecisions();
    // No bouncer running: no CrowdSec service, so nothing was counted; the window goes on.
    if (active === undefined) return 'skipped';
    this.pending = mergeSnapshots(this.pending, await this.o.source.take());
    const now = this.now();
    const body = JSON.stringify(
      buildPayload({
        version: this.o.version,
        os: this.os,
        startupTs: Math.floor(this.startedAt / 1000),
        nowTs: Math.floor(now / 1000),
        windowSeconds: Math.max(0, Math.round((now - this.windowStart) / 1000)),
        counts: this.pending,
        active,
      }),
    );
    let res: UsagePostResult;
    try {
      res = await this.o.post(body);
    } catch (err) {
      this.o.log.warn({ err: (err as Error).message }, `CrowdSec usage metrics not sent, kept for the next push: ${(err as Error).message}`);
      return 'failed';
    }
    if (res.status >= 200 && res.status < 300) {
      const sent = this.pending;
      this.pending = emptySnapshot();
      this.windowStart = now;
      this.o.log.debug(
        { processed: sent.processed, dropped: sent.dropped.reduce((n, d) => n + d.value, 0), active_decisions: active.reduce((n, a) => n + a.count, 0) },
        'CrowdSec usage metrics sent',
      );
      return 'sent';
    }
    if (res.status === 404 || res.status === 405) {
      this.unsupported = true;
      this.stop();
      this.o.log.info(
        { status: res.status },
        `CrowdSec LAPI does not support usage metrics (${res.status}); not sending them (CrowdSec 1.6.3 or later accepts them)`,
      );
      return 'unsupported';
    }
    const why =
      res.status === 401 || res.status === 403
        ? `the LAPI refused the bouncer's credentials (${res.status})`
        : `the LAPI answered HTTP ${res.status}${res.body ? `: ${res.body}` : ''}`;
    this.o.log.warn({ status: res.status }, `CrowdSec usage metrics not sent, kept for the next push: ${why}`);
    return 'failed';
  }

  /**
   * At shutdown, after the listeners drained: one last push of what was counted since the last one,
   * given until `deadlineMs` (epoch ms; at least FLUSH_MIN_MS). What could not be sent is counted in
   * the returned figures and in one log line; the process exits after this, so it is lost.
   */
  async flush(deadlineMs: number): Promise<{ outcome: PushOutcome | 'timeout'; unsent: UnsentCounts }> {
    this.stop();
    if (this.unsupported) return { outcome: 'unsupported', unsent: { processed: 0, dropped: 0 } };
    await this.inFlight;
    const wait = Math.max(deadlineMs - this.now(), FLUSH_MIN_MS);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), wait)));
    const outcome = await Promise.race([this.push().catch(() => 'failed' as const), timeout]);
    clearTimeout(timer);
    if (outcome === 'sent' || outcome === 'unsupported') return { outcome, unsent: { processed: 0, dropped: 0 } };
    // Skipped (no synced set to report) or not accepted: what was taken, and what the source still holds.
    const left = mergeSnapshots(this.pending, outcome === 'skipped' ? await this.o.source.take() : emptySnapshot());
    this.pending = emptySnapshot();
    const unsent = { processed: left.processed.request + left.processed.connection, dropped: left.dropped.reduce((n, d) => n + d.value, 0) };
    if (unsent.processed > 0 || unsent.dropped > 0) {
      this.o.log.warn(
        { ...unsent, outcome },
        `CrowdSec usage metrics not sent at shutdown (${outcome}): ${unsent.processed} processed and ${unsent.dropped} dropped are lost`,
      );
    }
    return { outcome, unsent };
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.inFlight = this.push()
        .catch((err: Error) => this.o.log.warn({ err: err.message }, 'CrowdSec usage metrics push failed'))
        .finally(() => {
          if (this.running && !this.unsupported) this.schedule();
        });
    }, this.o.intervalMs);
    this.timer.unref();
  }
}
