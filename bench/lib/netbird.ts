// netbird-proxy daemons for the benchmark: bin/netbird-proxy in its own process (pinned to the
// server CPU), a private services.yaml, access log to a file, operational log to a file.
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet, until } from '../../test/harness/clients';
import { REPO_ROOT } from '../../test/harness/repo-root';
import { sampler, withTimeout } from './probe';
import { spawnPinned, stopChild } from './tools';
import { LAUNCHER_NODE_FLAGS } from '../../src/util/launcher';

export const NETBIRD_BIN = join(REPO_ROOT, 'bin', 'netbird-proxy');

export interface NetbirdStatus {
  crowdsec?: {
    state?: string;
    decisions?: { total?: number };
    initial_sync_ms?: number | null;
  };
}

export interface Netbird {
  readonly name: string;
  readonly pid: number;
  readonly httpPort: number;
  readonly adminPort: number;
  readonly dir: string;
  readonly child: ChildProcess;
  status(): Promise<NetbirdStatus>;
  stop(): Promise<void>;
}

export interface NetbirdOptions {
  name: string;
  dir: string;
  cpu: string | undefined;
  services: string;
  httpPort: number;
  adminPort: number;
  crowdsec?: { url: string; key: string; pollInterval?: string };
  nodeFlags?: string[];
  /**
   * false: without bin/netbird-proxy's own Node flags (src/util/launcher.ts), which every daemon
   * gets otherwise: started as `node bin/netbird-proxy`, the shebang line is not read.
   */
  launcherFlags?: boolean;
  /** More flags for the daemon (e.g. --https-addr). */
  args?: string[];
  /** How long /readyz may take (initial sync of a big decision set included). */
  readyTimeoutMs?: number;
  /** Another build's bin/netbird-proxy (--baseline): the same scenario on the code before a change. */
  bin?: string;
}

function tail(file: string, n = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-n).join('\n');
  } catch {
    return '(no log)';
  }
}

export async function startNetbird(o: NetbirdOptions): Promise<Netbird> {
  mkdirSync(o.dir, { recursive: true });
  const config = join(o.dir, 'services.yaml');
  writeFileSync(config, o.services);
  const logFile = join(o.dir, 'daemon.log');
  const args = [
    ...(o.launcherFlags === false ? [] : LAUNCHER_NODE_FLAGS),
    ...(o.nodeFlags ?? []),
    o.bin ?? NETBIRD_BIN,
    '--config',
    config,
    '--http-addr',
    `127.0.0.1:${o.httpPort}`,
    '--admin-addr',
    `127.0.0.1:${o.adminPort}`,
    '--env-file',
    '/dev/null',
    '--access-log',
    join(o.dir, 'access.log'),
    '--log-level',
    'info',
    '--shutdown-grace',
    '1s',
    ...(o.crowdsec
      ? ['--crowdsec-api-url', o.crowdsec.url, '--crowdsec-api-key', o.crowdsec.key, '--crowdsec-poll-interval', o.crowdsec.pollInterval ?? '10s']
      : []),
    ...(o.args ?? []),
  ];
  const fd = openSync(logFile, 'a');
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  const child = spawnPinned(o.cpu, process.execPath, args, { stdio: ['ignore', fd, fd], cwd: o.dir, env });
  closeSync(fd);
  const adminUrl = `http://127.0.0.1:${o.adminPort}`;
  const stop = (): Promise<void> => stopChild(child, 5000);
  try {
    const readyz = sampler(() => withTimeout(httpGet(`${adminUrl}/readyz`), 2000, 'GET /readyz'), 100);
    await until(
      `${o.name} /readyz`,
      () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${o.name} exited (${child.signalCode ?? child.exitCode}): ${tail(logFile)}`);
        }
        return readyz()?.status === 200;
      },
      o.readyTimeoutMs ?? 15_000,
    );
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n--- ${o.name} log:\n${tail(logFile)}`);
  }
  return {
    name: o.name,
    pid: child.pid as number,
    httpPort: o.httpPort,
    adminPort: o.adminPort,
    dir: o.dir,
    child,
    async status() {
      const r = await withTimeout(httpGet(`${adminUrl}/status`), 5000, 'GET /status');
      return JSON.parse(r.body) as NetbirdStatus;
    },
    stop,
  };
}

/** Host of the extra CrowdSec-off http service that servicesYaml({ offTwin: true }) adds. */
export const OFF_TWIN_HOST = 'off.bench.local';

/**
 * services.yaml: http service "web" on Host bench.local; with offTwin, a second http service
 * "web-off" (Host off.bench.local, CrowdSec off, same upstream) in the same process, so enforce
 * and off can be compared without process-to-process variation; tcp services by name.
 */
export function servicesYaml(o: {
  httpUpstream: number;
  crowdsec: 'off' | 'enforce';
  offTwin?: boolean;
  tcp?: Record<string, { listen: number; target: number }>;
}): string {
  const lines = [
    'services:',
    '  - name: web',
    '    protocol: http',
    '    domains: [bench.local]',
    `    target: http://127.0.0.1:${o.httpUpstream}`,
    `    access: { crowdsec: ${o.crowdsec} }`,
  ];
  if (o.offTwin) {
    lines.push(
      '  - name: web-off',
      '    protocol: http',
      `    domains: [${OFF_TWIN_HOST}]`,
      `    target: http://127.0.0.1:${o.httpUpstream}`,
      '    access: { crowdsec: off }',
    );
  }
  for (const [name, t] of Object.entries(o.tcp ?? {})) {
    lines.push(`  - name: ${name}`, '    protocol: tcp', `    listen: 127.0.0.1:${t.listen}`, `    target: 127.0.0.1:${t.target}`);
  }
  return `${lines.join('\n')}\n`;
}
