// Country-scope decisions ("--scope Country --value FR"): a small table keyed by ISO code, then by
// type. There are at most a few hundred codes, so plain Maps are enough (the address store's packed
// layout is for millions of values). Pure and synchronous; the caller passes the clock.
import { compareTypes } from './precedence';
import type { ActiveDecision } from './types';

export interface CountryEntry {
  readonly type: string;
  readonly origin: string;
  readonly scenario: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

export class CountryDecisions {
  private readonly byCode = new Map<string, Map<string, CountryEntry>>();
  private count = 0;

  /** (country, type) entries held, expired-but-not-swept included. */
  get size(): number {
    return this.count;
  }

  /** Adds or refreshes (code, type): the later expiry wins, origin and scenario are the latest. */
  upsert(code: string, entry: CountryEntry): void {
    let types = this.byCode.get(code);
    if (types === undefined) {
      types = new Map();
      this.byCode.set(code, types);
    }
    const old = types.get(entry.type);
    if (old === undefined) this.count++;
    types.set(entry.type, old !== undefined && old.expiresAt > entry.expiresAt ? { ...entry, expiresAt: old.expiresAt } : entry);
  }

  /** Removes (code, type); false when it was not held. */
  remove(code: string, type: string): boolean {
    const types = this.byCode.get(code);
    if (types === undefined || !types.delete(type)) return false;
    if (types.size === 0) this.byCode.delete(code);
    this.count--;
    return true;
  }

  /** The unexpired decision of highest precedence on `code` (upper-case ISO code), if any. */
  lookup(code: string, nowMs: number): ActiveDecision | undefined {
    const types = this.byCode.get(code);
    if (types === undefined) return undefined;
    let best: CountryEntry | undefined;
    for (const e of types.values()) {
      if (e.expiresAt > nowMs && (best === undefined || compareTypes(e.type, best.type) < 0)) best = e;
    }
    return best === undefined ? undefined : { type: best.type, origin: best.origin, scenario: best.scenario, value: code, expiresAt: best.expiresAt };
  }

  /** Removes every entry expired at `nowMs`; returns how many. */
  sweep(nowMs: number): number {
    let removed = 0;
    for (const [code, types] of this.byCode) {
      for (const [type, e] of types) {
        if (e.expiresAt <= nowMs) {
          types.delete(type);
          removed++;
        }
      }
      if (types.size === 0) this.byCode.delete(code);
    }
    this.count -= removed;
    return removed;
  }

  /** Calls fn for every entry unexpired at nowMs (all when undefined). */
  forEach(nowMs: number | undefined, fn: (code: string, e: CountryEntry) => void): void {
    const limit = nowMs ?? -Infinity;
    for (const [code, types] of this.byCode) for (const e of types.values()) if (e.expiresAt > limit) fn(code, e);
  }

  clear(): void {
    this.byCode.clear();
    this.count = 0;
  }
}
