// The README's quick start, run as written against the shipped config/services.yaml: the real
// binary started by the README's own command line (through sh), and the README's two curl lines
// run by the real curl. Uses the README's fixed ports, so it holds a machine-wide lock.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import t from 'tap';
import { REPO_ROOT } from '../harness/repo-root';
import { acquireMachineLock } from '../harness/machine-lock';

const README = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const block = README.slice(README.indexOf('<!-- quick-start:begin'), README.indexOf('<!-- quick-start:end -->'));
const shellLines = [...block.matchAll(/```sh\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n')).filter((l) => l.trim() !== '');
const command = (l: string): string => l.replace(/\s+#.*$/, '').trim();

const UPSTREAM_BODY = 'hello from 127.0.0.1:3000\n';

t.test('README quick start against the shipped config', async (t) => {
  t.ok(block.length > 0, 'README has the quick-start block');
  const run = shellLines.find((l) => command(l) === 'node bin/netbird-proxy --config config/services.yaml');
  t.ok(run, 'the run line is as tested');
  t.ok(
    shellLines.some((l) => command(l) === 'npm ci && npm run build'),
    'the install line',
  );
  t.ok(
    shellLines.some((l) => command(l) === 'npm test'),
    'the test line',
  );
  const curls = shellLines.filter((l) => l.startsWith('curl '));
  t.equal(curls.length, 2, 'two curl lines');
  if (run === undefined || curls.length !== 2) return;
  if (spawnSync('curl', ['--version']).error !== undefined) throw new Error('curl (Debian package curl) is needed: the quick start uses it');

  const release = await acquireMachineLock('quick-start', 10 * 60_000);
  t.teardown(release);

  // The shipped web service's target.
  const upstream = http.createServer((_req, res) => res.end(UPSTREAM_BODY));
  await new Promise<void>((resolve, reject) => {
    upstream.once('error', reject);
    upstream.listen(3000, '127.0.0.1', resolve);
  });
  t.teardown(() => upstream.close());

  const proxy = spawn('sh', ['-c', `exec ${command(run)}`], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  proxy.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  proxy.stderr.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise<number | null>((resolve) => proxy.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    proxy.kill('SIGTERM');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes('"msg":"netbird-proxy listening"')) {
        clearInterval(check);
        resolve();
      }
    }, 50);
    void exited.then((code) => {
      clearInterval(check);
      reject(new Error(`the proxy exited (${code}):\n${out}`));
    });
  });

  const listening = JSON.parse(out.split('\n').find((l) => l.includes('"msg":"netbird-proxy listening"')) ?? '{}') as Record<string, unknown>;
  t.match(listening, { http_addr: '0.0.0.0:8080', admin_addr: '127.0.0.1:9090' }, 'the listening line names both listeners');
  t.equal(listening.tcp, undefined, 'the shipped config binds no tcp listener');

  // Asynchronous: the upstream answering the first curl runs in this process.
  const curl = (line: string): Promise<{ status: number | null; stdout: string }> =>
    new Promise((resolve) => {
      const c = spawn('sh', ['-c', command(line)], { stdio: ['ignore', 'pipe', 'inherit'] });
      let stdout = '';
      const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
      c.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      c.once('exit', (status) => {
        clearTimeout(timer);
        resolve({ status, stdout });
      });
    });
  const first = await curl(curls[0]);
  t.equal(first.status, 0, 'first curl succeeds');
  t.equal(first.stdout, UPSTREAM_BODY, "the first curl gets the upstream's answer");
  t.match(curls[0], /upstream's answer/, 'as the README says');

  const second = await curl(curls[1]);
  t.equal(second.status, 0, 'second curl runs');
  t.equal(second.stdout, 'Forbidden', 'the second curl is refused');
  t.match(curls[1], /# 403 Forbidden/, 'as the README says');
  t.match(block, /"deny_reason":"ip_restricted"/, 'the README names the deny reason');
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (/"client_ip":"127\.0\.0\.2".*"deny_reason":"ip_restricted"/.test(out)) {
        clearInterval(check);
        resolve();
      }
    }, 50);
  });
  t.pass('the access log on stdout shows deny_reason ip_restricted for 127.0.0.2');
  t.match(out, /"client_ip":"127\.0\.0\.1".*"status":200.*"deny_reason":""/, 'and the first request went through');
});
