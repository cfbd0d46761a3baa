// The primary's side of the one CrowdSec stream (--workers > 1): the bouncer writes its pulls here
// instead of into a DecisionStore; each batch is encoded once (messages.ts) and sent to every worker.
// The primary keeps no decision store and no log of the batches: a worker started later (a crash
// replacement) is built from a live worker's set (primary.ts asks one to dump it), so the primary's
// memory does not grow with the decision count.
import type { BouncerStore, PullObserver } from '../crowdsec/stream/bouncer';
import type { ActiveDecisionRow } from '../crowdsec/core/stats';
import type { ActiveDecision, ApplyResult, DecisionBreakdownRow, DecisionStoreStats, LapiDecision } from '../crowdsec/core/types';
import { encodeBatch, type EncodedBatch, type ToWorker } from './messages';

/** Delivers one message to every worker that takes the stream (the primary's worker table). */
export type Broadcast = (message: ToWorker) => void;

const EMPTY_STATS: DecisionStoreStats = { total: 0, byType: {}, byOrigin: {}, byFamily: {}, ranges: 0, countries: 0 };

export class DecisionRelay implements BouncerStore, PullObserver {
  /** The pull in progress: whether full. */
  private pull: { full: boolean } | undefined;
  /** Decision counts as a worker last reported them (the primary holds no store to count). */
  private reported: { stats: DecisionStoreStats; breakdown: DecisionBreakdownRow[] } | undefined;

  constructor(
    private readonly broadcast: Broadcast,
    /** A promise while some worker's channel is behind (the primary's write queue); the pull waits for it. */
    private readonly behind: () => Promise<void> | undefined = () => undefined,
  ) {}

  backpressure(): Promise<void> | undefined {
    return this.behind();
  }

  get size(): number {
    return this.reported?.stats.total ?? 0;
  }

  /** A pull is under way (a worker built from another's set waits for its end). */
  get pulling(): boolean {
    return this.pull !== undefined;
  }

  /** The primary serves no traffic: the workers' mirrors answer lookups. */
  readonly countryDecisionCount = 0;

  lookupCountry(): ActiveDecision | undefined {
    return undefined;
  }

  activeByOrigin(): ActiveDecisionRow[] {
    return [];
  }

  report(stats: DecisionStoreStats, breakdown: DecisionBreakdownRow[]): void {
    this.reported = { stats, breakdown };
  }

  begin(full: boolean): void {
    this.pull = { full };
    this.broadcast({ t: 'pull-begin', full });
  }

  applyDeleted(batch: readonly LapiDecision[], nowMs: number): ApplyResult {
    const b = this.relay('del', batch, nowMs);
    return { added: 0, deleted: b.count, skipped: batch.length - b.count, expired: 0 };
  }

  applyNew(batch: readonly LapiDecision[], nowMs: number): ApplyResult {
    const b = this.relay('new', batch, nowMs);
    return { added: b.count, deleted: 0, skipped: batch.length - b.count, expired: 0 };
  }

  end(ok: boolean): void {
    const pull = this.pull;
    this.pull = undefined;
    if (pull === undefined) return;
    this.broadcast({ t: 'pull-end', ok, full: pull.full });
  }

  lookup(_ip: string, _nowMs: number): ActiveDecision | undefined {
    return undefined;
  }

  sweep(_nowMs: number): number {
    return 0;
  }

  stats(_nowMs?: number): DecisionStoreStats {
    return this.reported?.stats ?? EMPTY_STATS;
  }

  breakdown(_nowMs?: number): DecisionBreakdownRow[] {
    return this.reported?.breakdown ?? [];
  }

  clear(): void {
    this.pull = undefined;
    this.reported = undefined;
  }

  private relay(kind: 'del' | 'new', batch: readonly LapiDecision[], nowMs: number): EncodedBatch {
    const b = encodeBatch(kind, batch, nowMs);
    if (b.count > 0) this.broadcast({ t: 'batch', batch: b });
    return b;
  }
}
