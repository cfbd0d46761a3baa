// Every operator mistake found before serving: exactly one line on stderr naming the flag, env
// var, file or listener, and exit 2; `validate` reports the same line for the same mistake.
import { mkdtempSync, writeFileSync, mkdirSync, chmodSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { runBinary } from '../harness/daemon';
import { freePort } from '../harness/ports';

const dir = mkdtempSync(join(tmpdir(), 'nbp-starterr-'));
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const HTTP_ONLY = file('http.yaml', 'services:\n  - name: web\n    protocol: http\n    domains: [a.example]\n    target: http://127.0.0.1:9\n');

async function listenBusy(): Promise<{ port: number; server: Server }> {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, server };
}

/** Runs a start and a validate with the same arguments; both must print `line` alone and exit 2. */
async function expectLine(t: Test, args: string[], line: string, opts: { validate?: boolean; env?: Record<string, string> } = {}): Promise<void> {
  const free = [`--http-addr`, `127.0.0.1:${await freePort()}`, '--admin-addr', `127.0.0.1:${await freePort()}`];
  const runs: Array<[string, string[]]> = [['start', [...free, ...args]]];
  if (opts.validate !== false) runs.push(['validate', ['validate', ...args]]);
  for (const [what, argv] of runs) {
    const r = await runBinary(argv, opts.env, 20_000);
    t.equal(r.stderr, `netbird-proxy: ${line}\n`, `${what}: the one stderr line`);
    t.equal(r.code, 2, `${what}: exit 2`);
  }
}

const base = ['--config', HTTP_ONLY, '--proxy-env', '/dev/null'];

t.test('unknown flag and missing value: one line, exit 2 (no help dump)', async (t) => {
  await expectLine(t, [...base, '--envfile', 'x'], "unknown option '--envfile' (Did you mean --env-file?) (see --help)");
  await expectLine(t, [...base, '--http-adr', 'x'], "unknown option '--http-adr' (Did you mean --http-addr?) (see --help)", { validate: false });
  const r = await runBinary(['--config']);
  t.equal(r.stderr, "netbird-proxy: option '--config <path>' argument missing (see --help)\n");
  t.equal(r.code, 2);
});

t.test('bad value', async (t) => {
  await expectLine(
    t,
    [...base, '--upstream-timeout', 'soon'],
    '--upstream-timeout / NB_PROXY_UPSTREAM_TIMEOUT: "soon" is not a duration such as 500ms, 10s or 1m30s',
  );
});

t.test('missing env file, through --proxy-env and through the --env-file alias', async (t) => {
  const missing = join(dir, 'nope.env');
  const line = `env file ${missing} (--proxy-env / --env-file): cannot read it (ENOENT): create it (cp proxy.env.example proxy.env) or leave the flag out`;
  await expectLine(t, ['--config', HTTP_ONLY, '--proxy-env', missing], line);
});

t.test('half-configured CrowdSec names the missing part; the poll interval is checked without CrowdSec', async (t) => {
  await expectLine(
    t,
    [...base, '--crowdsec-api-url', 'http://127.0.0.1:1'],
    '--crowdsec-api-url (NB_PROXY_CROWDSEC_API_URL) is set but --crowdsec-api-key (NB_PROXY_CROWDSEC_API_KEY) is not: set the bouncer key (npm run gen-key, or cscli bouncers add), or remove the URL',
  );
  await expectLine(
    t,
    base,
    '--crowdsec-api-key (NB_PROXY_CROWDSEC_API_KEY) is set but --crowdsec-api-url (NB_PROXY_CROWDSEC_API_URL) is not: set the LAPI URL, e.g. http://crowdsec:8080, or remove the key',
    { env: { NB_PROXY_CROWDSEC_API_KEY: 'k' } },
  );
  await expectLine(
    t,
    [...base, '--crowdsec-poll-interval', '10'],
    '--crowdsec-poll-interval / NB_PROXY_CROWDSEC_POLL_INTERVAL: "10" is not a duration such as 500ms, 10s or 1m30s',
  );
});

