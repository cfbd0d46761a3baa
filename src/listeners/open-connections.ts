// Long-lived connections (TCP, upgraded WebSockets) that may need judging again when the rules
// change, indexed by client address so that a delta of k decisions finds its connections in O(k).
import type { ClientAddress } from '../client-ip/peer';
import type { Verdict } from '../restrictions/types';

/** What a tracked connection is: a socket, or an HTTP/2 session's share of one client (src/listeners/http2-sessions.ts). */
export interface Closable {
  destroy(): unknown;
  once(event: 'close', listener: () => void): unknown;
}

export class OpenConnection {
  /** A WebSocket of a routed service: its request path, so that it is judged again by its route's rules. */
  path: string | undefined = undefined;

  constructor(
    readonly protocol: 'http' | 'tcp',
    readonly serviceName: string,
    readonly clientIp: ClientAddress,
    /** The verdict its access entry reports: the admission's, or the one that later cut or flagged it. */
    public verdict: Verdict,
    private readonly socket: Closable,
  ) {}

  /** Cut already: its socket is closing, and it is judged (and counted) no more. */
  terminated = false;

  /** Cut by a rule change: the access entry carries the denial and `"terminated":"rule_change"`. */
  terminate(verdict: Verdict): void {
    this.terminated = true;
    this.verdict = { ...verdict, metadata: { ...verdict.metadata, terminated: 'rule_change' } };
    this.socket.destroy();
  }
}

export class OpenConnections {
  private readonly byIp = new Map<string, Set<OpenConnection>>();
  private count = 0;

  /** Registers a connection until its socket closes. */
  track(conn: OpenConnection, socket: Closable): void {
    let set = this.byIp.get(conn.clientIp);
    if (set === undefined) {
      set = new Set();
      this.byIp.set(conn.clientIp, set);
    }
    set.add(conn);
    this.count++;
    socket.once('close', () => this.untrack(conn));
  }

  private untrack(conn: OpenConnection): void {
    const set = this.byIp.get(conn.clientIp);
    if (set === undefined || !set.delete(conn)) return;
    this.count--;
    if (set.size === 0) this.byIp.delete(conn.clientIp);
  }

  get size(): number {
    return this.count;
  }

  /** The connections of one client address (normalised). */
  of(ip: string): Iterable<OpenConnection> {
    return this.byIp.get(ip) ?? EMPTY;
  }

  *all(): IterableIterator<OpenConnection> {
    for (const set of this.byIp.values()) yield* set;
  }
}

const EMPTY: ReadonlySet<OpenConnection> = new Set();
