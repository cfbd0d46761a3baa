// --log-format: JSON lines with ISO times and level names off a terminal (the access line keeps
// its shape), pino-pretty on a terminal or when asked, colour only on a terminal without NO_COLOR.
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { httpGet, until } from '../harness/clients';
import { BIN, runBinary } from '../harness/daemon';
import { httpFixture } from '../harness/fixture';
import { freePort } from '../harness/ports';
import { runOnTerminal } from '../harness/pty';
import { startHttpUpstream } from '../harness/upstreams';

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
const ESC = '\x1b[';

t.test('json (not a terminal): operational lines have an ISO time and the level name; access lines are unchanged', async (t) => {
  const { daemon } = await httpFixture(t);
  const listening = await daemon.waitFor((l) => l.msg === 'netbird-proxy listening');
  t.equal(listening.level, 'info');
  t.match(String(listening.time), ISO);
  await httpGet(`${daemon.httpUrl}/x`, { host: 'app.example.com' });
  await daemon.waitFor((l) => l.msg === 'access');
  t.match(daemon.output(), /^\{"level":30,"time":\d{13},"service":"web","protocol":"http",/m, 'access line: the same fields in the same order');
  t.match(daemon.output(), /^\{"level":"info","time":"\d{4}-[^"]+Z",.*"msg":"netbird-proxy listening"\}$/m);
});

t.test('--log-format pretty: one readable line per event, access entries included; no colour off a terminal', async (t) => {
  const upstream = await startHttpUpstream();
  t.teardown(() => upstream.close());
  const dir = mkdtempSync(join(tmpdir(), 'nbp-pretty-'));
  writeFileSync(join(dir, 's.yaml'), `services:\n  - { name: web, protocol: http, domains: [app.example.com], target: "${upstream.url}" }\n`);
  const httpPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      BIN,
      '--config',
      join(dir, 's.yaml'),
      '--proxy-env',
      '/dev/null',
      '--http-addr',
      `127.0.0.1:${httpPort}`,
      '--admin-addr',
      `127.0.0.1:${await freePort()}`,
      '--log-format',
      'pretty',
    ],
    { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
  });
  await until('the listening line', () => out.includes('INFO: netbird-proxy listening'), 30_000);
  t.match(out, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO: netbird-proxy listening \{"http_addr":"127\.0\.0\.1:\d+",/m);
  await httpGet(`http://127.0.0.1:${httpPort}/p`, { host: 'app.example.com' });
  await until('the access line', () => out.includes('INFO: access'));
  t.match(out, /^\[[\d\- :.]+\] INFO: access \{"service":"web","protocol":"http",.*"path":"\/p",.*"status":200,/m);
  t.notOk(out.includes(ESC), 'no colour codes on a pipe');
});

t.test('a bad --log-format is one line, exit 2', async (t) => {
  const r = await runBinary(['validate', '--config', 'config/services.yaml', '--log-format', 'xml', '--proxy-env', '/dev/null']);
  t.equal(r.stderr, 'netbird-proxy: --log-format / NB_PROXY_LOG_FORMAT: "xml" is not json or pretty\n');
  t.equal(r.code, 2);
});

t.test('on a terminal the default is pretty with colour; NO_COLOR keeps it pretty without colour', async (t) => {
  // A busy --http-addr: the proxy logs its first lines, then stops by itself (exit 2).
  const busy = createServer();
  const port = await freePort();
  await new Promise<void>((resolve) => busy.listen(port, '127.0.0.1', resolve));
  t.teardown(() => busy.close());
  const args = [
    '--config',
    'config/services.yaml',
    '--proxy-env',
    '/dev/null',
    '--http-addr',
    `127.0.0.1:${port}`,
    '--admin-addr',
    `127.0.0.1:${await freePort()}`,
  ];
  const colour = await runOnTerminal(args);
  t.equal(colour.code, 2);
  t.match(colour.output, /INFO.*: .*netbird-proxy starting/);
  t.ok(colour.output.includes(ESC), 'colour on a terminal');
  t.notMatch(colour.output, /"level":/, 'not JSON');
  const plain = await runOnTerminal(args, { NO_COLOR: '1' });
  t.match(plain.output, /^\[[\d\- :.]+\] INFO: netbird-proxy starting \{/m);
  t.notOk(plain.output.includes(ESC), 'NO_COLOR: no colour');
});
