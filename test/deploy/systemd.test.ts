// docker/netbird-proxy.service, .sysusers and .logrotate, checked by the real tools:
// systemd-analyze verify/security (no systemd as PID 1 needed), systemd-sysusers --root, and
// logrotate rotating the access log of a running daemon.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BIN, startDaemon } from '../harness/daemon';
import { httpGet, until } from '../harness/clients';
import { startHttpUpstream } from '../harness/upstreams';

const ROOT = resolve(__dirname, '..', '..');
const UNIT = readFileSync(join(ROOT, 'docker', 'netbird-proxy.service'), 'utf8');
const INSTALLED_BIN = '/usr/local/bin/netbird-proxy';
const work = mkdtempSync(join(tmpdir(), 'nbp-systemd-'));

function tool(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 60_000 });
  if (r.error !== undefined) return { status: null, stdout: '', stderr: r.error.message };
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The unit's [Service] settings, in order (repeated keys kept). */
function directives(text: string): [string, string][] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#') && !l.startsWith('['))
    .map((l): [string, string] => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]);
}

// systemd-analyze checks that the commands exist: point them at this checkout's binary.
const unitPath = join(work, 'netbird-proxy.service');
writeFileSync(unitPath, UNIT.split(INSTALLED_BIN).join(BIN));

t.test('systemd-analyze verify passes without a warning', async (t) => {
  const r = tool('systemd-analyze', ['verify', unitPath]);
  t.equal(r.status, 0, `systemd-analyze verify (Debian package systemd): ${r.stderr}`);
  t.equal(r.stderr, '', 'no warnings');
  // The check is real: a misspelt key is reported.
  const typo = join(work, 'typo.service');
  writeFileSync(typo, UNIT.split(INSTALLED_BIN).join(BIN).replace('NoNewPrivileges=', 'NoNewPrivilege='));
  t.match(tool('systemd-analyze', ['verify', typo]).stderr, "Unknown key 'NoNewPrivilege'");
});

t.test('systemd-analyze security rates the sandbox OK (exposure at most 2.5 of 10)', async (t) => {
  const r = tool('systemd-analyze', ['security', '--offline=yes', '--threshold=25', '--no-pager', unitPath]);
  t.equal(r.status, 0, r.stderr);
  const m = /Overall exposure level for netbird-proxy\.service: ([0-9.]+)/.exec(r.stdout);
  t.ok(m, 'exposure level printed');
  t.ok(Number(m?.[1]) <= 2.5, `exposure ${m?.[1]}`);
});

t.test('the unit has what the issue asks for', async (t) => {
  const d = directives(UNIT);
  const get = (k: string): string[] => d.filter(([key]) => key === k).map(([, v]) => v);
  t.same(get('Type'), ['exec']);
  t.same(get('ExecReload'), [`${INSTALLED_BIN} validate`, '/bin/kill -HUP $MAINPID'], 'reload checks the config, then sends SIGHUP');
  t.same(get('ExecStartPre'), [`${INSTALLED_BIN} validate`]);
  t.same(get('User'), ['netbird-proxy']);
  t.same(get('StateDirectory'), ['netbird-proxy']);
  t.same(get('AmbientCapabilities'), ['CAP_NET_BIND_SERVICE']);
  t.same(get('CapabilityBoundingSet'), ['CAP_NET_BIND_SERVICE']);
  t.same(get('ProtectSystem'), ['strict']);
  t.same(get('NoNewPrivileges'), ['yes']);
  t.same(get('RestartPreventExitStatus'), ['2'], 'exit 2 (bad config) is not restarted');
});

