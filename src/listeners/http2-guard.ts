// Per-session budgets for what an HTTP/2 client may make the proxy do without a request to show for
// it: control frames (PING, SETTINGS) and streams it cancels itself (CVE-2023-44487, rapid reset).
// Node (nghttp2) already bounds the rest: concurrent streams, header list size and pairs, CONTINUATION
// frames per header block, unacknowledged outbound frames, invalid frames, session memory.
// Pure: the session wiring is in http2-server.ts.

/** What a session may do in one window before it is sent GOAWAY (ENHANCE_YOUR_CALM) and closed. */
export interface SessionBudget {
  windowMs: number;
  /** PING and SETTINGS frames from the client. */
  controlFrames: number;
  /** Streams the client reset before their response was complete. */
  clientResets: number;
}

export type Abuse = 'control_flood' | 'rapid_reset';

/** A fixed-window counter: one per session, a few numbers, no timer. */
export class SessionGuard {
  private windowStart = 0;
  private control = 0;
  private resets = 0;
  /** Totals over the session's life, for the log line. */
  totalControl = 0;
  totalResets = 0;
  /** Set once the session was closed for abuse (one log line per session). */
  tripped = false;

  constructor(private readonly budget: SessionBudget) {}

  /** A PING or SETTINGS frame arrived; returns the abuse when the budget is exceeded. */
  controlFrame(nowMs: number): Abuse | undefined {
    this.roll(nowMs);
    this.totalControl++;
    return ++this.control > this.budget.controlFrames ? 'control_flood' : undefined;
  }

  /** The client reset a stream whose response was not complete. */
  clientReset(nowMs: number): Abuse | undefined {
    this.roll(nowMs);
    this.totalResets++;
    return ++this.resets > this.budget.clientResets ? 'rapid_reset' : undefined;
  }

  private roll(nowMs: number): void {
    if (nowMs - this.windowStart < this.budget.windowMs) return;
    this.windowStart = nowMs;
    this.control = 0;
    this.resets = 0;
  }
}

/**
 * Budgets from the stream limit: a browser sends a handful of control frames per connection and
 * cancels streams now and then (navigation, aborted fetches); an attacker sends thousands per second.
 */
export function budgetFor(maxConcurrentStreams: number): SessionBudget {
  return { windowMs: 10_000, controlFrames: 200, clientResets: Math.max(100, 2 * maxConcurrentStreams) };
}
