// --cert-dir layout, shared safely by several instances:
//
//   <cert-dir>/<ca>/account.key             ACME account key (0600)
//   <cert-dir>/<ca>/certs/<domain>.crt      chain, leaf first (0600)
//   <cert-dir>/<ca>/certs/<domain>.key      its key (0600)
//   <cert-dir>/<ca>/locks/<name>.lock       held while one instance registers or orders
//   <cert-dir>/<ca>/challenges/<token>      http-01 key authorizations, readable by every instance
//   <cert-dir>/<ca>/challenges/<domain>.alpn  tls-alpn-01 certificate + key, likewise
//
// <ca> is the directory URL's host plus a short hash, so staging and production never mix.
// Files are written to a temp name and renamed, so a reader sees the old or the new file, never half.
import { createHash, randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { mkdir, open, readFile, rename, rm, stat, unlink, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A lock older than this is taken over: its holder died mid-order (orders take seconds). */
const STALE_LOCK_MS = 10 * 60 * 1000;

export class CertDir {
  readonly root: string;

  constructor(certDir: string, directoryUrl: string) {
    let host = 'acme';
    try {
      host = new URL(directoryUrl).host.replace(/[^A-Za-z0-9.-]/g, '_');
    } catch {
      // settings validated the URL; keep the fallback name
    }
    const hash = createHash('sha256').update(directoryUrl).digest('hex').slice(0, 8);
    this.root = join(certDir, `${host}-${hash}`);
  }

  async init(): Promise<void> {
    for (const sub of ['', 'certs', 'locks', 'challenges']) await mkdir(join(this.root, sub), { recursive: true, mode: 0o700 });
  }

  accountKeyPath(): string {
    return join(this.root, 'account.key');
  }

  certPath(domain: string): string {
    return join(this.root, 'certs', `${domain}.crt`);
  }

  keyPath(domain: string): string {
    return join(this.root, 'certs', `${domain}.key`);
  }

  /** Writes a 0600 file atomically (temp file + rename). */
  async writePrivate(path: string, data: string | Buffer): Promise<void> {
    const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
    await writeFile(tmp, data, { mode: 0o600 });
    await rename(tmp, path);
  }

  async readIfExists(path: string): Promise<string | undefined> {
    try {
      return await readFile(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** The certificate and key of a domain as stored, when both exist. */
  async readCert(domain: string): Promise<{ certPem: string; keyPem: string } | undefined> {
    const [certPem, keyPem] = await Promise.all([this.readIfExists(this.certPath(domain)), this.readIfExists(this.keyPath(domain))]);
    return certPem === undefined || keyPem === undefined ? undefined : { certPem, keyPem };
  }

  /** Key first: a reader that sees the new certificate always finds its key. */
  async writeCert(domain: string, certPem: string, keyPem: string): Promise<void> {
    await this.writePrivate(this.keyPath(domain), keyPem);
    await this.writePrivate(this.certPath(domain), certPem);
  }

  /**
   * Takes the named lock, or returns undefined when another live holder has it. The release
   * function removes it. O_EXCL creation is atomic on local filesystems and NFSv3+.
   */
  async tryLock(name: string): Promise<(() => Promise<void>) | undefined> {
    const path = join(this.root, 'locks', `${name}.lock`);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fh = await open(path, 'wx', 0o600);
        await fh.writeFile(JSON.stringify({ pid: process.pid, host: hostname(), at: new Date().toISOString() }));
        await fh.close();
        return async () => {
          await rm(path, { force: true });
        };
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
        const st = await stat(path).catch(() => undefined);
        if (st !== undefined && Date.now() - st.mtimeMs < STALE_LOCK_MS) return undefined;
        await unlink(path).catch(() => undefined);
      }
    }
    return undefined;
  }

  private challengePath(name: string): string {
    return join(this.root, 'challenges', name);
  }

  async writeChallenge(name: string, data: string): Promise<void> {
    await this.writePrivate(this.challengePath(name), data);
  }

  async removeChallenge(name: string): Promise<void> {
    await rm(this.challengePath(name), { force: true });
  }

  /** Synchronous: called while answering a validation request that another instance may have set up. */
  readChallengeSync(name: string): string | undefined {
    try {
      return readFileSync(this.challengePath(name), 'utf8');
    } catch {
      return undefined;
    }
  }
}
