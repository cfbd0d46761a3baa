// Usage-metrics counters for POST /v1/usage-metrics: what CrowdSec-enabled services processed and what
// their decisions dropped, as deltas. Counting is on the hot path (every request and connection), so it
// allocates nothing once an (origin, remediation) pair has been seen: two Map lookups keyed by the
// decision's own strings (interned by the decision store, their hashes cached by V8) and an increment.
import type { ActiveDecision } from '../core/types';

/** HTTP services count requests; TCP services count connections (one admission decision each). */
export type UsageUnit = 'request' | 'connection';
const UNITS: readonly UsageUnit[] = ['request', 'connection'];

/** One dropped count: origin as the metrics spec labels it ("lists:<scenario>" for origin lists). */
export interface DroppedCount {
  unit: UsageUnit;
  origin: string;
  remediation: string;
  value: number;
}

/**
 * Counts taken out of one or more UsageCounters; plain JSON, so that snapshots taken in several
 * processes can be sent to one and summed with mergeSnapshots().
 */
export interface UsageSnapshot {
  processed: Record<UsageUnit, number>;
  dropped: DroppedCount[];
}

/** What the pusher reads: take() returns the counts since the previous take() and resets them. */
export interface UsageSource {
  take(): UsageSnapshot | Promise<UsageSnapshot>;
}

/** What the data path writes. */
export interface UsageRecorder {
  /** One request or connection of a CrowdSec-enabled service, allowed or not. */
  processed(unit: UsageUnit): void;
  /** A decision was applied: the client was refused because of it (enforce mode only). */
  dropped(unit: UsageUnit, decision: ActiveDecision): void;
}

export function emptySnapshot(): UsageSnapshot {
  return { processed: { request: 0, connection: 0 }, dropped: [] };
}

/** The spec's origin label: what the LAPI sent, except "lists" which becomes "lists:<scenario>". */
export function originLabel(origin: string, scenario: string): string {
  return origin === 'lists' && scenario !== '' ? `lists:${scenario}` : origin;
}

/** a + b as a new snapshot (neither is modified); dropped rows with the same labels are added up. */
export function mergeSnapshots(a: UsageSnapshot, b: UsageSnapshot): UsageSnapshot {
  const out = emptySnapshot();
  for (const u of UNITS) out.processed[u] = a.processed[u] + b.processed[u];
  const rows = new Map<string, DroppedCount>();
  for (const d of [...a.dropped, ...b.dropped]) {
    const key = `${d.unit}\u0000${d.origin}\u0000${d.remediation}`;
    const row = rows.get(key);
    if (row === undefined) rows.set(key, { ...d });
    else row.value += d.value;
  }
  out.dropped = [...rows.values()];
  return out;
}

/** A mutable count, so that the hot path increments in place instead of Map.set(). */
class Cell {
  n = 0;
}

/** remediation → count, under one origin label. */
type ByRemediation = Map<string, Cell>;

/** One process's counters. */
export class UsageCounters implements UsageRecorder, UsageSource {
  private readonly processedCounts = new Float64Array(UNITS.length);
  /** Per unit: origin (other than "lists") → remediation → count. */
  private readonly byOrigin: Map<string, ByRemediation>[] = UNITS.map(() => new Map());
  /** Per unit: scenario of an origin "lists" decision (the list's name) → remediation → count. */
  private readonly byList: Map<string, ByRemediation>[] = UNITS.map(() => new Map());

  processed(unit: UsageUnit): void {
    this.processedCounts[unit === 'request' ? 0 : 1]++;
  }

  dropped(unit: UsageUnit, decision: ActiveDecision): void {
    const u = unit === 'request' ? 0 : 1;
    const list = decision.origin === 'lists' && decision.scenario !== '';
    const outer = list ? this.byList[u] : this.byOrigin[u];
    const key = list ? decision.scenario : decision.origin;
    let inner = outer.get(key);
    if (inner === undefined) {
      inner = new Map();
      outer.set(key, inner);
    }
    let cell = inner.get(decision.type);
    if (cell === undefined) {
      cell = new Cell();
      inner.set(decision.type, cell);
    }
    cell.n++;
  }

  /** The counts since the last take(), and zero. Pairs that stayed at zero for a whole window are forgotten. */
  take(): UsageSnapshot {
    const snap = emptySnapshot();
    for (let u = 0; u < UNITS.length; u++) {
      const unit = UNITS[u];
      snap.processed[unit] = this.processedCounts[u];
      this.processedCounts[u] = 0;
      collect(this.byOrigin[u], (origin) => origin, unit, snap.dropped);
      collect(this.byList[u], (scenario) => `lists:${scenario}`, unit, snap.dropped);
    }
    return snap;
  }
}

function collect(outer: Map<string, ByRemediation>, label: (key: string) => string, unit: UsageUnit, into: DroppedCount[]): void {
  for (const [key, inner] of outer) {
    for (const [remediation, cell] of inner) {
      if (cell.n === 0) {
        inner.delete(remediation);
        continue;
      }
      into.push({ unit, origin: label(key), remediation, value: cell.n });
      cell.n = 0;
    }
    if (inner.size === 0) outer.delete(key);
  }
}

/**
 * Counts one admission of a CrowdSec-enabled service: processed always, dropped when it was refused
 * because of a decision (an enforce-mode CrowdSec denial; observe verdicts are allowed, so never dropped).
 */
export function countAdmission(usage: UsageRecorder, unit: UsageUnit, verdict: { allowed: boolean; decision?: ActiveDecision }): void {
  usage.processed(unit);
  if (!verdict.allowed && verdict.decision !== undefined) usage.dropped(unit, verdict.decision);
}
