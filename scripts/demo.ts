/*
 * `npm run demo`: the CrowdSec bouncer end to end, on one machine, in about fifteen seconds.
 *
 * Starts a real CrowdSec LAPI (Debian's crowdsec, fetched by scripts/fetch-crowdsec.sh like the
 * tests do), a demo upstream and bin/netbird-proxy with one enforce and one observe service; bans
 * 127.0.0.2 with cscli, shows the blocked and the observed request side by side with their access
 * entries, unbans it, and stops everything it started: on success, on a failed step, on Ctrl-C.
 *
 * Reuses the test helpers (test/harness/*); compiled with them into .build/ by
 * `npm run build:scripts`. Runs the daemon from dist/, building it first when dist/ is missing
 * or older than src/. Exit status: 0 on success, 1 when a step fails, 130/143 on SIGINT/SIGTERM.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CROWDSEC_BIN, CSCLI_BIN, REPO_ROOT as LAPI_HELPER_ROOT, ensureCrowdsec, startLapi, type Lapi } from '../test/harness/lapi';
import { BIN, REPO_ROOT, startDaemon, type Daemon, type LogLine } from '../test/harness/daemon';
import { startHttpUpstream, type HttpUpstream } from '../test/harness/upstreams';
import { httpGet, sleep, type HttpResult } from '../test/harness/clients';
import { staleDistFile } from './stale-dist';

const BANNED_IP = '127.0.0.2';
const CLEAN_IP = '127.0.0.1';
const ENFORCE_HOST = 'enforce.demo.local';
const OBSERVE_HOST = 'observe.demo.local';
const POLL_MS = 1000;
const BOUNCER_NAME = 'netbird-demo';
const TOTAL_STEPS = 10;

// ---------------------------------------------------------------------------------------------
// Output

const color = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
const paint =
  (code: string) =>
  (s: string): string =>
    color ? `\x1b[${code}m${s}\x1b[0m` : s;
const bold = paint('1');
const dim = paint('2');
const green = paint('32');
const red = paint('31');
const yellow = paint('33');
const cyan = paint('36');

function out(text = ''): void {
  process.stdout.write(`${text}\n`);
}
const ok = (text: string): void => out(`   ${green('✓')} ${text}`);
const info = (text: string): void => out(`   ${text}`);
const wait = (text: string): void => out(`   ${dim('…')} ${text}`);
const cmd = (text: string): void => out(`   ${cyan('$')} ${cyan(text)}`);
const block = (text: string, prefix = '   │ '): void => {
  for (const line of text.replace(/\n+$/, '').split('\n')) out(`${dim(prefix)}${line}`);
};

let currentStep = { n: 0, title: 'preflight' };
function step(n: number, title: string): void {
  if (interrupted) throw new StepError(`interrupted by ${interrupted}`);
  currentStep = { n, title };
  out();
  out(bold(`[${n}/${TOTAL_STEPS}] ${title}`));
}

const rel = (p: string): string => {
  const r = relative(REPO_ROOT, p);
  return r.startsWith('..') ? p : r;
};

class StepError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
  }
}

/** Pino bookkeeping dropped when an access entry is shown. */
const PINO_KEYS = new Set(['level', 'time', 'pid', 'hostname']);
function withoutPinoKeys(line: LogLine): Record<string, unknown> {
  return Object.fromEntries(Object.entries(line).filter(([k]) => !PINO_KEYS.has(k)));
}

/** "HH:MM:SS.mmm msg key=value ..." for an operational log line. */
function brief(line: LogLine): string {
  const t = typeof line.time === 'number' || typeof line.time === 'string' ? new Date(line.time).toISOString().slice(11, 23) : '';
  const extra = Object.entries(line)
    .filter(([k]) => !PINO_KEYS.has(k) && k !== 'msg')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join(' ');
  return `${t} ${String(line.msg ?? '')}${extra ? dim(` ${extra}`) : ''}`;
}

function table(rows: string[][], indent = '   '): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  rows.forEach((r, i) => {
    const cells = r.map((cell, c) => cell.padEnd(widths[c]));
    out(`${indent}${i === 0 ? bold(cells.join('  │  ')) : cells.join('  │  ')}`);
    if (i === 0) out(`${indent}${widths.map((w) => '─'.repeat(w)).join('──┼──')}`);
  });
}

