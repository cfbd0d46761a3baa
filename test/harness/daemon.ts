// Starts the real bin/netbird-proxy as a child process with a temporary services.yaml and
// collects its JSON log lines, so end-to-end tests can wait for and assert on them.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports';
import { REPO_ROOT } from './repo-root';

export { REPO_ROOT };
export const BIN = join(REPO_ROOT, 'bin', 'netbird-proxy');

export type LogLine = Record<string, unknown> & { msg?: string };

export interface StartDaemonOptions {
  /** services.yaml text. */
  config: string;
  args?: string[];
  env?: Record<string, string>;
  /** Wait for the "netbird-proxy listening" line (default true). */
  waitReady?: boolean;
  /** Listen on this HTTP host (default 127.0.0.1). */
  httpHost?: string;
}

export interface Daemon {
  readonly child: ChildProcess;
  readonly httpPort: number;
  readonly adminPort: number;
  readonly httpUrl: string;
  readonly adminUrl: string;
  readonly dir: string;
  readonly configPath: string;
  readonly lines: LogLine[];
  /** Everything written to stdout and stderr, raw. */
  output(): string;
  /** Resolves with the first line (already seen or future) that matches; rejects after timeoutMs. */
  waitFor(match: (line: LogLine) => boolean, timeoutMs?: number, what?: string): Promise<LogLine>;
  /** Access entries seen so far. */
  access(): LogLine[];
  writeConfig(text: string): void;
  signal(sig: NodeJS.Signals): void;
  /** SIGTERM and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

/**
 * Starts the daemon on fresh ports. Should another process take one of them between freePort and
 * the daemon's bind (it then exits 2 naming the address), it starts again on new ports.
 */
export async function startDaemon(opts: StartDaemonOptions): Promise<Daemon> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startDaemonOnce(opts);
    } catch (err) {
      if (attempt >= 3 || !(err instanceof PortTakenError)) throw err;
    }
  }
}

class PortTakenError extends Error {}

async function startDaemonOnce(opts: StartDaemonOptions): Promise<Daemon> {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-e2e-'));
  const configPath = join(dir, 'services.yaml');
  writeFileSync(configPath, opts.config);
  const httpPort = await freePort();
  const adminPort = await freePort();
  const httpHost = opts.httpHost ?? '127.0.0.1';
  const args = [
    '--config',
    configPath,
    '--http-addr',
    `${httpHost.includes(':') ? `[${httpHost}]` : httpHost}:${httpPort}`,
    '--admin-addr',
    `127.0.0.1:${adminPort}`,
    '--proxy-env',
    '/dev/null',
    '--shutdown-grace',
    '2s',
    ...(opts.args ?? []),
  ];
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, ...opts.env };
  const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: LogLine[] = [];
  let raw = '';
  const waiters: Array<{ match: (l: LogLine) => boolean; resolve: (l: LogLine) => void }> = [];
  let pending = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    raw += chunk;
    pending += chunk;
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const text = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      let line: LogLine;
      try {
        line = JSON.parse(text) as LogLine;
      } catch {
        continue;
      }
      lines.push(line);
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].match(line)) {
          waiters[i].resolve(line);
          waiters.splice(i, 1);
        }
      }
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    raw += chunk;
  });
  const exited = new Promise<number | null>((res) => child.once('exit', (code) => res(code)));
  process.once('exit', () => child.kill('SIGKILL'));

  const daemon: Daemon = {
    child,
    httpPort,
    adminPort,
    httpUrl: `http://127.0.0.1:${httpPort}`,
    adminUrl: `http://127.0.0.1:${adminPort}`,
    dir,
    configPath,
    lines,
    output: () => raw,
    waitFor(match, timeoutMs = 10_000, what = 'log line') {
      const seen = lines.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolvePromise, reject) => {
        const timer = setTimeout(() => {
          const i = waiters.findIndex((w) => w.resolve === done);
          if (i >= 0) waiters.splice(i, 1);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; output so far:\n${raw.slice(-4000)}`));
        }, timeoutMs);
        const done = (l: LogLine): void => {
          clearTimeout(timer);
          resolvePromise(l);
        };
        waiters.push({ match, resolve: done });
        void exited.then((code) => {
          if (waiters.some((w) => w.resolve === done)) {
            clearTimeout(timer);
            reject(new Error(`netbird-proxy exited (${code}) while waiting for ${what}; output:\n${raw.slice(-4000)}`));
          }
        });
      });
    },
    access: () => lines.filter((l) => l.msg === 'access'),
    writeConfig(text) {
      writeFileSync(configPath, text);
    },
    signal(sig) {
      child.kill(sig);
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const code = await exited;
      rmSync(dir, { recursive: true, force: true });
      return code;
    },
    exited,
  };
  if (opts.waitReady !== false) {
    try {
      await daemon.waitFor((l) => l.msg === 'netbird-proxy listening', 60_000, 'netbird-proxy listening');
    } catch (err) {
      const taken = new RegExp(`^netbird-proxy: --(http|admin)-addr 127\\.0\\.0\\.1:(${httpPort}|${adminPort}): address already in use`, 'm');
      if (child.exitCode === 2 && taken.test(raw)) {
        rmSync(dir, { recursive: true, force: true });
        throw new PortTakenError((err as Error).message);
      }
      throw err;
    }
  }
  return daemon;
}

/**
 * Runs the binary to completion (for start-up errors); resolves with exit code and output. A run
 * that wrongly starts serving is killed after `timeoutMs` (code null, signal in stderr).
 */
export function runBinary(
  args: string[],
  env: Record<string, string> = {},
  timeoutMs = 30_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolvePromise) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr: signal === 'SIGKILL' ? `${stderr}[killed after ${timeoutMs} ms: it did not exit]` : stderr });
    });
  });
}
