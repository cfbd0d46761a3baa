// Decision counts for /status and /metrics, computed on demand from a walk over the store's entries
// (type and origin as interned ids, resolved through the interners' string tables).
import type { DecisionBreakdownRow, DecisionStoreStats } from './types';

/** Called once per entry: interned type and origin ids, family, and whether the value is a range. */
export type EntryFn = (type: number, origin: number, family: 4 | 6, range: boolean) => void;
/** Walks the entries to count, calling fn for each. */
export type EntryWalk = (fn: EntryFn) => void;

/** Totals by type, origin, family (keys "ipv4"/"ipv6") and ranges. */
export function countEntries(walk: EntryWalk, types: readonly string[], origins: readonly string[]): DecisionStoreStats {
  const tc = new Float64Array(types.length);
  const oc = new Float64Array(origins.length);
  let v4 = 0;
  let v6 = 0;
  let ranges = 0;
  walk((type, origin, family, range) => {
    tc[type]++;
    oc[origin]++;
    if (family === 4) v4++;
    else v6++;
    if (range) ranges++;
  });
  const byType: Record<string, number> = {};
  const byOrigin: Record<string, number> = {};
  for (let i = 0; i < tc.length; i++) if (tc[i] > 0) byType[types[i]] = tc[i];
  for (let i = 0; i < oc.length; i++) if (oc[i] > 0) byOrigin[origins[i]] = oc[i];
  return { total: v4 + v6, byType, byOrigin, byFamily: { ipv4: v4, ipv6: v6 }, ranges, countries: 0 };
}

/** One row per (type, origin, family) with its count, sorted by type, origin, family. */
export function breakdownEntries(walk: EntryWalk, types: readonly string[], origins: readonly string[]): DecisionBreakdownRow[] {
  const counts = new Map<number, number>();
  const nOrig = Math.max(1, origins.length);
  walk((type, origin, family) => {
    const k = (type * nOrig + origin) * 2 + (family === 4 ? 0 : 1);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  });
  const rows: DecisionBreakdownRow[] = [];
  for (const [k, count] of counts) {
    const family: 4 | 6 = k % 2 === 0 ? 4 : 6;
    const to = Math.floor(k / 2);
    rows.push({ type: types[Math.floor(to / nOrig)], origin: origins[to % nOrig], family, count });
  }
  rows.sort((x, y) => (x.type < y.type ? -1 : x.type > y.type ? 1 : x.origin < y.origin ? -1 : x.origin > y.origin ? 1 : x.family - y.family));
  return rows;
}