t.test('access log: missing directory (not created), unwritable place', async (t) => {
  const missingDir = join(dir, 'no-such-dir');
  await expectLine(
    t,
    [...base, '--access-log', join(missingDir, 'a.log')],
    `--access-log / NB_PROXY_ACCESS_LOG ${join(missingDir, 'a.log')}: directory ${missingDir} does not exist: create it (mkdir -p ${missingDir}) or choose another path`,
  );
  await expectLine(
    t,
    [...base, '--access-log', '/proc/nope/a.log'],
    '--access-log / NB_PROXY_ACCESS_LOG /proc/nope/a.log: directory /proc/nope does not exist: create it (mkdir -p /proc/nope) or choose another path',
  );
  // Mode bits do not stop root, so as root the unwritable place is sysfs (no new files there).
  await expectLine(
    t,
    [...base, '--access-log', `${HTTP_ONLY}/a.log`],
    `--access-log / NB_PROXY_ACCESS_LOG ${HTTP_ONLY}/a.log: ${HTTP_ONLY} is not a directory`,
  );
  const asDir = join(dir, 'log-dir');
  mkdirSync(asDir);
  await expectLine(t, [...base, '--access-log', asDir], `--access-log / NB_PROXY_ACCESS_LOG ${asDir}: ${asDir} is a directory: name a file in it`);
  if (process.getuid?.() !== 0) {
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    await expectLine(
      t,
      [...base, '--access-log', join(ro, 'a.log')],
      `--access-log / NB_PROXY_ACCESS_LOG ${join(ro, 'a.log')}: directory ${ro} is not writable (EACCES): fix its owner or mode, or choose another path`,
    );
  } else {
    await expectLine(
      t,
      [...base, '--access-log', '/sys/a.log'],
      '--access-log / NB_PROXY_ACCESS_LOG /sys/a.log: directory /sys is not writable (EACCES): fix its owner or mode, or choose another path',
    );
  }
});

t.test('an explicit --geoip-db that cannot be read', async (t) => {
  await expectLine(
    t,
    [...base, '--geoip-db', join(dir, 'nope.mmdb')],
    `--geoip-db / NB_PROXY_GEOIP_DB ${join(dir, 'nope.mmdb')}: cannot read it (ENOENT): fix the path, or leave it out to use the bundled database`,
  );
  await expectLine(
    t,
    [...base, '--geoip-db', HTTP_ONLY],
    `--geoip-db / NB_PROXY_GEOIP_DB ${HTTP_ONLY}: not an mmdb country database: fix the path, or leave it out to use the bundled database`,
  );
});

t.test('--trusted-proxies: the services.yaml CIDR rules and messages', async (t) => {
  await expectLine(
    t,
    [...base, '--trusted-proxies', '10.0.0.1/8'],
    '--trusted-proxies / NB_PROXY_TRUSTED_PROXIES: "10.0.0.1/8" is not a valid CIDR: it has host bits set; did you mean "10.0.0.0/8"?',
  );
  await expectLine(
    t,
    [...base, '--trusted-proxies', '127.0.0.1,010.1.1.1'],
    '--trusted-proxies / NB_PROXY_TRUSTED_PROXIES: "010.1.1.1" is not a valid CIDR: "010.1.1.1" is not an IPv4 or IPv6 address (IPv4 needs four decimal octets, without leading zeros)',
  );
});

t.test('YAML: line and column, and the quoting hint for an unquoted *.', async (t) => {
  const f = file('alias.yaml', 'services:\n  - name: web\n    protocol: http\n    domains: [*.example.org]\n    target: http://127.0.0.1:9\n');
  await expectLine(
    t,
    ['--config', f, '--proxy-env', '/dev/null'],
    `${f}: line 4, column 15: invalid YAML: *.example.org is read as a YAML alias because it starts with "*": quote it, e.g. "*.example.org"`,
  );
});

