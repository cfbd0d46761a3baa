// Checks --access-log before serving: its directory must exist and be writable (no silent mkdir),
// and an existing file must be writable. Returns the reason, or undefined when it looks usable.
import { closeSync, openSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

export function accessLogProblem(path: string): string | undefined {
  const file = resolve(path);
  const dir = dirname(file);
  let dirStat;
  try {
    dirStat = statSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return `directory ${dir} does not exist: create it (mkdir -p ${dir}) or choose another path`;
    return `directory ${dir} cannot be used (${code ?? (err as Error).message})`;
  }
  if (!dirStat.isDirectory()) return `${dir} is not a directory`;
  let fileStat;
  try {
    fileStat = statSync(file);
  } catch {
    fileStat = undefined;
  }
  if (fileStat?.isDirectory() === true) return `${file} is a directory: name a file in it`;
  // Permission bits say little for root (and nothing for read-only or virtual file systems): try
  // it. An existing file is opened for appending (nothing written); else a probe file is created
  // and removed, so that `validate` leaves no trace either.
  const probe = fileStat === undefined ? join(dir, `.netbird-proxy-probe-${process.pid}`) : file;
  try {
    closeSync(openSync(probe, fileStat === undefined ? 'wx' : 'a'));
    if (fileStat === undefined) rmSync(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EACCES';
    const what = fileStat === undefined ? `directory ${dir}` : `file ${file}`;
    return `${what} is not writable (${code}): fix its owner or mode, or choose another path`;
  }
  return undefined;
}
