// `netbird-proxy healthcheck`: the image's HEALTHCHECK. Exit 0 when the admin listener answers
// 200 on /healthz (the process is up and serving), 1 otherwise. --ready asks /readyz instead
// (also 503 while an enforce service waits for its first CrowdSec sync).
import { type Command, Option } from 'commander';
import { parseGoDuration } from '../util/duration';
import { AdminClientError, adminGet, adminUrl, resolveAdminAddr } from './admin-client';

interface HealthcheckOptions {
  adminAddr?: string;
  ready?: boolean;
  timeout: string;
}

export function registerHealthcheckCommand(program: Command): void {
  program
    .command('healthcheck')
    .description('exit 0 when the running proxy answers 200 on /healthz (or /readyz with --ready), 1 otherwise')
    .addOption(new Option('--admin-addr <host:port>', 'admin listener (env: NB_PROXY_ADMIN_ADDR, default: 127.0.0.1:9090; 0.0.0.0 is probed on 127.0.0.1)'))
    .option('--ready', 'probe /readyz instead of /healthz')
    .option('--timeout <duration>', 'give up after this long', '3s')
    .action(async (opts: HealthcheckOptions) => {
      process.exitCode = await healthcheck(opts);
    });
}

async function healthcheck(opts: HealthcheckOptions): Promise<number> {
  const path = opts.ready ? '/readyz' : '/healthz';
  let timeoutMs: number;
  try {
    timeoutMs = parseGoDuration(opts.timeout);
  } catch {
    process.stderr.write(`netbird-proxy healthcheck: --timeout "${opts.timeout}" is not a duration such as 500ms or 3s\n`);
    return 2;
  }
  try {
    const addr = resolveAdminAddr(opts.adminAddr);
    const res = await adminGet(addr, path, timeoutMs);
    const line = `${adminUrl(addr, path)}: ${res.status} ${res.body.trim()}`;
    if (res.status === 200) {
      process.stdout.write(`healthy: ${line}\n`);
      return 0;
    }
    process.stderr.write(`unhealthy: ${line}\n`);
    return 1;
  } catch (err) {
    if (!(err instanceof AdminClientError)) throw err;
    process.stderr.write(`unhealthy: ${err.message}\n`);
    return 1;
  }
}
