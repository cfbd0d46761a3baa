// Several targets and how the load is shared between them: smooth weighted round robin (nginx's),
// least connections (weighted, ties by round robin), client-IP hash, and a sticky cookie on top
// of round robin. Backups are used only when no primary is up. Pure: time and client are handed in.
import type { BalancePolicy, HostPort, PoolConfig, TargetConfig } from '../config/types';
import { addressKey } from '../config/routes';
import { recordFailure, TargetState, type PassivePolicy } from './health';

export class Member<A, H = A> {
  /** Smooth weighted round robin: this member's current weight. */
  current = 0;

  constructor(
    readonly address: A,
    /** The target as status and metrics show it: URL origin or host:port. */
    readonly key: string,
    readonly weight: number,
    readonly backup: boolean,
    /** Opaque, for the sticky cookie (sticky.ts): never the address. */
    readonly id: string,
    readonly state: TargetState,
    /** What the forwarder needs to reach it. */
    readonly upstream: H,
  ) {}
}

/** Previous states by target key, so that a rebuilt pool keeps the health of targets that stay. */
export type StateCarry = (key: string) => TargetState | undefined;

export class Pool<A, H = A> {
  readonly members: Member<A, H>[];
  readonly balance: BalancePolicy;
  readonly passive: PassivePolicy;
  private readonly primaries: Member<A, H>[];
  private readonly backups: Member<A, H>[];
  private readonly scratch: Member<A, H>[] = [];
  private rotation = 0;

  constructor(config: PoolConfig<A>, stickyId: (key: string) => string, upstream: (address: A) => H, carry?: StateCarry) {
    this.balance = config.balance;
    // One target alone is never taken out by failures (nginx does the same): there is nothing to fall back to.
    const alone = config.targets.length === 1;
    this.passive = { maxFails: alone ? 0 : config.maxFails, failTimeoutMs: config.failTimeoutMs };
    this.members = config.targets.map((t: TargetConfig<A>) => {
      const key = addressKey(t.address as URL | HostPort);
      return new Member(t.address, key, t.weight, t.backup, stickyId(key), carry?.(key) ?? new TargetState(), upstream(t.address));
    });
    this.primaries = this.members.filter((m) => !m.backup);
    this.backups = this.members.filter((m) => m.backup);
  }

  /** The member whose sticky id is `id`, when it is up. */
  byId(id: string, nowMs: number): Member<A, H> | undefined {
    for (const m of this.members) if (m.id === id) return m.state.up(nowMs) ? m : undefined;
    return undefined;
  }

  /**
   * The target for one request or connection; undefined when none is up. `client` is the client
   * address (ip_hash); `exclude` a target that just failed (retry).
   */
  pick(client: string, nowMs: number, exclude?: Member<A, H>): Member<A, H> | undefined {
    if (this.members.length === 1) {
      const only = this.members[0] as Member<A, H>;
      return only !== exclude && only.state.up(nowMs) ? only : undefined;
    }
    const up = this.usable(this.primaries, nowMs, exclude);
    const candidates = up.length > 0 ? up : this.usable(this.backups, nowMs, exclude);
    if (candidates.length === 0) return undefined;
    if (candidates.length === 1) return candidates[0];
    switch (this.balance) {
      case 'least_conn':
        return this.leastConn(candidates);
      case 'ip_hash':
        return exclude === undefined ? this.ipHash(client, candidates, nowMs) : this.roundRobin(candidates);
      default:
        return this.roundRobin(candidates);
    }
  }

  failed(m: Member<A, H>, nowMs: number): boolean {
    return recordFailure(m.state, this.passive, nowMs);
  }

  private usable(list: Member<A, H>[], nowMs: number, exclude: Member<A, H> | undefined): Member<A, H>[] {
    const out = this.scratch;
    out.length = 0;
    for (const m of list) if (m !== exclude && m.state.up(nowMs)) out.push(m);
    return out;
  }

  /** nginx's smooth weighted round robin: exact rotation for equal weights, evenly spread for others. */
  private roundRobin(list: Member<A, H>[]): Member<A, H> {
    let total = 0;
    let best = list[0] as Member<A, H>;
    for (const m of list) {
      m.current += m.weight;
      total += m.weight;
      if (m.current > best.current) best = m;
    }
    best.current -= total;
    return best;
  }

  private leastConn(list: Member<A, H>[]): Member<A, H> {
    const n = list.length;
    const start = this.rotation++ % n;
    let best = list[start] as Member<A, H>;
    for (let i = 1; i < n; i++) {
      const m = list[(start + i) % n] as Member<A, H>;
      // active/weight compared without dividing.
      if (m.state.active * best.weight < best.state.active * m.weight) best = m;
    }
    return best;
  }

  /** The same client gets the same target while the primaries are up; when its target is down it is rehashed over the ones that are. */
  private ipHash(client: string, candidates: Member<A, H>[], nowMs: number): Member<A, H> {
    const h = fnv1a(client);
    const home = this.primaries[h % this.primaries.length] as Member<A, H>;
    if (home.state.up(nowMs)) return home;
    return candidates[h % candidates.length] as Member<A, H>;
  }
}

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
