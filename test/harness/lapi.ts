/*
 * A real CrowdSec Local API (Debian's crowdsec 1.4.6, unpacked by scripts/fetch-crowdsec.sh into
 * .cache/crowdsec) in a temp dir, for tests. Started as `crowdsec -c cfg -no-cs` (LAPI only, no agent).
 *
 * Bouncer API as observed from 1.4.6 (GET /v1/decisions/stream, header X-Api-Key):
 *   - bad or missing key: 403 {"message":"access forbidden"}
 *   - body is always {"deleted": [...]|null, "new": [...]|null}; an empty list is null, never [].
 *     startup=true on an empty db: {"deleted":null,"new":null}.
 *   - decision: {"duration":"4m59.598515923s","id":1,"origin":"cscli","scenario":"x","scope":"Ip",
 *     "type":"ban","value":"127.0.0.2"}; scope is normalised to "Ip" or "Range" (value "127.0.0.4/30")
 *     whatever case cscli was given; duration is a Go duration string ("3h59m59.82s"), negative in "deleted"
 *     ("-12.214312ms"). origin "cscli-import" and scenario "manual" for `decisions import`.
 *   - startup=true: "new" = all active decisions, "deleted" = expired/deleted ones still in the db
 *     (so not necessarily null on startup).
 *   - delta (no startup): "new" = created since this bouncer's last pull; "deleted" = expired since
 *     last pull minus 2 s, so a deletion is repeated in every pull within ~2 s of it: apply
 *     deletions idempotently. Last pull is per bouncer (per API key), so two clients sharing a key
 *     steal each other's deltas.
 *   - scopes=ip,range filters on scope (case-insensitive); without it all scopes come back.
 *   - TLS with client certs: a cert whose OU is in bouncers_allowed_ou authenticates as bouncer
 *     "<CN>@<ip>" (auto-created); another OU gets 403; a cert from an unknown CA fails the
 *     handshake. API keys still work over TLS. Client auth defaults to VerifyClientCertIfGiven, so
 *     no cert and no key is a plain 403. HTTP/2 is offered by ALPN.
 *
 * Gotchas: cscli `decisions add|delete|import|list` go through the LAPI (machine login with the
 * api.client credentials), so they fail while the LAPI is stopped; `machines add` and
 * `bouncers add` write the sqlite db directly and work before it starts. `machines add -u URL`
 * sets the url cscli uses; under TLS it must be https and the credentials file needs
 * `ca_cert_path` (so the server cert must come from caCertPath's CA too). `decisions delete
 * --type` works. `decisions import` gives every line the --scope flag (default Ip) and ignores a
 * scope column. No acquis.yaml, hub content, prometheus or online_client section is needed with
 * -no-cs (Go flags: -no-cs and --no-cs are the same); an index file with `{}` is enough. Without
 * prometheus/online_client sections nothing else listens and CAPI is off. crowdsec exits at once
 * on SIGTERM (status 143). At log level info the LAPI logs every request and every imported
 * decision: importing 1M decisions took 81 s (about 5 s per 100k at warning), and their startup
 * response is 138 MB, 14 s.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, openSync, closeSync, readFileSync, rmSync } from 'node:fs';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { stringify } from 'yaml';
import { freePort } from './ports';
import { REPO_ROOT } from './repo-root';

export { REPO_ROOT };
export const CROWDSEC_ROOT = join(REPO_ROOT, '.cache', 'crowdsec');
export const CROWDSEC_BIN = join(CROWDSEC_ROOT, 'usr', 'bin', 'crowdsec');
export const CSCLI_BIN = join(CROWDSEC_ROOT, 'usr', 'bin', 'cscli');
const FETCH_SCRIPT = join(REPO_ROOT, 'scripts', 'fetch-crowdsec.sh');
const READY_TIMEOUT_MS = 15_000;

export interface LapiTlsOptions {
  certFile: string;
  keyFile: string;
  /** CA that signs bouncer client certs; cscli also trusts it for the server cert. */
  caCertPath: string;
  bouncersAllowedOu?: string[];
  agentsAllowedOu?: string[];
}

export interface StartLapiOptions {
  tls?: LapiTlsOptions;
  /** Key of bouncer "test"; random if not given. */
  apiKey?: string;
  /** Listen port on 127.0.0.1; a free one if not given. */
  port?: number;
  /** crowdsec log level (default info, which logs every request and every imported decision). */
  logLevel?: 'trace' | 'debug' | 'info' | 'warning' | 'error';
}

export interface DecisionTarget {
  ip?: string;
  range?: string;
  type?: string;
}

