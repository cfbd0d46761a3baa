// Server-Sent Events for the event log. New entries are sent in batches (one timer per batch
// window, not per request). Each entry goes out as the access log line already built for it,
// prefixed by its sequence number, copied byte for byte out of the ring into one buffer per
// batch: streaming serialises and decodes nothing. With no subscriber the event log has no
// listener and pays nothing here.
//
// Wire format, one message per batch, oldest first:
//   id: <newest seq in the batch>
//   event: events
//   data: <seq> <access log JSON line>      (one data line per entry)
import type { ServerResponse } from 'node:http';
import type { CompiledQuery, EventLog } from './event-log';
import type { EventFilter } from './event-filter';

export const BATCH_MS = 250;
const HEARTBEAT_MS = 15_000;
/** A subscriber that cannot keep up (this much unsent in the process) is dropped; its browser reconnects. */
export const MAX_UNSENT_BYTES = 1024 * 1024;
/** Open streams at once; more are refused with 503 (each can hold MAX_UNSENT_BYTES plus one batch). */
export const MAX_SUBSCRIBERS = 16;

interface Subscriber {
  res: ServerResponse;
  query: CompiledQuery;
  filter: EventFilter;
}

export class EventStreamHub {
  private readonly subscribers = new Set<Subscriber>();
  private sentSeq: number;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly arm = (): void => {
    if (this.timer === undefined) this.timer = setTimeout(() => this.flush(), BATCH_MS);
  };

  constructor(
    private readonly log: EventLog,
    /** Told when a subscriber is dropped for not reading. */
    private readonly onSlowDrop: (res: ServerResponse, unsent: number) => void = () => undefined,
  ) {
    this.sentSeq = log.newestSeq;
  }

  get full(): boolean {
    return this.subscribers.size >= MAX_SUBSCRIBERS;
  }

  get count(): number {
    return this.subscribers.size;
  }

  /** Starts an SSE response; replays held entries after `afterSeq` that match, oldest first. */
  subscribe(res: ServerResponse, filter: EventFilter, afterSeq: number | undefined): void {
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
    });
    res.write(`retry: 2000\n\n`);
    if (this.subscribers.size === 0) {
      this.sentSeq = this.log.newestSeq;
      this.log.setAppendListener(this.arm);
      this.heartbeat = setInterval(() => this.ping(), HEARTBEAT_MS);
      this.heartbeat.unref();
    }
    const sub: Subscriber = { res, query: this.log.compile(filter), filter };
    if (afterSeq !== undefined) {
      const replay: number[] = [];
      for (const seq of this.log.newestFirst(afterSeq)) {
        if (seq > this.sentSeq) continue; // the next flush sends it
        if (this.log.matches(seq, sub.query)) replay.push(seq);
        if (replay.length >= filter.limit) break;
      }
      if (replay.length > 0) res.write(this.frame(this.sentSeq, replay.reverse()));
    }
    this.subscribers.add(sub);
    res.once('close', () => this.drop(sub));
  }

  private drop(sub: Subscriber): void {
    if (!this.subscribers.delete(sub)) return;
    if (!sub.res.writableEnded) sub.res.destroy();
    if (this.subscribers.size === 0) {
      this.log.setAppendListener(undefined);
      clearTimeout(this.timer);
      clearInterval(this.heartbeat);
      this.timer = undefined;
    }
  }

  private flush(): void {
    this.timer = undefined;
    const from = Math.max(this.sentSeq + 1, this.log.oldestSeq);
    const to = this.log.newestSeq;
    this.sentSeq = to;
    // Services and reasons seen for the first time since a subscriber came are interned now.
    for (const sub of this.subscribers) {
      sub.query = this.log.compile(sub.filter);
      const batch: number[] = [];
      for (let seq = from; seq <= to; seq++) if (this.log.matches(seq, sub.query)) batch.push(seq);
      if (batch.length === 0) continue;
      this.send(sub, this.frame(to, batch));
    }
  }

  /** Writes unless the subscriber still has unsent bytes and this would take it past the cap: then it is dropped. */
  private send(sub: Subscriber, data: Buffer | string): void {
    const unsent = sub.res.writableLength;
    if (unsent > 0 && unsent + data.length > MAX_UNSENT_BYTES) {
      this.onSlowDrop(sub.res, unsent);
      this.drop(sub);
      return;
    }
    sub.res.write(data);
  }

  /** One SSE message, oldest first: "data: <seq> <access log line>" per entry; id is `id`. */
  private frame(id: number, seqs: number[]): Buffer {
    const head = `id: ${id}\nevent: events\n`;
    let size = head.length + 1;
    for (const seq of seqs) size += 7 + String(seq).length + this.log.lineBytes(seq);
    const out = Buffer.allocUnsafe(size);
    let at = out.write(head, 0, 'latin1');
    for (const seq of seqs) {
      at += out.write(`data: ${seq} `, at, 'latin1');
      at += this.log.copyLine(seq, out, at);
    }
    out[at++] = 0x0a;
    return out.subarray(0, at);
  }

  private ping(): void {
    for (const sub of [...this.subscribers]) this.send(sub, ': ping\n\n');
  }

  close(): void {
    for (const sub of [...this.subscribers]) this.drop(sub);
  }
}
