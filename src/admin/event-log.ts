// The in-memory event log: the last N access entries, plus per-service counters since start.
//
// append() runs on the request path once per access entry and allocates nothing that outlives
// the request: the access-log line (already built for the access log) is copied into one
// preallocated byte ring, and the fields the filters need go into typed arrays, interned.
// Keeping the entry objects themselves would make every request's garbage survive into the old
// generation: measured, that cost more than the rest of the append by far.
import type { AccessEntry } from '../telemetry/access-log';
import type { CidrSet } from '../net/cidr-set';

export type Outcome = 'allowed' | 'denied' | 'observed' | 'not_found';
const OUTCOME_CODES: readonly Outcome[] = ['allowed', 'denied', 'observed', 'not_found'];

/** Bytes of line storage per entry of capacity: lines are ~300 bytes; long paths take more. */
export const BYTES_PER_ENTRY = 512;
const MIN_BYTES = 64 * 1024;

export interface StoredEvent {
  seq: number;
  time: number;
  /** The access log line as written (JSON plus "\n"). */
  line: string;
}

export interface ServiceCounts {
  allowed: number;
  observed: number;
  /** By deny_reason. */
  denied: Record<string, number>;
}

/** Filter values as the API takes them; see event-filter.ts. */
export interface EventQuery {
  service: string | undefined;
  outcome: Outcome | undefined;
  reason: string | undefined;
  ip: CidrSet | undefined;
  since: number | undefined;
  until: number | undefined;
}

export interface CompiledQuery {
  /** False when the query can match nothing held (e.g. an unknown service). */
  possible: boolean;
  service: number;
  outcome: number;
  reasonId: number;
  /** For reason=crowdsec_<type>: the interned <type>, matched on observed entries. */
  observedVerdictId: number;
  ip: CidrSet | undefined;
  since: number;
  until: number;
}

/** Small strings (service names, deny reasons, decision types) ↔ small integers; 0 is "none". */
class Interner {
  private readonly ids = new Map<string, number>();
  private readonly names: string[] = [''];

  id(s: string): number {
    if (s === '') return 0;
    let id = this.ids.get(s);
    if (id === undefined) {
      if (this.names.length >= 0xffff) return 0xffff; // "other": only arbitrary LAPI types could get here
      id = this.names.length;
      this.ids.set(s, id);
      this.names.push(s);
    }
    return id;
  }

  find(s: string): number | undefined {
    return s === '' ? 0 : this.ids.get(s);
  }

  name(id: number): string {
    return this.names[id] ?? 'other';
  }
}

