// Finds nginx (with the stream module), HAProxy, wrk and taskset; installs the missing Debian
// packages with apt-get when run as root, keeping the system services stopped.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

export const STREAM_MODULE_CANDIDATES = ['/usr/lib/nginx/modules/ngx_stream_module.so', '/usr/share/nginx/modules/ngx_stream_module.so'];

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
