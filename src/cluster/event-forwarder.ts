// A worker's access-log tap for the admin event log, which lives in the primary: lines are collected
// and sent in one IPC message per 100 ms, so no request waits on IPC. A window never carries more
// than the ring holds (older lines would be overwritten at once); the rest is counted as dropped.
import type { AccessEntry } from '../telemetry/access-log';
import type { EventLine, FromWorker } from './messages';

const FLUSH_MS = 100;

export class EventForwarder {
  private lines: EventLine[] = [];
  private dropped = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly capacity: number,
    private readonly send: (m: FromWorker) => void,
  ) {}

  append(_entry: AccessEntry, time: number, line: string): void {
    if (this.lines.length >= this.capacity) this.dropped++;
    else this.lines.push([time, line]);
    if (this.timer === undefined) {
      this.timer = setTimeout(() => this.flush(), FLUSH_MS);
      this.timer.unref();
    }
  }

  flush(): void {
    this.timer = undefined;
    if (this.lines.length === 0 && this.dropped === 0) return;
    const lines = this.lines;
    this.lines = [];
    const dropped = this.dropped;
    this.dropped = 0;
    this.send({ t: 'events', lines, dropped });
  }
}
