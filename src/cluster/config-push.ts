// A config handed to every worker that joined, each answering config-applied with its error or null.
import type { ServicesConfig } from '../config/types';
import type { WorkerChannels } from './channels';
import type { Slot } from './slot';

const CONFIG_TIMEOUT_MS = 30_000;

export class ConfigPush {
  private seq = 0;
  private readonly waits = new Map<string, (error: string | null) => void>();

  constructor(
    private readonly slots: readonly Slot[],
    private readonly channels: WorkerChannels,
  ) {}

  /** One entry a worker: its error, or null (applied, or it exited meanwhile). */
  send(config: ServicesConfig): Promise<Array<string | null>> {
    const seq = ++this.seq;
    const waits: Array<Promise<string | null>> = [];
    for (const slot of this.slots) {
      const w = slot.worker;
      // A worker still starting has the config it was handed at hello queued first; this one follows it.
      if (w === undefined || !slot.joined) continue;
      waits.push(
        new Promise<string | null>((resolve) => {
          const key = `${w.id}:${seq}`;
          const timer = setTimeout(() => done(`worker ${slot.n} did not answer`), CONFIG_TIMEOUT_MS);
          const done = (error: string | null): void => {
            clearTimeout(timer);
            this.waits.delete(key);
            resolve(error);
          };
          this.waits.set(key, done);
          w.once('exit', () => done(null));
          this.channels.send(w, { t: 'config', seq, file: config.file, text: config.text });
        }),
      );
    }
    return Promise.all(waits);
  }

  applied(workerId: number, seq: number, error: string | null): void {
    this.waits.get(`${workerId}:${seq}`)?.(error);
  }
}