// ---------------------------------------------------------------------------------------------
// What this run started, stopped in reverse order by cleanup()

interface Resource {
  name: string;
  stop: () => Promise<string>;
}
const resources: Resource[] = [];
let interrupted: NodeJS.Signals | undefined;
let cleanupPromise: Promise<boolean> | undefined;
/** The demo's own flow, so an interrupted run can wait for the step in flight to settle. */
let runPromise: Promise<void> | undefined;

async function drain(): Promise<boolean> {
  let allOk = true;
  while (resources.length > 0) {
    const r = resources.pop() as Resource;
    try {
      ok(await r.stop());
    } catch (err) {
      allOk = false;
      out(`   ${red('✗')} could not stop ${r.name}: ${(err as Error).message}`);
    }
  }
  return allOk;
}

/**
 * Stops everything started so far, once; resolves true when every stop succeeded. After a signal
 * it also waits (up to 20 s) for the step in flight, which may still be starting something.
 */
function cleanup(): Promise<boolean> {
  cleanupPromise ??= (async () => {
    if (resources.length === 0 && !interrupted) info(dim('(nothing was started)'));
    let allOk = await drain();
    if (interrupted && runPromise) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([runPromise.catch(() => undefined), new Promise((r) => (timer = setTimeout(r, 20_000)))]);
      clearTimeout(timer);
      allOk = (await drain()) && allOk;
    }
    return allOk;
  })();
  return cleanupPromise;
}

function onSignal(sig: NodeJS.Signals): void {
  if (interrupted) {
    out(red(`\n${sig} again: exiting now (children get SIGKILL)`));
    process.exit(sig === 'SIGINT' ? 130 : 143);
  }
  interrupted = sig;
  out(yellow(`\n${sig} received: stopping everything the demo started (press Ctrl-C again to force)`));
  void cleanup().then((allOk) => {
    out(
      allOk
        ? yellow('Demo interrupted; everything it started is stopped.')
        : red('Demo interrupted; some of what it started could not be stopped (see above).'),
    );
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

// ---------------------------------------------------------------------------------------------
// Helpers

interface StatusBody {
  crowdsec?: { state?: string; decisions?: { total?: number } };
}

async function decisionsTotal(daemon: Daemon): Promise<number | undefined> {
  const res = await httpGet(`${daemon.adminUrl}/status`);
  if (res.status !== 200) return undefined;
  const body = JSON.parse(res.body) as StatusBody;
  return body.crowdsec?.decisions?.total;
}

/** Polls `check` every 50 ms; resolves with the elapsed ms, or throws `what` after timeoutMs. */
async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    let last = '';
    try {
      if (await check()) return Date.now() - t0;
    } catch (err) {
      last = ` (last error: ${(err as Error).message})`;
    }
    if (interrupted) throw new StepError(`interrupted by ${interrupted}`);
    if (Date.now() - t0 > timeoutMs) throw new StepError(`timed out after ${timeoutMs} ms waiting for ${what}${last}`);
    await sleep(50);
  }
}

async function request(daemon: Daemon, host: string, path: string, from: string): Promise<HttpResult> {
  try {
    return await httpGet(`${daemon.httpUrl}${path}`, { host, from });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EADDRNOTAVAIL') {
      throw new StepError(
        `cannot send from ${from}: ${e.message}`,
        'the demo poses as another client by binding 127.0.0.2, which Linux allows on lo; on other systems add the alias first (e.g. `sudo ifconfig lo0 alias 127.0.0.2`)',
      );
    }
    throw err;
  }
}

function accessFor(daemon: Daemon, path: string): Promise<LogLine> {
  return daemon.waitFor((l) => l.msg === 'access' && l.path === path, 5000, `the access entry for ${path}`);
}

function metadataOf(entry: LogLine): Record<string, unknown> {
  const m = entry.metadata;
  return typeof m === 'object' && m !== null ? (m as Record<string, unknown>) : {};
}

function statusText(res: HttpResult): string {
  const reasons: Record<number, string> = { 200: 'OK', 403: 'Forbidden', 404: 'Not Found', 502: 'Bad Gateway' };
  return `${res.status} ${reasons[res.status] ?? ''}`.trim();
}

