// What the results record about the machine and the tools: CPU, memory, OS, kernel, hypervisor,
// and the versions of Node, netbird-proxy (with the git commit), nginx, HAProxy and wrk.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { resolve } from 'node:path';
import { REPO_ROOT } from '../../test/harness/repo-root';
import type { Tools } from './install';

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
      return (
        execFileSync('git', ['-C', REPO_ROOT, 'status', '--porcelain', '--untracked-files=no'], { stdio: ['ignore', 'pipe', 'ignore'] })
          .toString()
          .trim() !== ''
      );
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
