// The in-memory event log: the last N access entries in a fixed ring, plus per-service counters
// since start. append() runs on the request path once per access entry: it stores a reference,
// bumps a few integers and, only while a page is streaming, arms one batch timer.
import type { AccessEntry } from '../access-log';

export type Outcome = 'allowed' | 'denied' | 'observed' | 'not_found';

/** What the ring holds per slot (parallel arrays: no wrapper object per request). */
export interface StoredEvent {
  seq: number;
  time: number;
  entry: AccessEntry;
  /** The access log line as written (JSON plus "\n"): the live stream sends it as is. */
  line: string;
}

export interface ServiceCounts {
  allowed: number;
  observed: number;
  /** By deny_reason. */
  denied: Record<string, number>;
}

export interface EventTap {
  append(entry: AccessEntry, time: number, line: string): void;
}

export function outcomeOf(e: AccessEntry): Outcome {
  if (e.deny_reason !== '') return 'denied';
  if (e.service === '') return 'not_found';
  if (e.metadata.crowdsec_mode === 'observe') return 'observed';
  return 'allowed';
}

export class EventLog implements EventTap {
  private readonly entries: (AccessEntry | undefined)[];
  private readonly lines: string[];
  private readonly times: Float64Array;
  /** Sequence number of the newest entry; 0 before the first. */
  private last = 0;
  private readonly counts = new Map<string, ServiceCounts>();
  private onAppend: (() => void) | undefined;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`event log capacity must be a positive integer, got ${capacity}`);
    this.entries = new Array<AccessEntry | undefined>(capacity).fill(undefined);
    this.lines = new Array<string>(capacity).fill('');
    this.times = new Float64Array(capacity);
  }

  append(entry: AccessEntry, time: number, line: string): void {
    const seq = ++this.last;
    const slot = seq % this.capacity;
    this.entries[slot] = entry;
    this.lines[slot] = line;
    this.times[slot] = time;
    this.count(entry);
    if (this.onAppend !== undefined) this.onAppend();
  }

  /** One listener (the stream hub); it is only set while someone is streaming. */
  setAppendListener(listener: (() => void) | undefined): void {
    this.onAppend = listener;
  }

  get newestSeq(): number {
    return this.last;
  }

  get size(): number {
    return Math.min(this.last, this.capacity);
  }

  /** Entry by sequence number, or undefined when it has been overwritten or not written yet. */
  get(seq: number): StoredEvent | undefined {
    if (seq < 1 || seq > this.last || seq <= this.last - this.capacity) return undefined;
    const slot = seq % this.capacity;
    const entry = this.entries[slot];
    return entry === undefined ? undefined : { seq, time: this.times[slot] ?? 0, entry, line: this.lines[slot] ?? '' };
  }

  /** Oldest sequence number still held. */
  get oldestSeq(): number {
    return Math.max(1, this.last - this.capacity + 1);
  }

  /** Newest first, entries with seq > afterSeq that match, at most `limit`. */
  *newestFirst(afterSeq = 0): Generator<StoredEvent> {
    const stop = Math.max(afterSeq, this.last - this.capacity);
    for (let seq = this.last; seq > stop; seq--) {
      const ev = this.get(seq);
      if (ev !== undefined) yield ev;
    }
  }

  countsFor(service: string): ServiceCounts {
    const c = this.counts.get(service);
    return c === undefined ? { allowed: 0, observed: 0, denied: {} } : { allowed: c.allowed, observed: c.observed, denied: { ...c.denied } };
  }

  private count(e: AccessEntry): void {
    let c = this.counts.get(e.service);
    if (c === undefined) {
      c = { allowed: 0, observed: 0, denied: Object.create(null) as Record<string, number> };
      this.counts.set(e.service, c);
    }
    if (e.deny_reason !== '') c.denied[e.deny_reason] = (c.denied[e.deny_reason] ?? 0) + 1;
    else if (e.metadata.crowdsec_mode === 'observe') c.observed++;
    else c.allowed++;
  }
}
