// Reloads services.yaml on SIGHUP and when the file, or a deny template file it names (or
// --deny-template), changes. Polling (one stat per interval) also sees atomic replaces and edits on
// bind mounts, which inotify on the file misses. Touches are ignored: the text and the templates'
// text are compared with the running config's.
import { unwatchFile, watchFile, type Stats } from 'node:fs';
import { resolve } from 'node:path';
import type { Logger } from 'pino';
import { ConfigError, loadServicesConfig, parseServicesConfig, type LoadOptions } from '../config/load';
import type { ServicesConfig } from '../config/types';

const POLL_MS = 500;
const DEBOUNCE_MS = 200;

/** A change of the file or of a template: reloaded unless the texts are those in force. */
const CHANGED = new Set(['file changed', 'deny template changed']);

/** The reloader's check for the admin UI's edits; before the reloader exists (start-up) there is none to make. */
export function validateWith(reloader: ConfigReloader | undefined, text: string): ServicesConfig {
  if (reloader === undefined) throw new Error('the proxy is still starting; try again');
  return reloader.validate(text);
}

export class ConfigReloader {
  private loadedText: string;
  /** Template files watched (besides the config file), as the running config names them. */
  private readonly templates = new Set<string>();
  private queue: Promise<void> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly file: string,
    private readonly loadOptions: LoadOptions,
    private readonly initial: ServicesConfig,
    private readonly apply: (config: ServicesConfig) => Promise<void>,
    private readonly log: Logger,
  ) {
    this.loadedText = loadedText(initial);
  }

  watch(): void {
    this.watchPath(this.file, 'file changed');
    this.watchTemplates(this.initial);
    // Catches a change made before the watcher's first stat.
    this.schedule('file changed');
  }

  private watchPath(path: string, why: string): void {
    watchFile(path, { interval: POLL_MS, persistent: false }, (cur: Stats, prev: Stats) => {
      if (cur.mtimeMs !== prev.mtimeMs || cur.size !== prev.size || cur.ino !== prev.ino) this.schedule(why);
    });
  }

  /** Watches the template files `config` names, and no longer those it does not. */
  private watchTemplates(config: ServicesConfig): void {
    if (this.stopped) return;
    const wanted = new Set(templatePaths(config, this.loadOptions));
    wanted.delete(this.file);
    for (const path of this.templates) {
      if (wanted.has(path)) continue;
      unwatchFile(path);
      this.templates.delete(path);
    }
    for (const path of wanted) {
      if (this.templates.has(path)) continue;
      this.watchPath(path, 'deny template changed');
      this.templates.add(path);
    }
  }

  schedule(why: string): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.queue = this.queue.then(() => this.reload(why));
    }, DEBOUNCE_MS);
  }

  /**
   * The check a reload makes of a config text, with the options of this process (--deny-template,
   * CrowdSec configured, ...): also used by the admin UI before it writes services.yaml.
   */
  validate(text: string): ServicesConfig {
    return parseServicesConfig(text, this.file, this.loadOptions);
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
    for (const path of this.templates) unwatchFile(path);
    this.templates.clear();
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
    const loaded = loadedText(config);
    if (CHANGED.has(why) && loaded === this.loadedText) return;
    try {
      // Reads certificate and CA files: a bad one leaves the running config in place.
      await this.apply(config);
    } catch (err) {
      this.log.error({ file: this.file, err: (err as Error).message }, 'config reload failed; keeping the running config');
      return;
    }
    this.loadedText = loaded;
    this.watchTemplates(config);
    this.log.info({ file: this.file, reason: why, services: config.services.length }, 'config reloaded');
  }
}

/** --deny-template and every deny.template of the config (absolute paths, as loaded). */
function templatePaths(config: ServicesConfig, opts: LoadOptions): string[] {
  const paths = opts.denyTemplate === undefined ? [] : [resolve(opts.denyTemplate)];
  for (const svc of config.services) {
    if (svc.protocol === 'http' && svc.deny.kind === 'page' && svc.deny.templatePath !== undefined) paths.push(svc.deny.templatePath);
  }
  return paths;
}

/** What a reload compares: the config's text and the text of every template in force. */
function loadedText(config: ServicesConfig): string {
  const parts = [config.text];
  for (const svc of config.services) {
    if (svc.protocol === 'http' && svc.deny.kind === 'page') parts.push(svc.deny.template?.source ?? '');
  }
  return parts.join('\0');
}
