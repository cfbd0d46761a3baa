// A lock across processes on this machine, for tests that must use fixed ports (the README's
// quick start binds 8080, 9090, 2222 and expects its upstream on 3000): a second copy of the
// suite waits instead of failing. A lock left by a dead process is taken over.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquireMachineLock(name: string, timeoutMs: number): Promise<() => void> {
  const dir = join(tmpdir(), `netbird-proxy-test-${name}.lock`);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(dir);
      writeFileSync(join(dir, 'pid'), String(process.pid));
      return () => rmSync(dir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(join(dir, 'pid'), 'utf8'));
    } catch {
      // Being created or removed right now.
    }
    if (Number.isInteger(owner) && owner > 0 && !alive(owner)) rmSync(dir, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`lock ${dir} still held (pid ${owner}) after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