t.test("the unit's validate command line works with the unit's environment", async (t) => {
  const conf = join(work, 'services.yaml');
  writeFileSync(conf, readFileSync(join(ROOT, 'config', 'services.yaml')));
  const env = Object.fromEntries(get(UNIT, 'Environment').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
  t.equal(env.NB_PROXY_CONFIG, '/etc/netbird-proxy/services.yaml');
  const run = (config: string) =>
    spawnSync(process.execPath, [BIN, 'validate'], { cwd: work, env: { PATH: process.env.PATH, ...env, NB_PROXY_CONFIG: config }, encoding: 'utf8' });
  const good = run(conf);
  t.equal(good.status, 0, good.stderr);
  writeFileSync(conf, 'services:\n  - name: Bad\n');
  const bad = run(conf);
  t.equal(bad.status, 2, 'a bad file fails ExecStartPre / ExecReload before the SIGHUP');
  t.match(bad.stderr, 'field "name"');
});

function get(text: string, key: string): string[] {
  return directives(text)
    .filter(([k]) => k === key)
    .map(([, v]) => v);
}

t.test('systemd-sysusers creates the user the unit runs as', async (t) => {
  const root = join(work, 'root');
  mkdirSync(join(root, 'etc'), { recursive: true });
  const r = tool('systemd-sysusers', [`--root=${root}`, join(ROOT, 'docker', 'netbird-proxy.sysusers')]);
  t.equal(r.status, 0, r.stderr);
  const passwd = readFileSync(join(root, 'etc', 'passwd'), 'utf8');
  t.match(passwd, /^netbird-proxy:x:\d+:\d+:[^:]*:\/var\/lib\/netbird-proxy:\/usr\/sbin\/nologin$/m);
  t.match(readFileSync(join(root, 'etc', 'group'), 'utf8'), /^netbird-proxy:x:\d+:/m);
});

t.test('logrotate rotates the access log of a running daemon, which reopens it on SIGUSR2', async (t) => {
  const shipped = readFileSync(join(ROOT, 'docker', 'netbird-proxy.logrotate'), 'utf8');
  t.match(shipped, /postrotate\n\s+systemctl kill --kill-whom=main --signal=SIGUSR2 netbird-proxy\.service/, 'the shipped postrotate signals the main process');
  const logs = mkdtempSync(join(tmpdir(), 'nbp-logrotate-logs-'));
  const upstream = await startHttpUpstream();
  const daemon = await startDaemon({
    config: `services:\n  - name: web\n    protocol: http\n    domains: [web.example.com]\n    target: ${upstream.url}\n`,
    // The log directory exists beforehand, as the package creates /var/log/netbird-proxy.
    args: ['--access-log', join(logs, 'access.log')],
  });
  t.teardown(async () => {
    await daemon.stop();
    await upstream.close();
  });
  const file = join(logs, 'access.log');
  await httpGet(`${daemon.httpUrl}/before`, { host: 'web.example.com' });
  await until('condition holds', () => existsSync(file) && readFileSync(file, 'utf8').includes('"path":"/before"'), 5000);

  // The shipped file with three substitutions: this test's log directory, this user (instead of
  // the netbird-proxy system user) and a signal to this daemon instead of `systemctl kill`.
  const user = userInfo().username;
  const group = spawnSync('id', ['-gn'], { encoding: 'utf8' }).stdout.trim();
  const conf = shipped
    .replace('/var/log/netbird-proxy/', `${logs}/`)
    .replace(/netbird-proxy netbird-proxy/g, `${user} ${group}`)
    .replace(/systemctl kill .*$/m, `kill -USR2 ${daemon.child.pid ?? 0}`);
  t.not(conf, shipped);
  const confPath = join(work, 'logrotate.conf');
  writeFileSync(confPath, conf);
  const r = tool(existsSync('/usr/sbin/logrotate') ? '/usr/sbin/logrotate' : 'logrotate', ['--force', '--state', join(work, 'logrotate.state'), confPath]);
  t.equal(r.status, 0, `logrotate (Debian package logrotate): ${r.stderr}`);
  await daemon.waitFor((l) => l.msg === 'access log reopened');
  t.match(readFileSync(`${file}.1`, 'utf8'), '"path":"/before"', 'rotated to access.log.1 (not compressed yet: delaycompress)');
  await httpGet(`${daemon.httpUrl}/after`, { host: 'web.example.com' });
  await until('new entries go to the new access.log', () => readFileSync(file, 'utf8').includes('"path":"/after"'), 5000);
  t.notMatch(readFileSync(file, 'utf8'), '"path":"/before"');
  t.notMatch(readFileSync(`${file}.1`, 'utf8'), '"path":"/after"', 'nothing written to the rotated file after the signal');
});