export interface Lapi {
  /** http://127.0.0.1:PORT, or https:// with tls. */
  readonly url: string;
  readonly apiKey: string;
  readonly dir: string;
  readonly cfgPath: string;
  readonly logPath: string;
  /** crowdsec's pid while running (e.g. to SIGSTOP it and make it hang). */
  readonly pid: number | undefined;
  /** Milliseconds the last start() took from spawn to the first 200 of the stream endpoint. */
  readonly lastStartMs: number;
  /** Runs `cscli -c cfg ...args`, resolving stdout; rejects with stderr. */
  cscli(args: string[]): Promise<string>;
  addDecision(opts: DecisionTarget & { duration?: string; reason?: string }): Promise<void>;
  deleteDecision(opts: DecisionTarget): Promise<void>;
  /**
   * `cscli decisions import -i file` (.json array or .csv with a header). 1.4.6 gives every line
   * `scope` (default "Ip"), ignoring a scope column, so import ranges from their own file.
   */
  importDecisions(file: string, opts?: { scope?: 'Ip' | 'Range' }): Promise<void>;
  /** Kills the LAPI; the port, db and keys stay for start(). */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** stop() and remove the temp dir. */
  close(): Promise<void>;
  logTail(lines?: number): string;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackChild(child: ChildProcess): void {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.on('exit', () => {
      for (const c of running) c.kill('SIGKILL');
    });
  }
  running.add(child);
  child.once('exit', () => running.delete(child));
}

let ensured = false;
/**
 * Runs scripts/fetch-crowdsec.sh once per process: a no-op (plus a shared-library check) when
 * .cache/crowdsec is there, else it unpacks Debian's crowdsec package. Throws if that fails.
 */
export function ensureCrowdsec(): void {
  if (ensured) return;
  try {
    execFileSync('bash', [FETCH_SCRIPT], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 });
  } catch (err) {
    const e = err as Error & { stderr?: Buffer };
    throw new Error(`scripts/fetch-crowdsec.sh failed, so there is no CrowdSec LAPI in ${CROWDSEC_ROOT}: ` + `${e.stderr?.toString().trim() || e.message}`);
  }
  if (!existsSync(CROWDSEC_BIN) || !existsSync(CSCLI_BIN)) {
    throw new Error(`scripts/fetch-crowdsec.sh did not produce ${CROWDSEC_BIN} and ${CSCLI_BIN}`);
  }
  ensured = true;
}

export interface LapiResponse {
  status: number;
  body: string;
  headers: IncomingMessage['headers'];
}

