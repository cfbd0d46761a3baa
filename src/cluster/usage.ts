// CrowdSec usage metrics with --workers > 1: the workers count (each has its UsageCounters on its
// listeners), the primary runs the one UsageMetricsPusher. Its source asks every running worker to
// take() its counts and sums them; the active decisions come from one synced worker's mirror.
// A worker that dies loses what it counted since the last take (at most one push interval).
import type { Logger } from 'pino';
import type { ActiveDecisionRow } from '../crowdsec/core/stats';
import { LapiClient } from '../crowdsec/stream/lapi-client';
import type { CrowdSecSettings } from '../crowdsec/stream/settings';
import { emptySnapshot, mergeSnapshots, type UsageSnapshot } from '../crowdsec/usage/counters';
import { UsageMetricsPusher } from '../crowdsec/usage/pusher';
import { VERSION } from '../version';

/** Asks the running workers, one after another or all at once; undefined for one that did not answer. */
export interface WorkerAsker {
  usage(): Promise<Array<UsageSnapshot | undefined>>;
  /** The first running worker's active decisions that has any to give (a synced mirror). */
  active(): Promise<ActiveDecisionRow[] | undefined>;
  /** Whether the bouncer runs (a service uses CrowdSec); nothing is pushed while it does not. */
  bouncerRunning(): boolean;
}

export function clusterUsagePusher(crowdsec: CrowdSecSettings, workers: WorkerAsker, log: Logger): UsageMetricsPusher {
  const client = new LapiClient({ settings: crowdsec });
  return new UsageMetricsPusher({
    post: (body) => client.postUsageMetrics(body),
    source: {
      take: async () => (await workers.usage()).reduce<UsageSnapshot>((sum, s) => (s === undefined ? sum : mergeSnapshots(sum, s)), emptySnapshot()),
    },
    // No synced worker: the push is skipped and the workers keep their counts for the next one.
    activeDecisions: () => (workers.bouncerRunning() ? workers.active() : undefined),
    intervalMs: crowdsec.metricsIntervalMs ?? 0,
    version: VERSION,
    log,
  });
}
