// Starting a worker: its execArgv, its stdio (lines relayed whole, event-log entries on fd 4), and
// when a dead one is replaced.
import cluster, { type Worker } from 'node:cluster';
import { Readable, type Writable } from 'node:stream';
import type { EventLog } from '../admin/event-log';
import { EVENT_FD, EventReceiver } from './event-channel';
import { relayLines } from './line-relay';
import { isFromWorker, type FromWorker } from './messages';
import type { Slot } from './slot';
import { WORKER_SLOT_ENV } from './worker';
import { LAUNCHER_NODE_FLAGS } from '../util/launcher';

const WORKER_SEMI_SPACE_MB = 4;
/** A worker that dies sooner than this after its start is replaced after a pause, not at once. */
const QUICK_DEATH_MS = 5000;
const QUICK_DEATH_PAUSE_MS = 1000;

/** Once, before the first fork. */
export function setupWorkers(): void {
  // Workers inherit no stdio: their lines come through relayLines, whole; fd 4 carries their event-log entries.
  cluster.setupPrimary({ stdio: ['ignore', 'pipe', 'pipe', 'ipc', 'pipe'], execArgv: workerExecArgv() });
}

/**
 * A worker's young generation is capped at WORKER_SEMI_SPACE_MB per semi-space (V8's default grows to
 * 16 MB): a 1M-decision pull otherwise leaves each worker ~25 MB of heap it never gives back. The
 * launcher's fixed young generation (util/launcher.ts) is the single process's and is not passed on;
 * an explicit --max-semi-space-size (another node flag or NODE_OPTIONS) is left alone.
 */
export function workerExecArgv(execArgv: readonly string[] = process.execArgv, nodeOptions = process.env.NODE_OPTIONS ?? ''): string[] {
  const inherited = execArgv.filter((a) => !LAUNCHER_NODE_FLAGS.includes(a));
  const given = [...inherited, nodeOptions].some((a) => a.includes('--max-semi-space-size'));
  return given ? inherited : [...inherited, `--max-semi-space-size=${WORKER_SEMI_SPACE_MB}`];
}

export interface ForkHooks {
  /** Where the worker's stdout lines go (the primary's pino-pretty with --log-format pretty). */
  stdout: Writable;
  events: EventLog | undefined;
  onMessage(slot: Slot, worker: Worker, m: FromWorker): void;
  onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void;
}

export function forkWorker(slot: Slot, hooks: ForkHooks): void {
  const worker = cluster.fork({ [WORKER_SLOT_ENV]: String(slot.n) });
  slot.worker = worker;
  slot.joined = false;
  slot.started = false;
  slot.forkedAt = Date.now();
  if (worker.process.stdout) relayLines(worker.process.stdout, hooks.stdout);
  if (worker.process.stderr) relayLines(worker.process.stderr, process.stderr);
  const events = hooks.events;
  const eventPipe = worker.process.stdio[EVENT_FD];
  if (events !== undefined && eventPipe instanceof Readable) {
    const receiver = new EventReceiver(events);
    eventPipe.on('data', (chunk: Buffer) => receiver.take(chunk));
  }
  worker.on('message', (m: unknown) => {
    if (isFromWorker(m)) hooks.onMessage(slot, worker, m);
  });
  worker.on('exit', (code, signal) => hooks.onExit(slot, worker, code, signal));
}

/** How long to wait before replacing the slot's worker that just died: a quick death is not retried at once. */
export function respawnDelayMs(slot: Slot, now = Date.now()): number {
  return now - slot.forkedAt < QUICK_DEATH_MS ? QUICK_DEATH_PAUSE_MS : 0;
}