function expect(cond: boolean, message: string): void {
  if (!cond) throw new StepError(message);
}

// ---------------------------------------------------------------------------------------------
// The demo

let daemonRef: Daemon | undefined;
let lapiRef: Lapi | undefined;

async function runDemo(): Promise<void> {
  out(bold('netbird-proxy demo: CrowdSec "enforce" vs "observe", end to end'));
  out(dim('Everything runs on 127.0.0.1 and is stopped at the end (also on Ctrl-C or when a step fails).'));

  // Preflight: the helpers find the repository from their own location.
  if (!existsSync(join(REPO_ROOT, 'package.json')) || !existsSync(join(LAPI_HELPER_ROOT, 'package.json'))) {
    throw new StepError(
      `the test helpers resolved the repository root to ${REPO_ROOT}, which has no package.json`,
      'test/harness/daemon.ts and lapi.ts must find the repository root when compiled into .build/ as well',
    );
  }
  const stale = staleDistFile(REPO_ROOT);
  if (stale !== undefined) {
    out();
    out(bold('[0] Building netbird-proxy'));
    info(`dist/ is missing or older than ${rel(stale)}, so compiling src/ first:`);
    cmd('tsc -p tsconfig.json --noEmitOnError && tsc -p src/admin/ui/tsconfig.json   (what `npm run build` does)');
    try {
      for (const project of ['tsconfig.json', 'src/admin/ui/tsconfig.json']) {
        execFileSync(process.execPath, [join(REPO_ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', project, '--noEmitOnError'], {
          cwd: REPO_ROOT,
          stdio: ['ignore', 'pipe', 'pipe'],
        });
      }
      cpSync(join(REPO_ROOT, 'src', 'admin', 'ui', 'static'), join(REPO_ROOT, 'dist', 'admin', 'ui'), { recursive: true });
    } catch (err) {
      const e = err as Error & { stdout?: Buffer };
      throw new StepError(
        `building dist/ failed:\n${(e.stdout?.toString() ?? e.message).trim().split('\n').slice(0, 20).join('\n')}`,
        'fix the TypeScript errors above (or run `npm run build` to see them all)',
      );
    }
    ok('dist/ is up to date');
  }

  // 1. Binaries
  step(1, 'Fetching the CrowdSec binaries (the same way the tests do)');
  cmd('bash scripts/fetch-crowdsec.sh');
  if (!existsSync(CROWDSEC_BIN)) info(dim("first run: downloads and unpacks Debian's crowdsec package into .cache/crowdsec"));
  try {
    ensureCrowdsec();
  } catch (err) {
    throw new StepError(
      (err as Error).message,
      'the script uses `apt-get download crowdsec` (Debian/Ubuntu with network access); see scripts/fetch-crowdsec.sh',
    );
  }
  ok(`${rel(CROWDSEC_BIN)} and ${rel(CSCLI_BIN)}`);

  // 2. LAPI
  step(2, 'Starting a local CrowdSec LAPI (crowdsec -no-cs: the Local API only, no log agent)');
  wait('starting crowdsec in a temp dir with a fresh sqlite database');
  const lapi = await startLapi();
  lapiRef = lapi;
  const lapiPid = lapi.pid;
  resources.push({
    name: 'the CrowdSec LAPI',
    stop: async () => {
      await lapi.close();
      return `stopped the CrowdSec LAPI (pid ${lapiPid ?? '?'}) and removed ${lapi.dir}`;
    },
  });
  ok(`CrowdSec LAPI listening on ${bold(lapi.url)} (pid ${lapiPid ?? '?'}, ready in ${lapi.lastStartMs} ms)`);
  info(dim(`config and database in ${lapi.dir}; cscli below means \`${rel(CSCLI_BIN)} -c ${lapi.cfgPath}\``));

  // 3. Bouncer key
  step(3, 'Registering a bouncer API key for netbird-proxy');
  const apiKey = randomBytes(16).toString('hex');
  cmd(`cscli bouncers add ${BOUNCER_NAME} -k ${apiKey}`);
  await lapi.cscli(['bouncers', 'add', BOUNCER_NAME, '-k', apiKey]);
  ok(`bouncer "${BOUNCER_NAME}" registered; the proxy sends this key as X-Api-Key`);

  // 4. Upstream
  step(4, 'Starting the demo upstream (the app behind the proxy)');
  const upstream: HttpUpstream = await startHttpUpstream((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end('hello from the demo upstream\n');
  });
  resources.push({
    name: 'the demo upstream',
    stop: async () => {
      await upstream.close();
      return `stopped the demo upstream (${upstream.url})`;
    },
  });
  ok(`demo upstream on ${bold(upstream.url)}`);

  // 5. Proxy
  step(5, 'Starting netbird-proxy with this services.yaml');
  const config = `services:
  - name: enforce-demo
    protocol: http
    domains: [${ENFORCE_HOST}]
    target: ${upstream.url}
    access: { crowdsec: enforce }    # banned clients get 403 Forbidden
  - name: observe-demo
    protocol: http
    domains: [${OBSERVE_HOST}]
    target: ${upstream.url}
    access: { crowdsec: observe }    # banned clients pass; the verdict is only logged
`;
  block(config);
  const crowdsecArgs = ['--crowdsec-api-url', lapi.url, '--crowdsec-api-key', apiKey, '--crowdsec-poll-interval', `${POLL_MS / 1000}s`];
  const daemon = await startDaemon({ config, args: crowdsecArgs });
  daemonRef = daemon;
  const proxyPid = daemon.child.pid;
  resources.push({
    name: 'netbird-proxy',
    stop: async () => {
      const kill = setTimeout(() => daemon.signal('SIGKILL'), 8000);
      const code = await daemon.stop();
      clearTimeout(kill);
      return `stopped netbird-proxy (pid ${proxyPid ?? '?'}, SIGTERM, exit code ${code ?? 'none'}) and removed ${daemon.dir}`;
    },
  });
  cmd(
    `${rel(BIN)} --config ${daemon.configPath} --http-addr 127.0.0.1:${daemon.httpPort} --admin-addr 127.0.0.1:${daemon.adminPort} ` +
      `${crowdsecArgs.join(' ')} --env-file /dev/null --shutdown-grace 2s`,
  );
  ok(`netbird-proxy (pid ${proxyPid ?? '?'}) listening: HTTP on ${bold(daemon.httpUrl)}, admin on ${bold(daemon.adminUrl)}`);
  wait('waiting for "CrowdSec bouncer synced initial decisions"');
  const synced = await daemon.waitFor((l) => l.msg === 'CrowdSec bouncer synced initial decisions', 15_000, '"CrowdSec bouncer synced initial decisions"');
  for (const l of daemon.lines.filter((x) => /crowdsec/i.test(String(x.msg)))) info(dim('proxy log: ') + brief(l));
  ok(`bouncer synced (${String(synced.decisions ?? 0)} decisions so far)`);
  const ready = await httpGet(`${daemon.adminUrl}/readyz`);
  expect(ready.status === 200, `GET ${daemon.adminUrl}/readyz answered ${ready.status}, expected 200 once the bouncer synced: ${ready.body}`);
  ok(`GET ${daemon.adminUrl}/readyz → 200 (it answers 503 until an enforce service's bouncer has synced)`);

  // 6. Ban
  step(6, `Banning ${BANNED_IP} in CrowdSec`);
  cmd(`cscli decisions add --ip ${BANNED_IP} --type ban --duration 5m --reason "netbird demo"`);
  await lapi.addDecision({ ip: BANNED_IP, type: 'ban', duration: '5m', reason: 'netbird demo' });
  ok('decision added to the LAPI');
  cmd('cscli decisions list');
  block(await lapi.cscli(['decisions', 'list']));
  wait(`waiting for the proxy to pull it (it polls the LAPI every ${POLL_MS / 1000} s); watching GET /status`);
  const pulledMs = await waitUntil(
    'the ban to reach the proxy (/status crowdsec.decisions.total ≥ 1)',
    async () => ((await decisionsTotal(daemon)) ?? 0) >= 1,
    10 * POLL_MS,
  );
  ok(`the proxy has it after ${(pulledMs / 1000).toFixed(1)} s: GET ${daemon.adminUrl}/status → crowdsec.decisions.total = 1`);

  // 7. Requests
  step(7, `The same banned client (${BANNED_IP}) against both services, and a clean one for contrast`);
  const paths = { enforce: '/demo/enforce', observe: '/demo/observe', clean: '/demo/clean' };
  cmd(`curl --interface ${BANNED_IP} -H 'Host: ${ENFORCE_HOST}' ${daemon.httpUrl}${paths.enforce}`);
  const rEnforce = await request(daemon, ENFORCE_HOST, paths.enforce, BANNED_IP);
  cmd(`curl --interface ${BANNED_IP} -H 'Host: ${OBSERVE_HOST}' ${daemon.httpUrl}${paths.observe}`);
  const rObserve = await request(daemon, OBSERVE_HOST, paths.observe, BANNED_IP);
  cmd(`curl --interface ${CLEAN_IP} -H 'Host: ${ENFORCE_HOST}' ${daemon.httpUrl}${paths.clean}`);
  const rClean = await request(daemon, ENFORCE_HOST, paths.clean, CLEAN_IP);
  const [aEnforce, aObserve, aClean] = await Promise.all([accessFor(daemon, paths.enforce), accessFor(daemon, paths.observe), accessFor(daemon, paths.clean)]);
  const mEnforce = metadataOf(aEnforce);
  const mObserve = metadataOf(aObserve);
  const reached = (p: string): string => (upstream.requests.some((r) => r.url === p) ? 'yes' : 'no');
  const body = (r: HttpResult): string => {
    const b = r.body.trim();
    return b.length > 34 ? `${b.slice(0, 33)}…` : b;
  };
  const dr = (v: unknown): string => (v === '' ? '"" (allowed)' : String(v));
  out();
  table([
    ['', `${ENFORCE_HOST}`, `${OBSERVE_HOST}`],
    ['service (crowdsec mode)', 'enforce-demo (enforce)', 'observe-demo (observe)'],
    ['client', `${BANNED_IP} (banned)`, `${BANNED_IP} (banned)`],
    ['request', `GET ${paths.enforce}`, `GET ${paths.observe}`],
    ['response', statusText(rEnforce), statusText(rObserve)],
    ['body', body(rEnforce), body(rObserve)],
    ['reached the upstream', reached(paths.enforce), reached(paths.observe)],
    ['access: deny_reason', dr(aEnforce.deny_reason), dr(aObserve.deny_reason)],
    ['access: metadata.crowdsec_verdict', String(mEnforce.crowdsec_verdict ?? '-'), String(mObserve.crowdsec_verdict ?? '-')],
    ['access: metadata.crowdsec_mode', String(mEnforce.crowdsec_mode ?? '-'), String(mObserve.crowdsec_mode ?? '-')],
  ]);
  out();
  info(bold('access entries') + dim(' (as logged on stdout; level/time/pid/hostname left out):'));
  info(`enforce: ${JSON.stringify(withoutPinoKeys(aEnforce))}`);
  info(`observe: ${JSON.stringify(withoutPinoKeys(aObserve))}`);
  info(`clean:   ${JSON.stringify(withoutPinoKeys(aClean))}`);
  out();
  expect(
    rEnforce.status === 403 && aEnforce.deny_reason === 'crowdsec_ban' && mEnforce.crowdsec_verdict === 'ban' && mEnforce.crowdsec_mode === 'enforce',
    `expected 403 with deny_reason crowdsec_ban from ${ENFORCE_HOST}, got ${rEnforce.status} and ${JSON.stringify(withoutPinoKeys(aEnforce))}`,
  );
  ok(`enforce: ${BANNED_IP} → ${ENFORCE_HOST} → ${statusText(rEnforce)}, deny_reason: crowdsec_ban (the upstream never saw it)`);
  expect(
    rObserve.status === 200 && aObserve.deny_reason === '' && mObserve.crowdsec_verdict === 'ban' && mObserve.crowdsec_mode === 'observe',
    `expected 200 with metadata.crowdsec_verdict ban from ${OBSERVE_HOST}, got ${rObserve.status} and ${JSON.stringify(withoutPinoKeys(aObserve))}`,
  );
  ok(`observe: ${BANNED_IP} → ${OBSERVE_HOST} → ${statusText(rObserve)}, metadata.crowdsec_verdict: ban (crowdsec_mode: observe; logged, not blocked)`);
  expect(
    rClean.status === 200 && aClean.deny_reason === '',
    `expected 200 for the clean client ${CLEAN_IP}, got ${rClean.status} and ${JSON.stringify(withoutPinoKeys(aClean))}`,
  );
  ok(`contrast: ${CLEAN_IP} → ${ENFORCE_HOST} → ${statusText(rClean)}, deny_reason: "" (no decision for ${CLEAN_IP})`);

  // 8. Unban
  step(8, `Lifting the ban on ${BANNED_IP}`);
  cmd(`cscli decisions delete --ip ${BANNED_IP}`);
  await lapi.deleteDecision({ ip: BANNED_IP });
  const t0 = Date.now();
  ok('decision deleted from the LAPI');
  const limitMs = 2 * POLL_MS;
  wait(`waiting for the proxy to drop it (within two poll intervals, ${limitMs / 1000} s)`);
  await waitUntil('the deletion to reach the proxy (/status crowdsec.decisions.total = 0)', async () => (await decisionsTotal(daemon)) === 0, limitMs + 3000);
  const pathAfter = '/demo/after-unban';
  cmd(`curl --interface ${BANNED_IP} -H 'Host: ${ENFORCE_HOST}' ${daemon.httpUrl}${pathAfter}`);
  const rAfter = await request(daemon, ENFORCE_HOST, pathAfter, BANNED_IP);
  const afterMs = Date.now() - t0;
  const aAfter = await accessFor(daemon, pathAfter);
  info(`access: ${JSON.stringify(withoutPinoKeys(aAfter))}`);
  expect(
    rAfter.status === 200 && aAfter.deny_reason === '',
    `expected 200 for ${BANNED_IP} after the unban, got ${rAfter.status} and ${JSON.stringify(withoutPinoKeys(aAfter))}`,
  );
  expect(afterMs <= limitMs + 1000, `${BANNED_IP} was allowed again only after ${afterMs} ms, more than two poll intervals (${limitMs} ms) plus 1 s slack`);
  ok(
    `unbanned: ${BANNED_IP} → ${ENFORCE_HOST} → ${statusText(rAfter)} again, ${(afterMs / 1000).toFixed(1)} s after the delete (poll interval ${POLL_MS / 1000} s)`,
  );

  // 9. Cleanup
  step(9, 'Stopping everything the demo started');
  const allStopped = await cleanup();
  expect(allStopped, 'some of what the demo started could not be stopped (see above)');

  // 10. Logs
  step(10, 'What the proxy logged about CrowdSec');
  cmd('netbird-proxy ... | grep -i crowdsec');
  const lines = daemon
    .output()
    .split('\n')
    .filter((l) => /crowdsec/i.test(l));
  block(lines.join('\n'), '   ');
}

async function main(): Promise<number> {
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  const t0 = Date.now();
  let failure: unknown;
  try {
    runPromise = runDemo();
    await runPromise;
  } catch (err) {
    failure = err;
  } finally {
    // A signal's handler runs on a later tick than a synchronous child it interrupted.
    await sleep(0);
    if (failure !== undefined && !interrupted) {
      out();
      out(red(bold(`✗ Demo failed at step ${currentStep.n} (${currentStep.title}):`)));
      out(red(`  ${failure instanceof Error ? failure.message : String(failure)}`));
      if (failure instanceof StepError && failure.hint) out(`  hint: ${failure.hint}`);
      if (daemonRef) {
        out(dim('  last proxy output:'));
        block(daemonRef.output().split('\n').slice(-15).join('\n'), '    ');
      }
      if (lapiRef) {
        out(dim('  last LAPI log lines:'));
        block(lapiRef.logTail(10), '    ');
      }
      out();
      out(bold('Stopping everything the demo started'));
    }
    await cleanup();
  }
  if (interrupted) return new Promise<number>(() => undefined); // onSignal exits once cleanup is done
  if (failure !== undefined) return 1;
  out();
  out(
    green(bold(`✓ Demo finished in ${((Date.now() - t0) / 1000).toFixed(1)} s.`)) +
      ` Try it on your own services: put \`access: { crowdsec: enforce }\` (or observe) in services.yaml and pass --crowdsec-api-url/--crowdsec-api-key.`,
  );
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`demo: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
