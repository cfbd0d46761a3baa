// The admin listener under hostile input (issue 21, findings 3 and 8): malformed request targets,
// services.yaml behind a symlink, sessions, and event-stream clients that never read.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../harness/daemon';
import { httpGet, until } from '../harness/clients';
import { startHttpUpstream } from '../harness/upstreams';

const config = (target: string): string =>
  `services:\n  - name: app\n    protocol: http\n    domains: [app.example.com]\n    target: ${target}\n    access: { crowdsec: off }\n`;

// CrowdSec counts as configured (nothing listens on port 1); these tests are about the admin listener.
const CROWDSEC_ARGS = ['--crowdsec-api-url', 'http://127.0.0.1:1', '--crowdsec-api-key', 'unused'];

/** Sends `head` as written (no URL handling on our side) and returns the status line's code and the body. */
function rawAdmin(port: number, head: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let text = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.end(head));
    socket.on('data', (c: string) => (text += c));
    socket.on('error', reject);
    socket.on('close', () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), text }));
  });
}

t.test('malformed admin request targets get 400; the process goes on', async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({ config: config(upstream.url) });
  t.teardown(async () => {
    await d.stop();
    await upstream.close();
  });
  const csrf = String((JSON.parse((await httpGet(`${d.adminUrl}/api/session`)).body) as { csrf_token: string }).csrf_token);
  const host = `127.0.0.1:${d.adminPort}`;
  const put = (path: string) =>
    `PUT ${path} HTTP/1.1\r\nHost: ${host}\r\nX-CSRF-Token: ${csrf}\r\nContent-Type: application/json\r\nContent-Length: 16\r\nConnection: close\r\n\r\n{"mode":"off"}\r\n`;
  const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\n\r\n`;
  const cases: Array<[string, string]> = [
    ['a truncated escape in a service name', put('/api/services/%E0%A4%A/crowdsec')],
    ['escapes that are not UTF-8', put('/api/services/%E0%A4/crowdsec')],
    ['a lone surrogate', put('/api/services/%ED%A0%80/crowdsec')],
    ['a bare %', put('/api/services/a%/crowdsec')],
    ['a bad escape in a GET', get('/api/events%zz')],
    ['a bad escape in a probe', get('/healthz%')],
    ['an absolute-form target', get('http://[::1/x')],
    ['an asterisk', get('*')],
    ['a network-path reference', get('//evil.example/api/services')],
  ];
  for (const [what, head] of cases) {
    const res = await rawAdmin(d.adminPort, head);
    t.equal(res.status, 400, what);
  }
  t.equal((await httpGet(`${d.adminUrl}/healthz`)).status, 200, 'still serving');
  t.equal(d.child.exitCode, null, 'the process is alive');
  t.notOk(
    d.lines.some((l) => l.msg === 'netbird-proxy crashed' || l.msg === 'admin request failed'),
    'nothing reached the boundary: every case is a plain 400',
  );
  const ok = await httpGet(`${d.adminUrl}/api/services/app/crowdsec`, {
    method: 'PUT',
    headers: { 'x-csrf-token': csrf, 'content-type': 'application/json' },
    body: '{"mode":"off"}',
  });
  t.equal(ok.status, 200, 'a well-formed edit still works');
  const metrics = (await httpGet(`${d.adminUrl}/metrics`)).body;
  t.match(metrics, /# TYPE netbird_proxy_request_errors_total counter/, 'the boundary counter is exported');
  await until('no crash', () => d.child.exitCode === null);
});

t.test('a UI edit writes through a symlinked services.yaml and keeps owner, group and mode', async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({ config: config(upstream.url), args: CROWDSEC_ARGS });
  t.teardown(async () => {
    await d.stop();
    await upstream.close();
  });
  // The real file lives elsewhere (a config repository); services.yaml is a link to it.
  const realDir = mkdtempSync(join(tmpdir(), 'nbp-real-'));
  t.teardown(() => rmSync(realDir, { recursive: true, force: true }));
  const real = join(realDir, 'proxy-services.yaml');
  renameSync(d.configPath, real);
  symlinkSync(real, d.configPath);
  chmodSync(real, 0o640);
  const asRoot = process.getuid?.() === 0;
  // As root the test gives the file to another user and group; otherwise to one of our own groups.
  const [uid, gid] = asRoot ? [4321, 4322] : [process.getuid?.() ?? 0, (process.getgroups?.() ?? [0]).at(-1) ?? 0];
  chownSync(real, uid, gid);

  const session = JSON.parse((await httpGet(`${d.adminUrl}/api/session`)).body) as { csrf_token: string };
  const res = await httpGet(`${d.adminUrl}/api/services/app/crowdsec`, {
    method: 'PUT',
    headers: { 'x-csrf-token': session.csrf_token, 'content-type': 'application/json' },
    body: '{"mode":"observe"}',
  });
  t.equal(res.status, 200, res.body);
  t.ok(lstatSync(d.configPath).isSymbolicLink(), 'services.yaml is still a link');
  t.equal(readlinkSync(d.configPath), real, 'to the same file');
  t.match(readFileSync(real, 'utf8'), /crowdsec: observe/, 'the real file has the change');
  const st = statSync(real);
  t.equal(st.mode & 0o777, 0o640, 'mode kept');
  t.equal(st.uid, uid, 'owner kept');
  t.equal(st.gid, gid, 'group kept');
  t.same(
    readdirSync(realDir).filter((n) => n.endsWith('.tmp')),
    [],
    'no temp file left beside the real file',
  );
  t.same(
    readdirSync(d.dir).filter((n) => n.endsWith('.tmp')),
    [],
    'none beside the link',
  );
  // A later edit of the real file is what the proxy runs.
  writeFileSync(real, readFileSync(real, 'utf8').replace('crowdsec: observe', 'crowdsec: enforce'));
  await until('the hand edit of the real file is applied', async () => {
    const list = JSON.parse((await httpGet(`${d.adminUrl}/api/services`)).body) as { services: { access: { crowdsec: string } }[] };
    return list.services[0]?.access.crowdsec === 'enforce';
  });
});

t.test('sessions: logout revokes the cookie on the server; a restart (or a new token) revokes them all', async (t) => {
  const TOKEN = 'hardening-token-0123456789abcdef';
  const upstream = await startHttpUpstream();
  t.teardown(() => upstream.close());
  const start = (token: string) => startDaemon({ config: config(upstream.url), args: ['--admin-token', token] });
  let d = await start(TOKEN);
  t.teardown(() => d.stop());
  const login = async (): Promise<string> => {
    const res = await httpGet(`${d.adminUrl}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${encodeURIComponent(TOKEN)}`,
    });
    t.equal(res.status, 303);
    const setCookie = String(res.headers['set-cookie']);
    t.match(setCookie, /; Max-Age=\d+/, 'the cookie has an expiry');
    t.ok(Number(/Max-Age=(\d+)/.exec(setCookie)?.[1]) <= 12 * 3600, 'of at most 12 hours');
    return setCookie.split(';')[0] ?? '';
  };
  const sessionStatus = async (cookie: string) => (await httpGet(`${d.adminUrl}/api/session`, { headers: { cookie } })).status;

  const first = await login();
  const second = await login();
  t.not(first, second, 'every login is a new session');
  t.equal(await sessionStatus(first), 200);
  // The browser signs out; someone who copied the cookie before keeps sending it.
  const out = await httpGet(`${d.adminUrl}/logout`, { method: 'POST', headers: { cookie: first } });
  t.equal(out.status, 303);
  t.match(String(out.headers['set-cookie']), /Max-Age=0/);
  const copied = await httpGet(`${d.adminUrl}/api/session`, { headers: { cookie: first } });
  t.equal(copied.status, 401, 'the copied cookie is refused after logout');
  t.match(JSON.parse(copied.body), { error: /expired or was signed out/ });
  t.equal(await sessionStatus(second), 200, 'another session is not affected');

  // A CSRF token belongs to its session.
  const csrfOf = async (cookie: string) =>
    (JSON.parse((await httpGet(`${d.adminUrl}/api/session`, { headers: { cookie } })).body) as { csrf_token: string }).csrf_token;
  const third = await login();
  t.not(await csrfOf(third), await csrfOf(second), 'each session has its own CSRF token');

  await d.stop();
  d = await start(TOKEN);
  t.equal(await sessionStatus(second), 401, 'a restart with the same token revokes the old sessions');
  await d.stop();
  d = await start('another-token-0123456789abcdef');
  t.equal(await sessionStatus(third), 401, 'and so does a new token');
});

/** An event-stream client that reads its headers, then stops reading (its socket is paused). */
function stalledStream(port: number): Promise<{ socket: net.Socket; head: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let head = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('connect', () => socket.write(`GET /api/events/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`));
    const onData = (c: string): void => {
      head += c;
      if (!head.includes('\r\n\r\n')) return;
      socket.off('data', onData);
      socket.pause();
      resolve({ socket, head });
    };
    socket.on('data', onData);
  });
}

t.test('event-stream clients are capped in number and in unsent bytes', { timeout: 60_000 }, async (t) => {
  const upstream = await startHttpUpstream();
  const d = await startDaemon({ config: config(upstream.url) });
  const streams: net.Socket[] = [];
  t.teardown(async () => {
    for (const s of streams) s.destroy();
    await d.stop();
    await upstream.close();
  });
  for (let i = 0; i < 16; i++) {
    const s = await stalledStream(d.adminPort);
    t.match(s.head, /^HTTP\/1\.1 200/, `stream ${i + 1} is served`);
    streams.push(s.socket);
  }
  const refused = await httpGet(`${d.adminUrl}/api/events/stream`);
  t.equal(refused.status, 503, 'one more is refused');
  t.match(JSON.parse(refused.body), { error: /too many event-stream clients \(16 open\)/ });
  t.equal(refused.headers['retry-after'], '10');

  // Traffic with long paths fills the kernel's buffers of the clients that do not read, then the
  // proxy's; past the cap each of them is dropped, and the slots are free again.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  t.teardown(() => agent.destroy());
  const long = `/${'x'.repeat(6000)}`;
  const request = () =>
    new Promise<void>((resolve, reject) => {
      http
        .get(`${d.httpUrl}${long}`, { agent, headers: { host: 'app.example.com' } }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });
  let sent = 0;
  while (d.lines.filter((l) => l.msg === 'admin event stream: a client that does not read was dropped').length < 16) {
    if (sent > 20_000) throw new Error('the stalled clients were never dropped');
    await Promise.all([request(), request(), request(), request()]);
    sent += 4;
  }
  const dropped = d.lines.find((l) => l.msg === 'admin event stream: a client that does not read was dropped');
  t.match(dropped, { level: 'warn', remote: '127.0.0.1', unsent_bytes: Number }, 'each drop is logged');
  await until('a new stream is served again', async () => {
    const s = await stalledStream(d.adminPort);
    streams.push(s.socket);
    return s.head.startsWith('HTTP/1.1 200');
  });
  t.equal(d.child.exitCode, null, 'the process is alive');
});

/** The status code of a GET, read from the response head only (an event stream never ends). */
function statusOf(url: string, headers: Record<string, string> = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent: false, headers }, (res) => {
      resolve(res.statusCode ?? 0);
      req.destroy();
    });
    req.on('error', reject);
  });
}

t.test('with --admin-token, the event stream and writes need credentials', { timeout: 30_000 }, async (t) => {
  const TOKEN = 'stream-token-0123456789abcdef';
  const upstream = await startHttpUpstream();
  const d = await startDaemon({ config: config(upstream.url), args: ['--admin-token', TOKEN, ...CROWDSEC_ARGS] });
  t.teardown(async () => {
    await d.stop();
    await upstream.close();
  });
  t.equal(await statusOf(`${d.adminUrl}/api/events/stream`), 401, 'the live stream (client IPs, paths) without a token');
  t.equal(await statusOf(`${d.adminUrl}/api/events/stream?outcome=denied`), 401, 'with a query');
  t.equal(await statusOf(`${d.adminUrl}/api/events/stream`, { cookie: 'nbp_session=forged' }), 401, 'with a forged cookie');
  t.equal(await statusOf(`${d.adminUrl}/api/events/stream`, { authorization: `Bearer ${TOKEN}` }), 200, 'with the token');
  const before = readFileSync(d.configPath, 'utf8');
  const write = await httpGet(`${d.adminUrl}/api/services/app/crowdsec`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: '{"mode":"observe"}',
  });
  t.equal(write.status, 401, 'a write without credentials');
  t.equal(readFileSync(d.configPath, 'utf8'), before, 'services.yaml untouched');
  const forged = await httpGet(`${d.adminUrl}/api/services/app/crowdsec`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', cookie: 'nbp_session=forged', 'x-csrf-token': 'forged' },
    body: '{"mode":"observe"}',
  });
  t.equal(forged.status, 401, 'a write with a forged session');
  t.equal(readFileSync(d.configPath, 'utf8'), before, 'services.yaml still untouched');
});
