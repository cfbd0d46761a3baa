// What `status` and `healthcheck` share: where the admin listener is, and a bounded GET to it.
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { parse as parseDotenv } from 'dotenv';
import { formatHostPort, parseHostPort } from '../config/addr';
import type { HostPort } from '../config/types';
import { DEFAULT_ENV_FILE, SETTINGS } from '../settings/options';

export class AdminClientError extends Error {}

const ADMIN_SPEC = SETTINGS.find((s) => s.key === 'adminAddr');
const ADMIN_ENV = ADMIN_SPEC?.env ?? 'NB_PROXY_ADMIN_ADDR';
const ADMIN_DEFAULT = ADMIN_SPEC?.default ?? '127.0.0.1:9090';

/** The env file the daemon would read (--proxy-env, else ./proxy.env when it exists) and its variables. */
export interface AdminEnvFile {
  file: string | undefined;
  vars: Record<string, string>;
}

export function readAdminEnvFile(flag: string | undefined): AdminEnvFile {
  const file = flag ?? (existsSync(DEFAULT_ENV_FILE) ? DEFAULT_ENV_FILE : undefined);
  if (file === undefined) return { file, vars: {} };
  try {
    return { file, vars: parseDotenv(readFileSync(file)) };
  } catch (err) {
    throw new AdminClientError(`env file ${file} (--proxy-env): cannot read it (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
}

/**
 * The admin address as the daemon would resolve it (flag > environment > env file > default),
 * with a wildcard host replaced by loopback: the listener then answers there too.
 */
export function resolveAdminAddr(
  flag: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  envFile: AdminEnvFile = readAdminEnvFile(undefined),
): HostPort {
  let value = flag;
  let from = '--admin-addr';
  if (value === undefined && env[ADMIN_ENV]) {
    value = env[ADMIN_ENV];
    from = ADMIN_ENV;
  }
  const fromFile = envFile.vars[ADMIN_ENV];
  if (value === undefined && fromFile) {
    value = fromFile;
    from = `${ADMIN_ENV} in ${envFile.file ?? DEFAULT_ENV_FILE}`;
  }
  if (value === undefined) {
    value = ADMIN_DEFAULT;
    from = 'default';
  }
  const hp = parseHostPort(value);
  if (!hp) throw new AdminClientError(`${from}: "${value}" is not host:port`);
  if (hp.host === '0.0.0.0' || hp.host === '') return { host: '127.0.0.1', port: hp.port };
  if (hp.host === '::') return { host: '::1', port: hp.port };
  return hp;
}

export function adminUrl(addr: HostPort, path = ''): string {
  return `http://${formatHostPort(addr)}${path}`;
}

export interface AdminResponse {
  status: number;
  body: string;
}

/** GET path on the admin listener; rejects with a one-line AdminClientError when it cannot be reached. */
export function adminGet(addr: HostPort, path: string, timeoutMs: number, token?: string): Promise<AdminResponse> {
  return new Promise((resolve, reject) => {
    const fail = (why: string): void => {
      reject(
        new AdminClientError(`cannot reach the admin listener at ${adminUrl(addr, path)} (${why}); is netbird-proxy running? Set --admin-addr or ${ADMIN_ENV}`),
      );
    };
    const req = http.get(
      {
        host: addr.host,
        port: addr.port,
        path,
        agent: false,
        headers: { accept: 'application/json, text/plain', ...(token === undefined ? {} : { authorization: `Bearer ${token}` }) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', (err) => fail(err.message));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (err: NodeJS.ErrnoException) => fail(err.code ?? err.message));
  });
}
