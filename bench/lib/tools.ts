// Process plumbing for the benchmark: tool discovery and installation, CPU pinning, per-process
// CPU and memory accounting from /proc. Linux only. HTTP clients, sleep, `until` and REPO_ROOT
// come from test/harness.
import { execFileSync, spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../../test/harness/repo-root';

export const STREAM_MODULE_CANDIDATES = [
  '/usr/lib/nginx/modules/ngx_stream_module.so',
  '/usr/share/nginx/modules/ngx_stream_module.so',
];

export type Log = (msg: string) => void;

export function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin').split(':').concat(['/usr/sbin', '/sbin'])) {
    const p = resolve(dir || '.', cmd);
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function streamModulePath(): string | undefined {
  return STREAM_MODULE_CANDIDATES.find((p) => existsSync(p));
}

export interface Tools {
  nginx: string;
  haproxy: string;
  wrk: string;
  taskset: string | undefined;
  streamModule: string;
}

function missingPackages(): string[] {
  const pkgs: string[] = [];
  if (!which('nginx')) pkgs.push('nginx-light');
  if (!streamModulePath()) pkgs.push('libnginx-mod-stream');
  if (!which('haproxy')) pkgs.push('haproxy');
  if (!which('wrk')) pkgs.push('wrk');
  if (!which('taskset')) pkgs.push('util-linux');
  return pkgs;
}

function aptInstall(pkgs: string[], log: Log): void {
  const run = (args: string[]): void => {
    execFileSync('apt-get', args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 600_000,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  };
  // Debian starts a package's service on install unless policy-rc.d says no; we run our own
  // nginx/haproxy instances with private configs, so keep the system ones stopped.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) writeFileSync(policy, '#!/bin/sh\nexit 101\n', { mode: 0o755 });
  try {
    try {
      log(`installing ${pkgs.join(' ')} (apt-get install)`);
      run(['install', '-y', '--no-install-recommends', ...pkgs]);
    } catch {
      log('apt-get install failed; running apt-get update and retrying');
      run(['update']);
      // nginx-light is not in every release; fall back to nginx.
      try {
        run(['install', '-y', '--no-install-recommends', ...pkgs]);
      } catch {
        run(['install', '-y', '--no-install-recommends', ...pkgs.map((p) => (p === 'nginx-light' ? 'nginx' : p))]);
      }
    }
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

/** Finds nginx (with the stream module), haproxy, wrk and taskset, installing what is missing when root. */
export function ensureTools(log: Log): Tools {
  const missing = missingPackages();
  if (missing.length > 0) {
    if (process.getuid?.() !== 0) throw new Error(`missing tools; install them: apt-get install ${missing.join(' ')}`);
    try {
      aptInstall(missing, log);
    } catch (err) {
      throw new Error(`could not install ${missing.join(' ')}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  const nginx = which('nginx');
  const haproxy = which('haproxy');
  const wrk = which('wrk');
  const streamModule = streamModulePath();
  if (!nginx || !haproxy || !wrk || !streamModule) {
    throw new Error(`still missing after install: ${missingPackages().join(' ')}`);
  }
  return { nginx, haproxy, wrk, taskset: which('taskset'), streamModule };
}

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

// ------------------------------------------------------------------------------------ machine

function firstLine(cmd: string, args: string[]): string {
  // Tools print versions to stdout or stderr, and some exit non-zero after doing so (wrk -v).
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], timeout: 10_000 });
  const text = `${r.stdout?.toString() ?? ''}\n${r.stderr?.toString() ?? ''}`.trim();
  return text.split('\n')[0] || 'unknown';
}

export interface MachineInfo {
  cpu_model: string;
  cpus: number;
  memory_gib: number;
  kernel: string;
  os: string;
  virtualization: string;
}

export function machineInfo(): MachineInfo {
  let os = 'unknown';
  try {
    const rel = readFileSync('/etc/os-release', 'utf8');
    os = /^PRETTY_NAME="?([^"\n]*)"?/m.exec(rel)?.[1] ?? os;
    const dv = readFileSync('/etc/debian_version', 'utf8').trim();
    if (dv) os += ` (debian_version ${dv})`;
  } catch {
    // not Debian
  }
  let virt = 'none';
  try {
    const lscpu = execFileSync('lscpu', [], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const hv = /^Hypervisor vendor:\s*(.+)$/m.exec(lscpu)?.[1];
    if (hv) virt = hv.trim();
  } catch {
    // no lscpu
  }
  return {
    cpu_model: cpus()[0]?.model ?? 'unknown',
    cpus: cpus().length,
    memory_gib: +(totalmem() / 2 ** 30).toFixed(1),
    kernel: firstLine('uname', ['-r']),
    os,
    virtualization: virt,
  };
}

export function toolVersions(tools: Tools): Record<string, string> {
  const git = (args: string[]): string => firstLine('git', ['-C', REPO_ROOT, ...args]);
  const dirty = ((): boolean => {
    try {
      return execFileSync('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() !== '';
    } catch {
      return false;
    }
  })();
  let pkgVersion = 'unknown';
  try {
    pkgVersion = (JSON.parse(readFileSync(resolve(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    // keep unknown
  }
  return {
    node: process.version,
    netbird_proxy: pkgVersion,
    git_commit: `${git(['rev-parse', '--short', 'HEAD'])}${dirty ? ' (dirty tree)' : ''}`,
    nginx: firstLine(tools.nginx, ['-v']).replace(/^nginx version: /, ''),
    haproxy: firstLine(tools.haproxy, ['-v']).replace(/ - https.*$/, ''),
    wrk: firstLine(tools.wrk, ['-v']).replace(/ \[.*$/, ''),
  };
}

// ------------------------------------------------------------------------------------ polling

/**
 * Turns an async probe into the synchronous predicate input test/harness `until` polls: each call
 * returns the latest settled value and starts a new probe when none is in flight and `everyMs`
 * have passed since the last one started (so a slow endpoint is not hammered every 10 ms).
 */
export function sampler<T>(probe: () => Promise<T>, everyMs: number): () => T | undefined {
  let latest: T | undefined;
  let inFlight = false;
  let startedAt = -Infinity;
  return () => {
    if (!inFlight && Date.now() - startedAt >= everyMs) {
      inFlight = true;
      startedAt = Date.now();
      probe().then(
        (v) => {
          latest = v;
        },
        () => undefined,
      ).finally(() => {
        inFlight = false;
      });
    }
    return latest;
  };
}

/** Rejects when `p` has not settled after `ms` (the harness HTTP client has no timeout of its own). */
export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

// ------------------------------------------------------------------------------------ stats

export function median(xs: number[]): number {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
