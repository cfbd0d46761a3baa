// The key sessions are signed with: NB_PROXY_SESSION_SECRET, else --session-secret-file, else
// `session-secret` in --cert-dir, created (0600) at the first start that needs it. Created through
// a link, so that instances and workers starting together agree on one file. Never logged.
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const MIN_SECRET_CHARS = 32;

export interface SessionSecretSource {
  secret: string | undefined;
  secretFile: string | undefined;
  certDir: string;
}

function checked(text: string, where: string): Buffer {
  const s = text.trim();
  if (s.length < MIN_SECRET_CHARS) throw new Error(`${where}: the session secret must be at least ${MIN_SECRET_CHARS} characters (e.g. openssl rand -hex 32)`);
  return Buffer.from(s, 'utf8');
}

function readSecretFile(path: string, where: string): Buffer {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`${where} ${path}: cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
  return checked(text, `${where} ${path}`);
}

/** Throws an Error naming the setting or file when the secret cannot be had. */
export function loadSessionSecret(src: SessionSecretSource): Buffer {
  if (src.secret !== undefined) return checked(src.secret, '--session-secret / NB_PROXY_SESSION_SECRET');
  if (src.secretFile !== undefined) return readSecretFile(src.secretFile, '--session-secret-file');
  const path = join(src.certDir, 'session-secret');
  const where = '--cert-dir';
  try {
    return checked(readFileSync(path, 'utf8'), `${where} ${path}`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}`;
  try {
    mkdirSync(src.certDir, { recursive: true, mode: 0o700 });
    writeFileSync(tmp, `${randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(tmp, path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new Error(`${where} ${src.certDir}: cannot create the session secret (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, {
        cause: err,
      });
    }
  } finally {
    try {
      unlinkSync(tmp);
    } catch {
      // Not created.
    }
  }
  return readSecretFile(path, where);
}
