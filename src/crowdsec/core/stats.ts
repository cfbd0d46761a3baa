// Decision counts for /status and /metrics, computed on demand from a walk over the store's entries
// (type and origin as interned ids, resolved through the interners' string tables).
import type { DecisionBreakdownRow, DecisionStoreStats } from './types';

/** Called once per entry: interned type and origin ids, family, whether the value is a range, and the scenario id. */
export type EntryFn = (type: number, origin: number, family: 4 | 6, range: boolean, scenario: number) => void;
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

/** One usage-metrics active_decisions row: origin as the metrics spec labels it ("lists:<scenario>"). */
export interface ActiveDecisionRow {
  origin: string;
  ipType: 'ipv4' | 'ipv6';
  count: number;
}

/** Entries by (origin label, family), for the usage metrics' active_decisions; a walk, no per-entry allocation. */
export function activeDecisionRows(walk: EntryWalk, origins: readonly string[], scenarios: readonly string[]): ActiveDecisionRow[] {
  // Per family: origin id → count, and for origin "lists" scenario id → count.
  const byOrigin = [new Map<number, number>(), new Map<number, number>()];
  const byList = [new Map<number, number>(), new Map<number, number>()];
  walk((_type, origin, family, _range, scenario) => {
    const f = family === 4 ? 0 : 1;
    const list = origins[origin] === 'lists' && scenarios[scenario] !== '';
    const m = list ? byList[f] : byOrigin[f];
    const k = list ? scenario : origin;
    m.set(k, (m.get(k) ?? 0) + 1);
  });
  const rows: ActiveDecisionRow[] = [];
  for (let f = 0; f < 2; f++) {
    const ipType = f === 0 ? 'ipv4' : 'ipv6';
    for (const [id, count] of byOrigin[f]) rows.push({ origin: origins[id], ipType, count });
    for (const [id, count] of byList[f]) rows.push({ origin: `lists:${scenarios[id]}`, ipType, count });
  }
  rows.sort((x, y) => (x.origin < y.origin ? -1 : x.origin > y.origin ? 1 : x.ipType < y.ipType ? -1 : x.ipType > y.ipType ? 1 : 0));
  return rows;
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
