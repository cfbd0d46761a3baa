// Every worker holds the whole decision set: the bouncer's pulls are broadcast to the workers that
// joined, and a worker that joins later (a replacement) is built from a synced worker's set (a
// dump), the broadcasts meanwhile held back until the dump has been passed on.
import type { Worker } from 'node:cluster';
import type { WorkerChannels } from './channels';
import type { FromWorker, ToWorker } from './messages';
import type { Slot } from './slot';

export interface SetSource {
  /** False while a pull is under way or no bouncer runs: dumps wait for the pull's end. */
  canDump(): boolean;
  /** No worker holds a set: the bouncer's next pull is to be a full one. */
  requestResync(): void;
}

export class SetSync {
  private dumpSeq = 0;

  constructor(
    private readonly slots: readonly Slot[],
    private readonly channels: WorkerChannels,
    private readonly source: SetSource,
  ) {}

  broadcast(m: ToWorker): void {
    let reporter = m.t === 'pull-end';
    for (const slot of this.slots) {
      const w = slot.worker;
      if (w === undefined || !slot.joined) continue;
      if (slot.dump !== undefined) {
        slot.dump.pending.push(m);
        continue;
      }
      if (reporter) {
        this.deliver(slot, w, { ...m, report: true } as ToWorker);
        reporter = false;
      } else this.deliver(slot, w, m);
    }
    if (m.t === 'pull-end') this.startDumps();
  }

  /** A worker joined a group that already has a set (a replacement): it is built from another's. */
  joined(slot: Slot): void {
    slot.needsSet = true;
    this.startDumps();
  }

  /** The slot's worker exited: it holds nothing, and workers it was building are built again, from another. */
  exited(slot: Slot): void {
    slot.synced = false;
    slot.fullOpen = false;
    slot.needsSet = false;
    slot.dump = undefined;
    for (const s of this.slots) {
      if (s.dump?.donor !== slot) continue;
      s.dump = undefined;
      s.needsSet = true;
    }
    this.startDumps();
  }

  /** No bouncer: the workers drop their sets (MirrorRunner); a new bouncer's first pull is a full one for all. */
  dropAll(): void {
    for (const slot of this.slots) Object.assign(slot, { synced: false, fullOpen: false, needsSet: false, dump: undefined });
  }

  /** A donor's batch goes on to the worker being built; at the end, what was broadcast meanwhile follows. */
  onDump(donor: Slot, m: Extract<FromWorker, { t: 'dump-batch' | 'dump-end' }>): void {
    const target = this.slots.find((s) => s.dump?.id === m.id && s.dump.donor === donor);
    const w = target?.worker;
    if (target === undefined || w === undefined) return;
    if (m.t === 'dump-batch') return this.channels.send(w, { t: 'batch', batch: m.batch });
    const pending = (target.dump as NonNullable<Slot['dump']>).pending;
    target.dump = undefined;
    this.channels.send(w, { t: 'pull-end', ok: true });
    target.synced = true;
    for (const msg of pending) this.deliver(target, w, msg);
  }

  /** Builds every worker that needs a set from a synced one, unless a pull is under way (it waits for its end). */
  private startDumps(): void {
    if (!this.source.canDump()) return;
    for (const slot of this.slots) {
      const w = slot.worker;
      if (!slot.needsSet || slot.dump !== undefined || w === undefined || !slot.joined) continue;
      const donor = this.slots.find((d) => d.synced && d.started && d.dump === undefined && d.worker?.isConnected() === true);
      if (donor === undefined) {
        // No worker holds a set (all were replaced): the bouncer's next pull is a full one, which every worker takes.
        this.source.requestResync();
        return;
      }
      const id = ++this.dumpSeq;
      slot.dump = { id, donor, pending: [] };
      slot.needsSet = false;
      this.channels.send(w, { t: 'pull-begin', full: true });
      this.channels.send(donor.worker as Worker, { t: 'dump', id });
    }
  }

  /** Sends a stream message to one worker, noting whether it now holds a whole set. */
  private deliver(slot: Slot, w: Worker, m: ToWorker): void {
    if (m.t === 'pull-begin' && m.full) slot.fullOpen = true;
    if (m.t === 'pull-end' && m.full === true) {
      if (m.ok && slot.fullOpen) {
        slot.synced = true;
        slot.needsSet = false;
      }
      slot.fullOpen = false;
    }
    this.channels.send(w, m);
  }
}
