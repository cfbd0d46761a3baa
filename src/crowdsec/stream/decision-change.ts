// What a pull added, for the live re-judgement of open connections.
import type { LapiDecision } from '../core/types';

/**
 * New decisions since the last pull: a delta lists its single addresses, and `wide` says it held
 * ranges or countries (decisions that may match any open connection); a full pull (startup, resync)
 * or a very large delta says `full`.
 */
export type DecisionChange = { readonly full: true } | { readonly full: false; readonly ips: readonly string[]; readonly wide: boolean };

/** Past this many new addresses in one delta, listing them costs more than judging every open connection. */
const MAX_LISTED_CHANGES = 10_000;

/** Gathers the addresses a pull's new decisions name, for the live re-judgement. */
export class ChangeCollector {
  private ips: string[] | undefined;
  private wide = false;

  constructor(full: boolean) {
    this.ips = full ? undefined : [];
  }

  collect(batch: readonly LapiDecision[]): void {
    const ips = this.ips;
    if (ips === undefined) return;
    for (const d of batch) {
      // The stream may carry nulls and junk; the store skips them, and so does this.
      if (d === null || typeof d !== 'object') continue;
      const scope = typeof d.scope === 'string' ? d.scope.toLowerCase() : undefined;
      if (scope === 'ip' && typeof d.value === 'string') ips.push(d.value);
      else if (scope === 'range' || scope === 'country') this.wide = true;
    }
    if (ips.length > MAX_LISTED_CHANGES) this.ips = undefined;
  }

  result(): DecisionChange {
    return this.ips === undefined ? { full: true } : { full: false, ips: this.ips, wide: this.wide };
  }
}
