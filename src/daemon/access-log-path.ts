// Checks --access-log before serving: its directory must exist and be writable (no silent mkdir),
// and an existing file must be writable. Returns the reason, or undefined when it looks usable.
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

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
  try {
    accessSync(fileStat === undefined ? dir : file, constants.W_OK);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'EACCES';
    const what = fileStat === undefined ? `directory ${dir}` : `file ${file}`;
    return `${what} is not writable (${code}): fix its owner or mode, or choose another path`;
  }
  return undefined;
}
