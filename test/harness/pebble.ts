/*
 * A real ACME server for tests: Debian's `pebble` (Let's Encrypt's test CA, 2.4.0 in bookworm) and
 * `pebble-challtestsrv` as its DNS server, both on 127.0.0.1 in a temp dir.
 *
 * Facts used here (Debian 2.4.0; scripts/install-test-deps.sh installs the package):
 *   - binaries /usr/bin/pebble and /usr/bin/pebble-challtestsrv; pebble -config <json> -dnsserver <host:port>.
 *   - config: {"pebble": {listenAddress, managementListenAddress, certificate, privateKey, httpPort,
 *     tlsPort, ocspResponderURL, externalAccountBindingRequired}}. The package ships no certificate
 *     for pebble's own HTTPS listener, so we make one (test/helpers/pki.ts); clients of the ACME API
 *     trust that CA (the proxy's --acme-ca-cert).
 *   - validation connects to the name's DNS answer on httpPort (http-01) / tlsPort (tls-alpn-01).
 *     challtestsrv answers every A query with -defaultIPv4 (127.0.0.1); -defaultIPv6 "" gives no
 *     AAAA answer so pebble never tries ::1. Its own challenge servers are disabled (empty flags).
 *   - issued certificates chain to a root generated at start, served by the management API at
 *     /roots/0 (HTTPS, same listener certificate). Pebble 2.4 issues 5-year certificates.
 *   - PEBBLE_VA_NOSLEEP=1 skips the random validation delay; PEBBLE_WFE_NONCEREJECT=0 stops the 5 %
 *     bad-nonce rejections; PEBBLE_AUTHZREUSE=0 makes every order validate afresh.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTestPki } from './pki';
import { freePort } from './ports';

export const PEBBLE_BIN = '/usr/bin/pebble';
export const CHALLTESTSRV_BIN = '/usr/bin/pebble-challtestsrv';

export interface StartPebbleOptions {
  /** Port pebble connects to for http-01 (the test's HTTP listener). */
  httpPort: number;
  /** Port pebble connects to for tls-alpn-01 (the test's HTTPS listener). */
  tlsPort: number;
  /** Lifetime of issued certificates (pebble's certificateValidityPeriod, seconds); default 5 years. */
  certValiditySeconds?: number;
  /** Extra environment for pebble, e.g. PEBBLE_VA_ALWAYS_VALID. */
  env?: Record<string, string>;
}

export interface Pebble {
  /** https://127.0.0.1:<port>/dir */
  directoryUrl: string;
  /** PEM file that signed pebble's own HTTPS listener: what --acme-ca-cert is given. */
  apiCaCertPath: string;
  /** Root that signs issued certificates (GET /roots/0 on the management API). */
  rootPem(): Promise<string>;
  /** Makes challtestsrv answer A queries for `host` with `ip` (its management API /add-a). */
  setDnsA(host: string, ip: string): Promise<void>;
  /** Everything pebble and challtestsrv printed so far. */
  output(): string;
  stop(): Promise<void>;
  /** Stops pebble only (the CA becomes unreachable); start() brings it back on the same ports with a new root. */
  stopCa(): Promise<void>;
  startCa(): Promise<void>;
}

/** Throws a clear error (never a skip) when the Debian package is missing. */
export function ensurePebble(): void {
  for (const bin of [PEBBLE_BIN, CHALLTESTSRV_BIN]) {
    if (!existsSync(bin)) throw new Error(`${bin} not found: run scripts/install-test-deps.sh (apt-get install -y pebble)`);
  }
}

function waitForPort(port: number, timeoutMs: number, what: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const s = connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > deadline) reject(new Error(`port ${port} not listening after ${timeoutMs} ms: ${what()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

function httpsGet(url: string, ca: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (child === undefined || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

export async function startPebble(opts: StartPebbleOptions): Promise<Pebble> {
  ensurePebble();
  const dir = await mkdtemp(join(tmpdir(), 'nbp-pebble-'));
  const pki = await makeTestPki(dir);
  const [acmePort, mgmtPort, dnsPort, challMgmtPort] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  const configPath = join(dir, 'pebble-config.json');
  await writeFile(
    configPath,
    JSON.stringify({
      pebble: {
        listenAddress: `127.0.0.1:${acmePort}`,
        managementListenAddress: `127.0.0.1:${mgmtPort}`,
        certificate: pki.serverCert,
        privateKey: pki.serverKey,
        httpPort: opts.httpPort,
        tlsPort: opts.tlsPort,
        ocspResponderURL: '',
        externalAccountBindingRequired: false,
        ...(opts.certValiditySeconds === undefined ? {} : { certificateValidityPeriod: opts.certValiditySeconds }),
      },
    }),
  );
  let out = '';
  const collect = (child: ChildProcess, tag: string): void => {
    const add = (b: Buffer): void => {
      out += b.toString('utf8').replace(/^/gm, `[${tag}] `);
      if (out.length > 200_000) out = out.slice(-100_000);
    };
    child.stdout?.on('data', add);
    child.stderr?.on('data', add);
  };

  const chall = spawn(
    CHALLTESTSRV_BIN,
    [
      '-dns01',
      `127.0.0.1:${dnsPort}`,
      '-http01',
      '',
      '-https01',
      '',
      '-tlsalpn01',
      '',
      '-management',
      `127.0.0.1:${challMgmtPort}`,
      '-defaultIPv4',
      '127.0.0.1',
      '-defaultIPv6',
      '',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  collect(chall, 'challtestsrv');
  const apiCa = readFileSync(pki.caCert, 'utf8');

  let pebble: ChildProcess | undefined;
  const startCa = async (): Promise<void> => {
    const child = spawn(PEBBLE_BIN, ['-config', configPath, '-dnsserver', `127.0.0.1:${dnsPort}`], {
      cwd: dir,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, PEBBLE_VA_NOSLEEP: '1', PEBBLE_WFE_NONCEREJECT: '0', PEBBLE_AUTHZREUSE: '0', ...opts.env },
    });
    pebble = child;
    collect(child, 'pebble');
    await waitForPort(acmePort, 15_000, () => out);
    await waitForPort(mgmtPort, 15_000, () => out);
  };

  try {
    await waitForPort(challMgmtPort, 15_000, () => out);
    await startCa();
  } catch (err) {
    await Promise.all([stopChild(chall), stopChild(pebble)]);
    throw err;
  }

  return {
    directoryUrl: `https://127.0.0.1:${acmePort}/dir`,
    apiCaCertPath: pki.caCert,
    async rootPem() {
      const r = await httpsGet(`https://127.0.0.1:${mgmtPort}/roots/0`, apiCa);
      if (r.status !== 200) throw new Error(`pebble /roots/0 answered ${r.status}: ${r.body}`);
      return r.body;
    },
    async setDnsA(host: string, ip: string) {
      const body = JSON.stringify({ host: host.endsWith('.') ? host : `${host}.`, addresses: [ip] });
      await new Promise<void>((resolve, reject) => {
        const req = httpRequest(
          { host: '127.0.0.1', port: challMgmtPort, path: '/add-a', method: 'POST', headers: { 'content-type': 'application/json' } },
          (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`challtestsrv /add-a answered ${res.statusCode ?? 0}`))));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    },
    output: () => out,
    stopCa: () => stopChild(pebble),
    startCa,
    async stop() {
      await Promise.all([stopChild(pebble), stopChild(chall)]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
