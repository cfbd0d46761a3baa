// Which env file a local run reads, and `status` reading the same one: the start-up line says
// which file was loaded and why; status takes the admin address and token from it, and on 401
// says how to pass a token.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { BIN, REPO_ROOT, startDaemon } from '../harness/daemon';
import { freePort } from '../harness/ports';
import { runOnTerminal } from '../harness/pty';

function run(args: string[], cwd: string, env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c));
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c));
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const CONFIG = join(REPO_ROOT, 'config', 'services.yaml');

t.test('the start-up line names the env file and why it was read', async (t) => {
  // A busy --http-addr: the proxy logs its start-up line, then stops by itself (exit 2).
  const busy = createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const args = ['--config', CONFIG, '--http-addr', `127.0.0.1:${port}`, '--admin-addr', `127.0.0.1:${await freePort()}`, '--log-format', 'json'];
  const starting = (out: string): Record<string, unknown> =>
    JSON.parse(out.split('\n').find((l) => l.includes('"msg":"netbird-proxy starting"')) ?? '{}') as Record<string, unknown>;

  const empty = mkdtempSync(join(tmpdir(), 'nbp-noenv-'));
  const none = await run(args, empty);
  t.equal(none.code, 2);
  t.match(starting(none.stdout), { env_file: null, env_file_vars: 0, env_file_reason: `none: no --proxy-env and no ./proxy.env in ${empty}` });

  const withFile = mkdtempSync(join(tmpdir(), 'nbp-env-'));
  writeFileSync(join(withFile, 'proxy.env'), 'NB_PROXY_LOG_LEVEL=info\n');
  const found = await run(args, withFile);
  t.match(starting(found.stdout), {
    env_file: 'proxy.env',
    env_file_vars: 1,
    env_file_reason: `./proxy.env in ${withFile} exists (the default; --proxy-env names another)`,
  });

  const given = await run([...args, '--proxy-env', join(withFile, 'proxy.env')], empty);
  t.match(starting(given.stdout), { env_file: join(withFile, 'proxy.env'), env_file_reason: 'given with --proxy-env / --env-file' });
});

t.test('status: 401 says how to pass the token; the token is read from the env file the proxy reads', async (t) => {
  const token = 'status-test-token-0123456789';
  const daemon = await startDaemon({ config: 'services: []\n', args: ['--admin-token', token] });
  t.teardown(() => daemon.stop());
  const addr = `127.0.0.1:${daemon.adminPort}`;

  const empty = mkdtempSync(join(tmpdir(), 'nbp-status-'));
  const refused = await run(['status', '--admin-addr', addr], empty);
  t.equal(refused.code, 1);
  t.equal(
    refused.stderr,
    `netbird-proxy status: http://${addr}/status answered 401 (the proxy has an admin token and no token was found (not in --admin-token, NB_PROXY_ADMIN_TOKEN or an env file: no ./proxy.env here)): pass it with --admin-token <token>, NB_PROXY_ADMIN_TOKEN=<token>, or --proxy-env <the env file the proxy reads>\n`,
  );
  const wrong = await run(['status', '--admin-addr', addr, '--admin-token', 'x'.repeat(20)], empty);
  t.match(wrong.stderr, /answered 401 \(the proxy has an admin token and the token sent was refused\)/);

  // ./proxy.env in the working directory, as the daemon reads it: address and token from it.
  const dir = mkdtempSync(join(tmpdir(), 'nbp-status-env-'));
  writeFileSync(join(dir, 'proxy.env'), `NB_PROXY_ADMIN_ADDR=${addr}\nNB_PROXY_ADMIN_TOKEN=${token}\n`);
  const local = await run(['status'], dir);
  t.equal(local.code, 0, local.stderr);
  t.match(local.stdout, /^Readiness: ready$/m);
  t.notOk(local.stdout.includes('\x1b['), 'no colour on a pipe');

  const flagged = await run(['status', '--proxy-env', join(dir, 'proxy.env')], empty);
  t.equal(flagged.code, 0, flagged.stderr);

  const coloured = await runOnTerminal(['status', '--proxy-env', join(dir, 'proxy.env')]);
  t.match(coloured.output, 'Readiness: \x1b[32mready\x1b[0m', 'on a terminal: ready in green');
  const plain = await runOnTerminal(['status', '--proxy-env', join(dir, 'proxy.env')], { NO_COLOR: '1' });
  t.match(plain.output, /^Readiness: ready$/m, 'NO_COLOR: none');
});

t.test('validate on a terminal: OK in green, warnings in yellow; NO_COLOR and pipes get none', async (t) => {
  const args = ['validate', '--config', CONFIG, '--proxy-env', '/dev/null'];
  const coloured = await runOnTerminal(args);
  t.equal(coloured.code, 0);
  t.match(coloured.output, `${CONFIG}: \x1b[32mOK\x1b[0m, 2 services`);
  const plain = await runOnTerminal(args, { NO_COLOR: '1' });
  t.match(plain.output, `${CONFIG}: OK, 2 services`);
});
