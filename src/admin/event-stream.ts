// Server-Sent Events for the event log. New entries are sent in batches (one timer per batch
// window, not per request). Each entry goes out as the access log line already built for it,
// prefixed by its sequence number, so streaming serialises nothing. With no subscriber the
// event log has no listener and pays nothing here.
//
// Wire format, one message per batch, oldest first:
//   id: <newest seq in the batch>
//   event: events
//   data: <seq> <access log JSON line>      (one data line per entry)
import type { ServerResponse } from 'node:http';
import type { EventLog } from './event-log';
import { matches, type EventFilter } from './event-filter';

export const BATCH_MS = 250;
const HEARTBEAT_MS = 15_000;
/** A subscriber that cannot keep up (this much unsent) is dropped; its browser reconnects. */
const MAX_BUFFERED = 4 * 1024 * 1024;

interface Subscriber {
  res: ServerResponse;
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

  constructor(private readonly log: EventLog) {
    this.sentSeq = log.newestSeq;
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
    if (afterSeq !== undefined) {
      const replay = [];
      for (const ev of this.log.newestFirst(afterSeq)) {
        if (ev.seq > this.sentSeq) continue; // the next flush sends it
        if (matches(filter, ev)) replay.push(dataLine(ev.seq, ev.line));
        if (replay.length >= filter.limit) break;
      }
      if (replay.length > 0) res.write(frame(this.sentSeq, replay.reverse()));
    }
    const sub: Subscriber = { res, filter };
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
    const events = [];
    for (let seq = from; seq <= to; seq++) {
      const ev = this.log.get(seq);
      if (ev !== undefined) events.push(ev);
    }
    for (const sub of this.subscribers) {
      const batch: string[] = [];
      for (const ev of events) if (matches(sub.filter, ev)) batch.push(dataLine(ev.seq, ev.line));
      if (batch.length === 0) continue;
      if (sub.res.writableLength > MAX_BUFFERED) {
        this.drop(sub);
        continue;
      }
      sub.res.write(frame(to, batch));
    }
  }

  private ping(): void {
    for (const sub of this.subscribers) sub.res.write(': ping\n\n');
  }

  close(): void {
    for (const sub of [...this.subscribers]) this.drop(sub);
  }
}

function dataLine(seq: number, line: string): string {
  return `data: ${seq} ${line}`;
}

/** One SSE message; id is the newest sequence covered. Every data line ends in "\n" already. */
function frame(id: number, dataLines: string[]): string {
  return `id: ${id}\nevent: events\n${dataLines.join('')}\n`;
}
