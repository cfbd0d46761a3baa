// Runs an in-process micro-benchmark (bench/micro/NAME.ts, compiled to .build/bench/micro/NAME.js)
// in its own Node process with --expose-gc, pinned to the server CPU, and parses its --json output.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { which } from '../lib/install';
import type { Pinning } from '../lib/tools';

export function runMicro<T>(name: string, args: string[], pin: Pinning): T {
  const script = join(__dirname, '..', 'micro', `${name}.js`);
  const nodeArgs = ['--expose-gc', script, '--json', ...args];
  const taskset = pin.server !== undefined ? which('taskset') : undefined;
  const [cmd, full] = taskset ? [taskset, ['-c', pin.server as string, process.execPath, ...nodeArgs]] : [process.execPath, nodeArgs];
  const out = execFileSync(cmd, full, { stdio: ['ignore', 'pipe', 'inherit'], timeout: 600_000, maxBuffer: 16 << 20 }).toString();
  return JSON.parse(out) as T;
}
