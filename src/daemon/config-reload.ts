// Reloads services.yaml on SIGHUP and when the file changes. Polling (one stat per interval) also
// sees atomic replaces and edits on bind mounts, which inotify on the file misses. Touches are
// ignored: the text is compared with the running config's.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import type { Logger } from 'pino';
import { ConfigError, loadServicesConfig, type LoadOptions } from '../config/load';
import type { ServicesConfig } from '../config/types';

const POLL_MS = 500;
const DEBOUNCE_MS = 200;

export class ConfigReloader {
  private loadedText: string;
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly file: string,
    private readonly loadOptions: LoadOptions,
    initial: ServicesConfig,
    private readonly apply: (config: ServicesConfig) => Promise<void>,
    private readonly log: Logger,
  ) {
    this.loadedText = initial.text;
  }

  watch(): void {
    watchFile(this.file, { interval: POLL_MS, persistent: false }, (cur: Stats, prev: Stats) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) this.schedule('file changed');
    });
    // Catches a change made before the watcher's first stat.
    this.schedule('file changed');
  }

  schedule(why: string): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.queue = this.queue.then(() => this.reload(why));
    }, DEBOUNCE_MS);
  }

  /** Reloads at once (no debounce) through the same queue; resolves once the result is in force. */
  reloadNow(why: string): Promise<void> {
    if (this.stopped) return Promise.resolve();
    clearTimeout(this.timer);
    this.queue = this.queue.then(() => this.reload(why));
    return this.queue;
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    unwatchFile(this.file);
  }

  private async reload(why: string): Promise<void> {
    if (this.stopped) return;
    let config: ServicesConfig;
    try {
      config = await loadServicesConfig(this.file, this.loadOptions);
    } catch (err) {
      const message = err instanceof ConfigError ? err.message : (err as Error).message;
      this.log.error({ file: this.file, err: message }, 'config reload failed; keeping the running config');
      return;
    }
    if (why === 'file changed' && config.text === this.loadedText) return;
    try {
      // Reads certificate and CA files: a bad one leaves the running config in place.
      await this.apply(config);
    } catch (err) {
      this.log.error({ file: this.file, err: (err as Error).message }, 'config reload failed; keeping the running config');
      return;
    }
    this.loadedText = config.text;
    this.log.info({ file: this.file, reason: why, services: config.services.length }, 'config reloaded');
  }
}
