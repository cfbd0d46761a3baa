// A service's certificate from files (tls: { cert, key }), watched and reloaded on change. A bad or
// mismatched replacement is refused: the previous pair keeps serving and the error is logged and
// kept for /status, the same rule as services.yaml.
import { watch, type FSWatcher } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import type { Logger } from 'pino';
import { parseCertPair, type CertPair } from './pem';

export interface StaticCertOptions {
  service: string;
  certPath: string;
  keyPath: string;
  /** Files are also polled this often (ms): inotify misses changes on some mounts. */
  pollMs: number;
  log: Logger;
  onChange(pair: CertPair): void;
}

/** Why a pair cannot be used, naming the file at fault: "<path>: <reason>". */
export async function loadCertFiles(certPath: string, keyPath: string): Promise<CertPair> {
  const read = async (path: string): Promise<string> => {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      throw new Error(`${path}: cannot read${e.code === undefined ? '' : ` (${e.code})`}`);
    }
  };
  const [certPem, keyPem] = await Promise.all([read(certPath), read(keyPath)]);
  try {
    return parseCertPair(certPem, keyPem);
  } catch (err) {
    const reason = (err as Error).message;
    const file = reason.startsWith('the private key cannot') ? keyPath : certPath;
    throw new Error(`${file}: ${reason}`);
  }
}

export class StaticCert {
  private current: CertPair;
  private lastError: string | undefined;
  private lastErrorAt: Date | undefined;
  private readonly watchers: FSWatcher[] = [];
  private pollTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private signature = '';
  private reloading = false;
  private closed = false;

  private constructor(
    private readonly opts: StaticCertOptions,
    pair: CertPair,
  ) {
    this.current = pair;
  }

  /** Loads the pair (throws "<path>: <reason>") and starts watching it. */
  static async open(opts: StaticCertOptions): Promise<StaticCert> {
    const pair = await loadCertFiles(opts.certPath, opts.keyPath);
    const sc = new StaticCert(opts, pair);
    sc.signature = await sc.fileSignature();
    sc.watch();
    return sc;
  }

  get pair(): CertPair {
    return this.current;
  }

  get error(): { message: string; at: Date } | undefined {
    return this.lastError === undefined || this.lastErrorAt === undefined ? undefined : { message: this.lastError, at: this.lastErrorAt };
  }

  close(): void {
    this.closed = true;
    for (const w of this.watchers) w.close();
    if (this.pollTimer !== undefined) clearTimeout(this.pollTimer);
    if (this.debounce !== undefined) clearTimeout(this.debounce);
  }

  private watch(): void {
    // Watch the directories, not the files: editors, certbot and Kubernetes replace files by rename.
    const dirs = new Set([dirname(this.opts.certPath), dirname(this.opts.keyPath)]);
    const names = new Set([basename(this.opts.certPath), basename(this.opts.keyPath)]);
    for (const dir of dirs) {
      try {
        const w = watch(dir, { persistent: false }, (_event, file) => {
          if (file === null || names.has(file.toString()) || file.toString().startsWith('..')) this.soon();
        });
        w.on('error', () => w.close());
        this.watchers.push(w);
      } catch (err) {
        this.opts.log.warn({ service: this.opts.service, dir, err: (err as Error).message }, 'cannot watch the certificate directory; polling only');
      }
    }
    const poll = (): void => {
      this.pollTimer = setTimeout(() => {
        void this.reloadIfChanged().finally(() => {
          if (!this.closed) poll();
        });
      }, this.opts.pollMs);
      this.pollTimer.unref();
    };
    poll();
  }

  /** Waits for a burst of events to settle: cert and key are usually written one after the other. */
  private soon(): void {
    if (this.closed) return;
    if (this.debounce !== undefined) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reloadIfChanged(), 150);
    this.debounce.unref();
  }

  private async fileSignature(): Promise<string> {
    const parts = await Promise.all(
      [this.opts.certPath, this.opts.keyPath].map(async (p) => {
        const st = await stat(p).catch(() => undefined);
        return st === undefined ? 'missing' : `${st.ino}:${st.size}:${st.mtimeMs}`;
      }),
    );
    return parts.join('|');
  }

  private async reloadIfChanged(): Promise<void> {
    if (this.closed || this.reloading) return;
    this.reloading = true;
    try {
      const sig = await this.fileSignature();
      if (sig === this.signature) return;
      this.signature = sig;
      let pair: CertPair;
      try {
        pair = await loadCertFiles(this.opts.certPath, this.opts.keyPath);
      } catch (err) {
        this.lastError = (err as Error).message;
        this.lastErrorAt = new Date();
        this.opts.log.error(
          { service: this.opts.service, err: this.lastError, serving: this.current.info.serial },
          'certificate files changed but cannot be used; keeping the previous certificate',
        );
        return;
      }
      if (pair.certPem === this.current.certPem && pair.keyPem === this.current.keyPem) return;
      this.current = pair;
      this.lastError = undefined;
      this.lastErrorAt = undefined;
      this.opts.log.info({ service: this.opts.service, names: pair.info.names, notAfter: pair.info.notAfter.toISOString() }, 'certificate files reloaded');
      this.opts.onChange(pair);
    } finally {
      this.reloading = false;
    }
  }
}
