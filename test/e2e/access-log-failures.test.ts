// The --access-log file failing at run time (disk full: /dev/full) never stops the proxy: the
// failure is logged (rate-limited), counted in netbird_proxy_access_log_write_errors_total, and
// writing resumes once the path is writable again. Also: the start-up line names the env file.
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { httpGet, until } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { startHttpUpstream } from '../harness/upstreams';

const config = (target: string): string => `services:\n  - name: web\n    protocol: http\n    domains: [app.test]\n    target: ${target}\n`;

async function writeErrors(adminUrl: string): Promise<number> {
  const metrics = await httpGet(`${adminUrl}/metrics`);
  const m = /^netbird_proxy_access_log_write_errors_total (\d+)/m.exec(metrics.body);
  return m === null ? -1 : Number(m[1]);
}

t.test('disk full: the proxy serves on, logs and counts; writes resume when the path works again', async (t) => {
  if (!existsSync('/dev/full')) throw new Error('/dev/full is needed for this test (Linux)');
  const upstream = await startHttpUpstream();
  t.teardown(() => upstream.close());
  const dir = mkdtempSync(join(tmpdir(), 'nbp-alog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'access.log');
  symlinkSync('/dev/full', path);
  const d = await startDaemon({ config: config(upstream.url), args: ['--access-log', path] });
  t.teardown(() => d.stop());

  t.equal(await writeErrors(d.adminUrl), 0, 'counter exported at 0');
  for (let i = 0; i < 3; i++) t.equal((await httpGet(d.httpUrl, { host: 'app.test' })).status, 200, `request ${i} served`);
  const err = await d.waitFor((l) => l.msg === 'access log write failed: access lines are being dropped (the proxy keeps serving)', 5000, 'write failure line');
  t.equal(err.path, path, 'names the file');
  t.match(String(err.err), /ENOSPC|no space/i, 'says why');
  await until('the write error counted', async () => (await writeErrors(d.adminUrl)) >= 1, 5000);

  // More failures within the rate limit: still counted, not logged again.
  for (let i = 0; i < 3; i++) {
    t.equal((await httpGet(d.httpUrl, { host: 'app.test' })).status, 200, 'still served');
    await until('another write error counted', async () => (await writeErrors(d.adminUrl)) >= 2 + i, 3000);
  }
  t.ok((await writeErrors(d.adminUrl)) >= 2, 'later failures counted');
  t.equal(d.lines.filter((l) => l.msg === err.msg).length, 1, 'logged once within 10 s');

  // The path becomes a regular file (as after a fix or a rotation): the next batch lands there.
  rmSync(path);
  writeFileSync(path, '');
  t.equal((await httpGet(d.httpUrl, { host: 'app.test', headers: {} })).status, 200);
  await d.waitFor((l) => l.msg === 'access log writes resumed', 5000, 'resumed line');
  await until('access lines written again', () => readFileSync(path, 'utf8').includes('"msg":"access"'), 5000);
  t.equal(d.child.exitCode, null, 'never stopped');
});

t.test('the start-up line names the env file, how many NB_PROXY_ variables it set, and CrowdSec', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-envlog-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const envFile = join(dir, 'proxy.env');
  writeFileSync(envFile, 'NB_PROXY_UPSTREAM_TIMEOUT=7s\nNB_PROXY_HEADER_TIMEOUT=9s\nOTHER=secret-other-value\n');
  const d = await startDaemon({ config: config('http://127.0.0.1:9'), args: ['--proxy-env', envFile] });
  t.teardown(() => d.stop());
  const line = await d.waitFor((l) => l.msg === 'netbird-proxy starting');
  t.equal(line.env_file, envFile);
  t.equal(line.env_file_vars, 2, 'two NB_PROXY_ variables');
  t.equal(line.crowdsec, 'not configured');
  t.notMatch(d.output(), /secret-other-value|7s|9s/, 'no values logged');
});