t.test('busy HTTP, admin and TCP-service addresses at start (validate binds nothing)', async (t) => {
  const busy = await listenBusy();
  t.teardown(() => busy.server.close());
  const addr = `127.0.0.1:${busy.port}`;
  const fix = 'address already in use (EADDRINUSE): stop the other process or choose another address';
  for (const flag of ['--http-addr', '--admin-addr']) {
    const other = flag === '--http-addr' ? '--admin-addr' : '--http-addr';
    const r = await runBinary([...base, other, `127.0.0.1:${await freePort()}`, flag, addr]);
    t.equal(r.stderr, `netbird-proxy: ${flag} ${addr}: ${fix}\n`, `${flag}: the one stderr line`);
    t.equal(r.code, 2, `${flag}: exit 2`);
  }
  const tcp = file('tcp.yaml', `services:\n  - name: ssh\n    protocol: tcp\n    listen: ${addr}\n    target: 127.0.0.1:9\n`);
  const r = await runBinary([
    '--config',
    tcp,
    '--proxy-env',
    '/dev/null',
    '--http-addr',
    `127.0.0.1:${await freePort()}`,
    '--admin-addr',
    `127.0.0.1:${await freePort()}`,
  ]);
  t.equal(r.stderr, `netbird-proxy: ${tcp}: service "ssh": listen ${addr}: ${fix}\n`, 'tcp service: the one stderr line');
  t.equal(r.code, 2, 'tcp service: exit 2');
  const v = await runBinary(['validate', '--config', tcp, '--proxy-env', '/dev/null', '--http-addr', addr]);
  t.equal(v.code, 0, 'validate does not bind, so a busy address is not its error');
});

t.test('bin without dist/ says to build', async (t) => {
  const { cpSync } = await import('node:fs');
  const { REPO_ROOT } = await import('../harness/repo-root');
  const copy = join(dir, 'nodist');
  mkdirSync(join(copy, 'bin'), { recursive: true });
  cpSync(join(REPO_ROOT, 'bin', 'netbird-proxy'), join(copy, 'bin', 'netbird-proxy'));
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, [join(copy, 'bin', 'netbird-proxy')], { encoding: 'utf8' });
  t.equal(r.stderr, 'netbird-proxy: dist/cli.js is missing: run npm run build (npm ci && npm run build from a clone)\n');
  t.equal(r.status, 2);
});

t.test('--help ends with signals and exit codes, and lists the silent log level', async (t) => {
  const r = await runBinary(['--help']);
  t.equal(r.code, 0);
  t.match(
    r.stdout,
    /\n {2}0 {2}stopped by a signal, or validate found no error\n {2}1 {2}a bug \(uncaught exception\): please report it\n {2}2 {2}operator error found before serving[^\n]*\n[^\n]*\n[^\n]*cannot be bound\n$/,
    'exit codes last',
  );
  t.match(
    r.stdout,
    /Signals:\n {2}SIGHUP +reload services\.yaml[^\n]*\n {2}SIGUSR2 +reopen the --access-log file[^\n]*\n {2}SIGTERM, SIGINT +graceful stop/,
    'signals',
  );
  t.match(r.stdout.replace(/\s+/g, ' '), 'trace, debug, info, warn, error, fatal, silent', 'silent level listed (help text wraps)');
  for (const args of [['--help'], ['validate', '--help'], ['status', '--help'], ['healthcheck', '--help']]) {
    const h = await runBinary(args);
    const long = h.stdout.split('\n').filter((l) => l.length > 80);
    t.same(long, [], `${args.join(' ')}: every line fits 80 columns (the width off a terminal)`);
  }
  t.match(r.stdout, /\n {2}--https-redirect-port <port\|auto>\n {6}port of the 308's https:\/\/ URL;/, 'a long flag: its description wrapped below it');
});
