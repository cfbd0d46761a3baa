// The primary's side of the one CrowdSec stream (--workers > 1): the bouncer writes its pulls here
// instead of into a DecisionStore; each batch is encoded once (messages.ts) and sent to every worker.
// The primary keeps no decision store: it keeps the encoded batches since the last full pull (the
// replay log, ~35 bytes a decision), which is what a worker started later (a crash replacement) is
// sent before it counts as synced. Deltas append to the log; when it has grown to twice the full
// pull's size the bouncer is asked for a full pull, which starts a fresh log.
import type { BouncerStore, PullObserver } from '../crowdsec/stream/bouncer';
import type { ActiveDecisionRow } from '../crowdsec/core/stats';
import type { ActiveDecision, ApplyResult, DecisionBreakdownRow, DecisionStoreStats, LapiDecision } from '../crowdsec/core/types';
import { encodeBatch, type EncodedBatch, type ToWorker } from './messages';

/** Delivers one message to every worker that has been given the replay (the primary's worker table). */
export type Broadcast = (message: ToWorker) => void;

const EMPTY_STATS: DecisionStoreStats = { total: 0, byType: {}, byOrigin: {}, byFamily: {}, ranges: 0, countries: 0 };

export class DecisionRelay implements BouncerStore, PullObserver {
  /** Batches of the last full pull that ended well, then of every delta since. */
  private log: EncodedBatch[] = [];
  private logRows = 0;
  private fullRows = 0;
  private hasFull = false;
  /** The pull in progress: whether full, and its batches so far. */
  private pull: { full: boolean; batches: EncodedBatch[]; rows: number } | undefined;
  /** Decision counts as a worker last reported them (the primary holds no store to count). */
  private reported: { stats: DecisionStoreStats; breakdown: DecisionBreakdownRow[] } | undefined;

  constructor(
    private readonly broadcast: Broadcast,
    /** Called when the log has outgrown the set: the bouncer's requestResync(). */
    private readonly onLogGrown: () => void,
    /** A promise while some worker's channel is behind (the primary's write queue); the pull waits for it. */
    private readonly behind: () => Promise<void> | undefined = () => undefined,
  ) {}

  backpressure(): Promise<void> | undefined {
    return this.behind();
  }

  get size(): number {
    return this.reported?.stats.total ?? 0;
  }

  /** The primary serves no traffic: the workers' mirrors answer lookups. */
  readonly countryDecisionCount = 0;

  lookupCountry(): ActiveDecision | undefined {
    return undefined;
  }

  activeByOrigin(): ActiveDecisionRow[] {
    return [];
  }

  get replayBatches(): number {
    return this.log.length;
  }

  report(stats: DecisionStoreStats, breakdown: DecisionBreakdownRow[]): void {
    this.reported = { stats, breakdown };
  }

  begin(full: boolean): void {
    this.pull = { full, batches: [], rows: 0 };
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
    this.broadcast({ t: 'pull-end', ok });
    if (pull.full) {
      // A full pull that failed is discarded by the workers too; the log before it stays right.
      if (!ok) return;
      this.log = pull.batches;
      this.logRows = pull.rows;
      this.fullRows = pull.rows;
      this.hasFull = true;
      return;
    }
    // A delta that failed halfway leaves its batches applied in the workers (as in the store), so in the log too.
    for (const b of pull.batches) this.log.push(b);
    this.logRows += pull.rows;
    if (this.logRows > 2 * this.fullRows + 10_000) this.onLogGrown();
  }

  /** Brings a worker that has nothing up to the others: the current set as one full pull, then the pull in progress so far. */
  replay(send: (message: ToWorker) => void): void {
    if (this.hasFull) {
      send({ t: 'pull-begin', full: true });
      for (const batch of this.log) send({ t: 'batch', batch });
      send({ t: 'pull-end', ok: true });
    }
    const pull = this.pull;
    if (pull === undefined) return;
    send({ t: 'pull-begin', full: pull.full });
    for (const batch of pull.batches) send({ t: 'batch', batch });
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
    this.log = [];
    this.logRows = 0;
    this.fullRows = 0;
    this.hasFull = false;
    this.pull = undefined;
    this.reported = undefined;
  }

  private relay(kind: 'del' | 'new', batch: readonly LapiDecision[], nowMs: number): EncodedBatch {
    const b = encodeBatch(kind, batch, nowMs);
    const pull = this.pull;
    if (pull !== undefined) {
      pull.batches.push(b);
      pull.rows += b.count;
    }
    if (b.count > 0) this.broadcast({ t: 'batch', batch: b });
    return b;
  }
}
