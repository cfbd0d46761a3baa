// Process plumbing for the benchmark: CPU pinning, child processes, per-process CPU and memory
// accounting from /proc, pausing process trees. Linux only. HTTP clients, sleep, `until` and
// REPO_ROOT come from test/harness; tool installation is lib/install.ts.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { which } from './install';

// ------------------------------------------------------------------------------------ pinning

/** CPU sets for the server under test and for everything else (load generators, upstreams,
 * the runner); `undefined` = no pinning.
 *   strict: server on CPU 0 alone, the rest on the other CPUs;
 *   server: server on CPU 0, the rest unpinned (may use CPU 0's spare time too);
 *   none:   nothing pinned. */
export type PinMode = 'strict' | 'server' | 'none';

export interface Pinning {
  mode: PinMode;
  server: string | undefined;
  load: string | undefined;
}

export function choosePinning(mode: PinMode, taskset: string | undefined): Pinning {
  const n = cpus().length;
  if (mode === 'none' || !taskset || n < 2) return { mode: 'none', server: undefined, load: undefined };
  if (mode === 'server') return { mode, server: '0', load: undefined };
  return { mode, server: '0', load: n === 2 ? '1' : `1-${n - 1}` };
}

/** Pins this process (all threads) to a CPU set; children inherit it. */
export function pinSelf(cpu: string | undefined, taskset: string | undefined): void {
  if (cpu === undefined || !taskset) return;
  execFileSync(taskset, ['-a', '-p', '-c', cpu, String(process.pid)], { stdio: 'ignore' });
}

/** spawn() through `taskset -c CPU` (taskset execs, so the pid is the program's). */
export function spawnPinned(cpu: string | undefined, cmd: string, args: string[], opts: SpawnOptions = {}): ChildProcess {
  const taskset = cpu !== undefined ? which('taskset') : undefined;
  const child = taskset ? spawn(taskset, ['-c', cpu as string, cmd, ...args], opts) : spawn(cmd, args, opts);
  trackChild(child);
  return child;
}

const children = new Set<ChildProcess>();
let exitHook = false;
export function trackChild(child: ChildProcess): void {
  if (!exitHook) {
    exitHook = true;
    process.on('exit', () => {
      for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    });
  }
  children.add(child);
  child.once('exit', () => children.delete(child));
}

/** SIGTERM (or `signal`), then SIGKILL after graceMs; resolves when the child has exited. */
export function stopChild(child: ChildProcess, graceMs = 5000, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((res) => {
    const t = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', () => {
      clearTimeout(t);
      res();
    });
    child.kill('SIGCONT'); // in case it was paused for someone else's measurement
    child.kill(signal);
  });
}

// ------------------------------------------------------------------------------------ /proc

const CLK_TCK = ((): number => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

function statFields(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // comm may contain spaces; fields after the closing paren start at field 3 (state).
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** The pid and all its descendants (from /proc/<pid>/task/<tid>/children when available). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  const stack = [pid];
  while (stack.length > 0 && out.length < 1000) {
    const p = stack.pop() as number;
    out.push(p);
    let tids: string[] = [];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const tid of tids) {
      try {
        const kids = readFileSync(`/proc/${p}/task/${tid}/children`, 'utf8').trim();
        if (kids) for (const k of kids.split(' ')) stack.push(Number(k));
      } catch {
        // thread gone
      }
    }
  }
  return out;
}

/** CPU seconds (user+system) used so far by the pids (each already includes its threads). */
export function cpuSeconds(pids: number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const f = statFields(pid);
    // after "state": ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime
    if (f) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

export interface CpuProbe {
  /** Fraction of one core used by each named process tree since start(). */
  stop(): Record<string, number>;
}

/** Samples CPU time of named process trees (resolved now) between start and stop. */
export function startCpuProbe(trees: Record<string, number | undefined>): CpuProbe {
  const pids: Record<string, number[]> = {};
  const before: Record<string, number> = {};
  for (const [name, pid] of Object.entries(trees)) {
    if (pid === undefined) continue;
    pids[name] = processTree(pid);
    before[name] = cpuSeconds(pids[name]);
  }
  const t0 = process.hrtime.bigint();
  return {
    stop() {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const out: Record<string, number> = {};
      for (const [name, ps] of Object.entries(pids)) out[name] = +((cpuSeconds(ps) - before[name]) / secs).toFixed(3);
      return out;
    },
  };
}

/** SIGSTOPs process trees (servers not under test, so their background work cannot steal the
 * measured core); resume() SIGCONTs them. */
export function pauseTrees(pids: number[]): { resume(): void } {
  const all = pids.flatMap((p) => processTree(p));
  for (const p of all) {
    try {
      process.kill(p, 'SIGSTOP');
    } catch {
      // gone
    }
  }
  return {
    resume() {
      for (const p of all) {
        try {
          process.kill(p, 'SIGCONT');
        } catch {
          // gone
        }
      }
    },
  };
}

/** CPU ticks per pid for every user-space process on the machine (kernel threads excluded). */
function allProcessTicks(): Map<number, number> {
  const out = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const pid = Number(name);
    const f = statFields(pid);
    // field 4 (ppid) is f[1]; kernel threads are kthreadd (2) and its children.
    if (!f || pid === 2 || f[1] === '2') continue;
    out.set(pid, Number(f[11]) + Number(f[12]));
  }
  return out;
}

export interface ForeignProbe {
  /** Cores' worth of CPU used since start() by processes outside this process's tree. */
  stop(): number;
}

/** Measures CPU used by everything that is not this runner or its descendants (other people's
 * work on a shared machine), to detect and repeat disturbed measurements. */
export function startForeignProbe(): ForeignProbe {
  const before = allProcessTicks();
  const t0 = process.hrtime.bigint();
  return {
    stop() {
      const secs = Number(process.hrtime.bigint() - t0) / 1e9;
      const mine = new Set(processTree(process.pid));
      const after = allProcessTicks();
      let ticks = 0;
      for (const [pid, t] of after) {
        if (mine.has(pid)) continue;
        ticks += t - (before.get(pid) ?? 0);
      }
      return +(ticks / CLK_TCK / secs).toFixed(3);
    },
  };
}

/** VmRSS and VmHWM (peak) of a process in MB. */
export function memoryOf(pid: number): { rss_mb: number; peak_rss_mb: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k: string): number => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(s)?.[1] ?? NaN);
    return { rss_mb: +(kb('VmRSS') / 1024).toFixed(1), peak_rss_mb: +(kb('VmHWM') / 1024).toFixed(1) };
  } catch {
    return undefined;
  }
}
