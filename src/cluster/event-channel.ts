// The workers' access entries for the admin event log, which lives in the primary. Each worker has
// its own pipe to the primary (an extra stdio fd, not the IPC channel): entries go as binary records,
// the access line's UTF-8 bytes behind a fixed header with the filter fields as small ids, so neither
// side builds JSON for them and the primary copies the bytes into its ring without decoding them.
// The worker writes each line into a reused buffer at once (no line string outlives its request,
// so none survives a scavenge) and sends the buffer every 100 ms or when it is full.
//
// Record: kind u8 | outcome u8 | service u16 | reason u16 | verdict u16 | time f64 | length u32 | bytes
//   kind 1 (entry): the access line; kind 2 (name): id `service` now means the UTF-8 name in bytes.
import type { Writable } from 'node:stream';
import { Counter, type Registry } from 'prom-client';
import { observedVerdictKey, outcomeCode, type EventLog } from '../admin/event-log';
import type { AccessEntry } from '../telemetry/access-log';

/** The worker's fd of its event pipe: stdio is [stdin, stdout, stderr, ipc, events]. */
export const EVENT_FD = 4;

const HEADER = 20;
const ENTRY = 1;
const NAME = 2;
const FLUSH_MS = 100;
/** One window's buffer; a busy worker fills it in well under 100 ms and sends it at once. */
const WINDOW_BYTES = 256 * 1024;
/** Sent but not yet taken by the primary: beyond this, windows are dropped (counted), never queued. */
const MAX_PENDING_BYTES = 4 * 1024 * 1024;
const MAX_NAMES = 0xfffe;

/** Worker side: the access log's tap. */
export class EventSender {
  private readonly buf = Buffer.allocUnsafeSlow(WINDOW_BYTES);
  private used = 0;
  private timer: NodeJS.Timeout | undefined;
  /** Names sent in this pipe's life; cleared when a window is dropped (its name records with it). */
  private readonly names = new Map<string, number>();
  /** Entries not delivered (the primary fell behind, or a line larger than a window). */
  dropped = 0;

  constructor(private readonly out: Pick<Writable, 'write' | 'writableLength' | 'destroyed'>) {}

  append(entry: AccessEntry, time: number, line: string): void {
    const verdictName = observedVerdictKey(entry.metadata) ?? '';
    let worst = this.room(entry.service, entry.deny_reason, verdictName, line);
    if (this.used + worst > WINDOW_BYTES) {
      this.flush();
      // A dropped window took the name records with it: what this entry needs is measured again.
      worst = this.room(entry.service, entry.deny_reason, verdictName, line);
      if (worst > WINDOW_BYTES) {
        this.dropped++;
        return;
      }
    }
    // No flush from here on: the ids below and their name records land in the same window as the entry.
    const service = this.nameId(entry.service);
    const reason = this.nameId(entry.deny_reason);
    const verdict = this.nameId(verdictName);
    const at = this.used;
    const length = this.buf.write(line, at + HEADER, 'utf8');
    this.header(at, ENTRY, outcomeCode(entry), service, reason, verdict, time, length);
    this.used = at + HEADER + length;
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  /** Bytes the entry may take at most: its record, and a record for each name not sent yet. */
  private room(service: string, reason: string, verdict: string, line: string): number {
    return HEADER + line.length * 3 + this.nameRoom(service) + this.nameRoom(reason) + this.nameRoom(verdict);
  }

  private nameRoom(name: string): number {
    return name === '' || this.names.has(name) ? 0 : HEADER + name.length * 3;
  }

  flush(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.used === 0) return;
    const window = Buffer.allocUnsafe(this.used);
    this.buf.copy(window, 0, 0, this.used);
    this.used = 0;
    if (this.out.writableLength > MAX_PENDING_BYTES || this.out.destroyed) {
      this.dropped += countEntries(window);
      this.names.clear(); // the window's name records are lost: names are sent again when next used
      return;
    }
    this.out.write(window);
  }

  private nameId(name: string): number {
    if (name === '') return 0;
    let id = this.names.get(name);
    if (id !== undefined) return id;
    if (this.names.size >= MAX_NAMES) return MAX_NAMES + 1; // "other" (only arbitrary LAPI types could get here)
    id = this.names.size + 1;
    this.names.set(name, id);
    const length = this.buf.write(name, this.used + HEADER, 'utf8');
    this.header(this.used, NAME, 0, id, 0, 0, 0, length);
    this.used += HEADER + length;
    return id;
  }

  private header(at: number, kind: number, outcome: number, service: number, reason: number, verdict: number, time: number, length: number): void {
    const b = this.buf;
    b[at] = kind;
    b[at + 1] = outcome;
    b.writeUInt16LE(service, at + 2);
    b.writeUInt16LE(reason, at + 4);
    b.writeUInt16LE(verdict, at + 6);
    b.writeDoubleLE(time, at + 8);
    b.writeUInt32LE(length, at + 16);
  }
}

/**
 * netbird_proxy_event_log_dropped_total{worker}: this worker's entries that never reached the event
 * log. Read at scrape time; the primary's /metrics merges the workers' registries.
 */
export function exportDropped(registry: Registry, worker: number, sender: EventSender): void {
  const labels = { worker: String(worker) };
  new Counter({
    name: 'netbird_proxy_event_log_dropped_total',
    help: 'Access entries of a worker dropped from the admin event log (the primary fell more than 4 MiB behind); the access log itself is complete',
    labelNames: ['worker'],
    registers: [registry],
    collect() {
      this.reset();
      this.inc(labels, sender.dropped);
    },
  });
}

function countEntries(window: Buffer): number {
  let n = 0;
  for (let at = 0; at + HEADER <= window.length; at += HEADER + window.readUInt32LE(at + 16)) if (window[at] === ENTRY) n++;
  return n;
}

/** Primary side: one per worker pipe; records may arrive split across chunks. */
export class EventReceiver {
  /** The worker's name ids → the event log's. */
  private readonly ids: number[] = [0];
  private rest: Buffer | undefined;

  constructor(private readonly log: EventLog) {}

  take(chunk: Buffer): void {
    const data = this.rest === undefined ? chunk : Buffer.concat([this.rest, chunk]);
    let at = 0;
    while (at + HEADER <= data.length) {
      const length = data.readUInt32LE(at + 16);
      const end = at + HEADER + length;
      if (end > data.length) break;
      const first = at + HEADER;
      if (data[at] === ENTRY) {
        this.log.appendBytes(
          data.readDoubleLE(at + 8),
          this.id(data.readUInt16LE(at + 2)),
          this.id(data.readUInt16LE(at + 4)),
          this.id(data.readUInt16LE(at + 6)),
          data[at + 1] ?? 0,
          data,
          first,
          end,
        );
      } else if (data[at] === NAME) {
        this.ids[data.readUInt16LE(at + 2)] = this.log.intern(data.toString('utf8', first, end));
      }
      at = end;
    }
    this.rest = at < data.length ? data.subarray(at) : undefined;
  }

  private id(workerId: number): number {
    return workerId === 0 ? 0 : (this.ids[workerId] ?? this.log.intern('other'));
  }
}
