// One worker place of --workers > 1: the worker in it now (replaced when it dies) and what the
// primary knows of the decision set that worker holds.
import type { Worker } from 'node:cluster';
import type { ToWorker } from './messages';

export interface Slot {
  readonly n: number;
  worker: Worker | undefined;
  /** Said hello: it gets broadcasts from now on. */
  joined: boolean;
  /** Holds a complete set: it was sent a whole full pull, or another worker's set (a donor). */
  synced: boolean;
  /** Was sent the pull-begin of the full pull (or dump) in progress. */
  fullOpen: boolean;
  /** Joined while the group already had a set: it is to be built from a synced worker's. */
  needsSet: boolean;
  /** Being built from `donor`'s set: broadcasts wait in `pending` until its dump has been passed on. */
  dump: { id: number; donor: Slot; pending: ToWorker[] } | undefined;
  started: boolean;
  everStarted: boolean;
  forkedAt: number;
}

export function newSlot(n: number): Slot {
  return {
    n,
    worker: undefined,
    joined: false,
    synced: false,
    fullOpen: false,
    needsSet: false,
    dump: undefined,
    started: false,
    everStarted: false,
    forkedAt: 0,
  };
}