export class EventLog {
  private readonly bytes: Buffer;
  private readonly starts: Float64Array;
  private readonly lengths: Int32Array;
  private readonly times: Float64Array;
  private readonly services: Uint16Array;
  private readonly reasons: Uint16Array;
  private readonly verdicts: Uint16Array;
  private readonly outcomes: Uint8Array;
  private readonly strings = new Interner();
  /** Sequence number of the newest entry; 0 before the first. */
  private last = 0;
  /** Absolute byte position where the next line goes (physical offset: pos % bytes.length). */
  private pos = 0;
  private readonly allowed: number[] = [];
  private readonly observed: number[] = [];
  /** Key: serviceId * 65536 + reasonId. */
  private readonly denied = new Map<number, number>();
  private onAppend: (() => void) | undefined;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new Error(`event log capacity must be a positive integer, got ${capacity}`);
    this.bytes = Buffer.allocUnsafeSlow(Math.max(MIN_BYTES, capacity * BYTES_PER_ENTRY));
    this.starts = new Float64Array(capacity);
    this.lengths = new Int32Array(capacity).fill(-1);
    this.times = new Float64Array(capacity);
    this.services = new Uint16Array(capacity);
    this.reasons = new Uint16Array(capacity);
    this.verdicts = new Uint16Array(capacity);
    this.outcomes = new Uint8Array(capacity);
  }

  append(entry: AccessEntry, time: number, line: string): void {
    const service = this.strings.id(entry.service);
    const reason = entry.deny_reason === '' ? 0 : this.strings.id(entry.deny_reason);
    const verdict = observedVerdictKey(entry.metadata);
    const slot = this.record(time, service, reason, verdict === undefined ? 0 : this.strings.id(verdict), outcomeCode(entry));
    this.store(slot, line);
    if (this.onAppend !== undefined) this.onAppend();
  }

  /**
   * An entry whose line arrives as UTF-8 bytes (a worker's, through the event channel) with its
   * filter fields as ids from intern(): nothing is parsed or decoded.
   */
  appendBytes(time: number, service: number, reason: number, verdict: number, outcome: number, src: Buffer, start: number, end: number): void {
    const slot = this.record(time, service, reason, verdict, outcome);
    this.storeBytes(slot, src, start, end);
    if (this.onAppend !== undefined) this.onAppend();
  }

  /** The id of a service name, deny reason or decision type, for appendBytes(); 0 for "". */
  intern(s: string): number {
    return this.strings.id(s);
  }

  private record(time: number, service: number, reason: number, verdict: number, outcome: number): number {
    const seq = ++this.last;
    const slot = seq % this.capacity;
    this.times[slot] = time;
    this.services[slot] = service;
    this.reasons[slot] = reason;
    this.verdicts[slot] = verdict;
    this.outcomes[slot] = outcome;
    if (outcome === 0) this.allowed[service] = (this.allowed[service] ?? 0) + 1;
    else if (outcome === 2) this.observed[service] = (this.observed[service] ?? 0) + 1;
    else if (outcome === 1) {
      const key = service * 65536 + reason;
      this.denied.set(key, (this.denied.get(key) ?? 0) + 1);
    }
    return slot;
  }

  private store(slot: number, line: string): void {
    const offset = this.reserve(slot, line.length * 3); // UTF-8 bytes per UTF-16 unit, at most
    if (offset < 0) return;
    this.placed(slot, this.bytes.write(line, offset, 'utf8'));
  }

  private storeBytes(slot: number, src: Buffer, start: number, end: number): void {
    const offset = this.reserve(slot, end - start);
    if (offset < 0) return;
    this.placed(slot, src.copy(this.bytes, offset, start, end));
  }

  private placed(slot: number, written: number): void {
    this.starts[slot] = this.pos;
    this.lengths[slot] = written;
    this.pos += written;
  }

  /** The physical offset where `bytes` bytes fit without wrapping; -1 (entry counted, not kept) if they never can. */
  private reserve(slot: number, bytes: number): number {
    const size = this.bytes.length;
    if (bytes > size) {
      this.lengths[slot] = -1; // absurdly long: counted, not kept
      return -1;
    }
    const offset = this.pos % size;
    if (offset + bytes > size) {
      this.pos += size - offset; // wrap: the tail of the buffer stays unused this round
      return 0;
    }
    return offset;
  }

  /** One listener (the stream hub); it is only set while someone is streaming. */
  setAppendListener(listener: (() => void) | undefined): void {
    this.onAppend = listener;
  }

  get newestSeq(): number {
    return this.last;
  }

  /** Whether `seq` is still held (not yet overwritten by count or by bytes). */
  has(seq: number): boolean {
    if (seq < 1 || seq > this.last || seq <= this.last - this.capacity) return false;
    const slot = seq % this.capacity;
    return (this.lengths[slot] ?? -1) >= 0 && (this.starts[slot] ?? 0) >= this.pos - this.bytes.length;
  }

  get size(): number {
    let n = 0;
    for (let seq = this.last; this.has(seq); seq--) n++;
    return n;
  }

  /** Oldest sequence number still held (newestSeq + 1 when empty). */
  get oldestSeq(): number {
    let seq = this.last;
    while (this.has(seq)) seq--;
    return seq + 1;
  }

  get(seq: number): StoredEvent | undefined {
    if (!this.has(seq)) return undefined;
    const slot = seq % this.capacity;
    const offset = (this.starts[slot] ?? 0) % this.bytes.length;
    return { seq, time: this.times[slot] ?? 0, line: this.bytes.toString('utf8', offset, offset + (this.lengths[slot] ?? 0)) };
  }

  /** Byte length of a held entry's line. */
  lineBytes(seq: number): number {
    return this.lengths[seq % this.capacity] ?? 0;
  }

  /** Copies a held entry's line (UTF-8, ending in "\n") into `target` at `offset`; returns the bytes copied. */
  copyLine(seq: number, target: Buffer, offset: number): number {
    const slot = seq % this.capacity;
    const start = (this.starts[slot] ?? 0) % this.bytes.length;
    return this.bytes.copy(target, offset, start, start + (this.lengths[slot] ?? 0));
  }

  /** Sequence numbers held after `afterSeq`, newest first. */
  *newestFirst(afterSeq = 0): Generator<number> {
    for (let seq = this.last; seq > afterSeq && this.has(seq); seq--) yield seq;
  }

  compile(q: EventQuery): CompiledQuery {
    const service = q.service === undefined ? -1 : this.strings.find(q.service);
    const reasonId = q.reason === undefined ? -1 : this.strings.find(q.reason);
    // An observed entry matches the reason it would have been denied with: crowdsec_<type> by its CrowdSec type, appsec_<action> as such.
    const verdictName =
      q.reason?.startsWith('crowdsec_') === true ? q.reason.slice('crowdsec_'.length) : q.reason?.startsWith('appsec_') === true ? q.reason : undefined;
    const observedVerdictId = verdictName === undefined ? -1 : (this.strings.find(verdictName) ?? -1);
    return {
      possible: service !== undefined && (q.reason === undefined || reasonId !== undefined || observedVerdictId >= 0),
      service: service ?? -1,
      outcome: q.outcome === undefined ? -1 : OUTCOME_CODES.indexOf(q.outcome),
      reasonId: reasonId ?? -2,
      observedVerdictId,
      ip: q.ip,
      since: q.since ?? -Infinity,
      until: q.until ?? Infinity,
    };
  }

  /** Whether the held entry `seq` matches; only an IP filter needs to read the line. */
  matches(seq: number, q: CompiledQuery): boolean {
    if (!q.possible) return false;
    const slot = seq % this.capacity;
    const time = this.times[slot] ?? 0;
    if (time < q.since || time > q.until) return false;
    if (q.service >= 0 && this.services[slot] !== q.service) return false;
    const outcome = this.outcomes[slot] ?? 0;
    if (q.outcome >= 0 && outcome !== q.outcome) return false;
    if (q.reasonId !== -1 && this.reasons[slot] !== q.reasonId && !(outcome === 2 && this.verdicts[slot] === q.observedVerdictId)) return false;
    if (q.ip !== undefined) {
      const ev = this.get(seq);
      if (ev === undefined) return false;
      const ip = (JSON.parse(ev.line) as { client_ip?: unknown }).client_ip;
      if (typeof ip !== 'string' || !q.ip.contains(ip)) return false;
    }
    return true;
  }

  countsFor(service: string): ServiceCounts {
    const id = this.strings.find(service);
    const counts: ServiceCounts = { allowed: 0, observed: 0, denied: {} };
    if (id === undefined) return counts;
    counts.allowed = this.allowed[id] ?? 0;
    counts.observed = this.observed[id] ?? 0;
    for (const [key, n] of this.denied) {
      if (Math.floor(key / 65536) === id) counts.denied[this.strings.name(key % 65536)] = n;
    }
    return counts;
  }
}

/** The entry's outcome as stored: an index into OUTCOME_CODES. */
export function outcomeCode(e: AccessEntry): number {
  if (e.deny_reason !== '') return 1;
  if (e.service === '') return 3;
  return e.metadata.crowdsec_mode === 'observe' || e.metadata.appsec_mode === 'observe' ? 2 : 0;
}

/** What an entry is filed under as a verdict: CrowdSec's type, else an observed AppSec action as "appsec_<action>". */
export function observedVerdictKey(metadata: Record<string, string>): string | undefined {
  const crowdsec = metadata.crowdsec_verdict;
  if (crowdsec !== undefined) return crowdsec;
  const appsec = metadata.appsec_verdict;
  return appsec !== undefined && metadata.appsec_mode === 'observe' ? `appsec_${appsec}` : undefined;
}

export function outcomeOf(e: AccessEntry): Outcome {
  return OUTCOME_CODES[outcomeCode(e)] as Outcome;
}