/** GET against the LAPI; with tls the harness CA is trusted, and cert/key are sent if given. */
export function lapiGet(
  lapi: Pick<Lapi, 'url'>,
  path: string,
  opts: { apiKey?: string; ca?: string; cert?: string; key?: string; timeoutMs?: number } = {},
): Promise<LapiResponse> {
  const u = new URL(path, lapi.url);
  const headers: Record<string, string> = {};
  if (opts.apiKey !== undefined) headers['X-Api-Key'] = opts.apiKey;
  const read = (f?: string): Buffer | undefined => (f ? readFileSync(f) : undefined);
  return new Promise((resolvePromise, reject) => {
    const onRes = (res: IncomingMessage): void => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolvePromise({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString(), headers: res.headers }));
      res.on('error', reject);
    };
    const req =
      u.protocol === 'https:'
        ? httpsRequest(u, { headers, ca: read(opts.ca), cert: read(opts.cert), key: read(opts.key), agent: false }, onRes)
        : httpRequest(u, { headers, agent: false }, onRes);
    req.setTimeout(opts.timeoutMs ?? 5000, () => req.destroy(new Error(`GET ${u.href} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

export async function startLapi(opts: StartLapiOptions = {}): Promise<Lapi> {
  ensureCrowdsec();
  const dir = await mkdtemp(join(tmpdir(), 'lapi-'));
  const port = opts.port ?? (await freePort());
  const scheme = opts.tls ? 'https' : 'http';
  const url = `${scheme}://127.0.0.1:${port}`;
  const apiKey = opts.apiKey ?? randomBytes(16).toString('hex');
  // Readiness is probed with its own bouncer so the probe never moves the "test" bouncer's last pull.
  const probeKey = randomBytes(16).toString('hex');
  const p = (f: string): string => join(dir, f);
  const cfgPath = p('config.yaml');
  const logPath = p('crowdsec.log');
  const credentialsPath = p('local_api_credentials.yaml');

  const tls = opts.tls && {
    cert_file: opts.tls.certFile,
    key_file: opts.tls.keyFile,
    ca_cert_path: opts.tls.caCertPath,
    ...(opts.tls.bouncersAllowedOu && { bouncers_allowed_ou: opts.tls.bouncersAllowedOu }),
    ...(opts.tls.agentsAllowedOu && { agents_allowed_ou: opts.tls.agentsAllowedOu }),
  };
  const config = {
    common: { daemonize: false, log_media: 'stdout', log_level: opts.logLevel ?? 'info' },
    config_paths: {
      config_dir: dir,
      data_dir: dir,
      hub_dir: dir,
      index_path: p('index.json'),
      simulation_path: p('simulation.yaml'),
    },
    db_config: { type: 'sqlite', db_path: p('crowdsec.db'), use_wal: true },
    api: {
      client: { credentials_path: credentialsPath },
      server: { listen_uri: `127.0.0.1:${port}`, profiles_path: p('profiles.yaml'), ...(tls && { tls }) },
    },
  };
  await writeFile(cfgPath, stringify(config));
  await writeFile(p('index.json'), '{}');
  await writeFile(p('simulation.yaml'), 'simulation: false\n');
  await writeFile(
    p('profiles.yaml'),
    stringify({
      name: 'default_ip_remediation',
      filters: ['Alert.Remediation == true && Alert.GetScope() == "Ip"'],
      decisions: [{ type: 'ban', duration: '4h' }],
      on_success: 'break',
    }),
  );

  const cscli = (args: string[]): Promise<string> =>
    new Promise((res, rej) => {
      execFile(CSCLI_BIN, ['-c', cfgPath, ...args], { timeout: 600_000, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
        if (err) rej(new Error(`cscli ${args.join(' ')} failed (${err.message.split('\n')[0]}): ${stderr.trim()}`));
        else res(stdout);
      });
    });

  await cscli(['machines', 'add', '-a', '-f', credentialsPath, '-u', url]);
  if (opts.tls) await appendFile(credentialsPath, `ca_cert_path: ${opts.tls.caCertPath}\n`);
  await cscli(['bouncers', 'add', 'test', '-k', apiKey]);
  await cscli(['bouncers', 'add', 'harness-probe', '-k', probeKey]);

  let child: ChildProcess | undefined;
  let lastStartMs = 0;

  const logTail = (lines = 30): string => {
    try {
      return readFileSync(logPath, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  };

  const start = async (): Promise<void> => {
    if (child) return;
    const fd = openSync(logPath, 'a');
    const t0 = Date.now();
    // setpriv --pdeathsig: the kernel kills crowdsec if this process dies, even by SIGKILL.
    const [cmd, args] = existsSync('/usr/bin/setpriv')
      ? ['/usr/bin/setpriv', ['--pdeathsig', 'KILL', '--', CROWDSEC_BIN, '-c', cfgPath, '-no-cs']]
      : [CROWDSEC_BIN, ['-c', cfgPath, '-no-cs']];
    const c = spawn(cmd, args, { stdio: ['ignore', fd, fd], cwd: dir });
    closeSync(fd);
    trackChild(c);
    child = c;
    let exited: string | undefined;
    c.once('exit', (code, sig) => {
      exited = `exited with ${sig ?? code}`;
      if (child === c) child = undefined;
    });
    const deadline = t0 + READY_TIMEOUT_MS;
    let lastErr = '';
    for (;;) {
      if (exited) throw new Error(`CrowdSec LAPI ${exited} before answering on ${url}. Log tail:\n${logTail()}`);
      try {
        const r = await lapiGet({ url }, '/v1/decisions/stream?startup=true', { apiKey: probeKey, ca: opts.tls?.caCertPath, timeoutMs: 1000 });
        if (r.status === 200) break;
        lastErr = `status ${r.status}: ${r.body}`;
      } catch (err) {
        lastErr = (err as Error).message;
      }
      if (Date.now() > deadline) {
        c.kill('SIGKILL');
        throw new Error(`CrowdSec LAPI not ready on ${url} after ${READY_TIMEOUT_MS} ms (${lastErr}). Log tail:\n${logTail()}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
    lastStartMs = Date.now() - t0;
  };

  const stop = async (): Promise<void> => {
    const c = child;
    if (!c) return;
    child = undefined;
    if (c.exitCode !== null || c.signalCode !== null) return;
    await new Promise<void>((res) => {
      const t = setTimeout(() => c.kill('SIGKILL'), 5000);
      c.once('exit', () => {
        clearTimeout(t);
        res();
      });
      c.kill('SIGCONT'); // in case a test SIGSTOPped it
      c.kill('SIGTERM');
    });
  };

  const target = (t: DecisionTarget): string[] => {
    if (!t.ip === !t.range) throw new Error('give exactly one of ip or range');
    return [...(t.ip ? ['--ip', t.ip] : ['--range', t.range as string]), ...(t.type ? ['--type', t.type] : [])];
  };

  try {
    await start();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }

  return {
    url,
    apiKey,
    dir,
    cfgPath,
    logPath,
    get pid() {
      return child?.pid;
    },
    get lastStartMs() {
      return lastStartMs;
    },
    cscli,
    logTail,
    async addDecision(d) {
      await cscli(['decisions', 'add', ...target(d), '--duration', d.duration ?? '4h', ...(d.reason ? ['--reason', d.reason] : [])]);
    },
    async deleteDecision(d) {
      await cscli(['decisions', 'delete', ...target(d)]);
    },
    async importDecisions(file, o = {}) {
      await cscli(['decisions', 'import', '-i', file, ...(o.scope ? ['--scope', o.scope] : [])]);
    },
    start,
    stop,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
