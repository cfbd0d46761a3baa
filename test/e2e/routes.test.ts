// Routes and several targets end to end: real backends on their own 127.x addresses, the real
// binary, real HTTP, WebSocket and TCP clients. Each policy's distribution, a target killed
// mid-run (passive) and failing its probes (active), recovery, backups, retries (GET retried, a
// POST never sent twice: the backends' own counters show it), path rewrite, headers, a per-route
// access override, WebSocket and TCP through pools, /status, /metrics, and a reload under load.
import t from 'tap';
import WebSocket from 'ws';
import { runBinary, startDaemon, type LogLine } from '../harness/daemon';
import { httpGet, tcpExchange, until } from '../harness/clients';
import { deadPort, startBackend, startNamedTcp, type Backend } from '../harness/backends';
import { freePort } from '../harness/ports';

interface Seen {
  name: string;
  method: string;
  url: string;
  headers: Record<string, string>;
}

const hosts = (n: number): string[] => Array.from({ length: n }, (_, i) => `127.0.${10 + i}.1`);

t.test('routes, balancing, health, retries', async (t) => {
  const [h1, h2, h3, h4, h5, h6, h7, h8] = hosts(8) as [string, string, string, string, string, string, string, string];
  const a = await startBackend('a', h1);
  const b = await startBackend('b', h2);
  const c = await startBackend('c', h3);
  const d = await startBackend('d', h4);
  const killed = await startBackend('killed', h5);
  const spare = await startBackend('spare', h6);
  const probed = await startBackend('probed', h7);
  const steady = await startBackend('steady', h8);
  const primary = await startBackend('primary', h1);
  const backup = await startBackend('backup', h2);
  const resetter = await startBackend('resetter', h3);
  const answerer = await startBackend('answerer', h4);
  const all: Backend[] = [a, b, c, d, killed, spare, probed, steady, primary, backup, resetter, answerer];
  // Resets every request before any byte of an answer.
  resetter.handler = (req) => {
    req.socket.destroy();
    return true;
  };
  answerer.handler = (req) => {
    if (req.method !== 'POST') return false;
    req.socket.destroy();
    return true;
  };
  const t1 = await startNamedTcp('t1', h1);
  const t2 = await startNamedTcp('t2', h2);
  const tcpPort = await freePort();

  const config = (extraTargets = ''): string => `services:
  - name: rr
    protocol: http
    domains: [rr.test]
    targets: [${a.url}, ${b.url}, ${c.url}${extraTargets}]
  - name: weighted
    protocol: http
    domains: [weighted.test]
    targets: [${a.url}, { url: ${b.url}, weight: 3 }]
  - name: hashed
    protocol: http
    domains: [hashed.test]
    targets: [${a.url}, ${b.url}, ${c.url}, ${d.url}]
    balance: ip_hash
  - name: sticky
    protocol: http
    domains: [sticky.test]
    targets: [${a.url}, ${b.url}]
    balance: cookie
  - name: least
    protocol: http
    domains: [least.test]
    targets: [${c.url}, ${d.url}]
    balance: least_conn
  - name: passive
    protocol: http
    domains: [passive.test]
    targets: [${killed.url}, ${spare.url}]
    health: { fail_timeout: 1s }
  - name: active
    protocol: http
    domains: [active.test]
    targets: [${probed.url}, ${steady.url}${extraTargets}]
    health: { path: /healthz, interval: 500ms, timeout: 500ms, healthy: 2, unhealthy: 3 }
  - name: backups
    protocol: http
    domains: [backups.test]
    targets: [${primary.url}, { url: ${backup.url}, backup: true }]
    health: { fail_timeout: 1m }
  - name: retries
    protocol: http
    domains: [retries.test]
    targets: [${resetter.url}, ${answerer.url}]
    health: { max_fails: 0 }
  - name: paths
    protocol: http
    domains: [paths.test]
    target: ${a.url}
    routes:
      - path: /api/
        target: ${b.url}
        strip_prefix: true
        headers: { set: { X-Env: prod }, remove: [X-Debug] }
      - path: /v1/
        target: ${c.url}
        rewrite: /v2/
      - path: /admin/
        access: { cidr: { allow: [127.0.0.5/32] } }
      - path: /ws/
        target: ${d.url}
  - name: tcp2
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    targets: [127.0.10.1:${t1.port}, 127.0.11.1:${t2.port}]
    health: { interval: 500ms, timeout: 500ms, unhealthy: 2 }
`;
  const daemon = await startDaemon({ config: config() });
  t.teardown(async () => {
    await daemon.stop();
    for (const x of all) await x.stop();
    await t1.close();
    await t2.close();
  });
  const get = (host: string, path = '/', opts: { from?: string; headers?: Record<string, string>; method?: string; body?: string } = {}) =>
    httpGet(`${daemon.httpUrl}${path}`, { host, ...opts });
  const nameOf = async (host: string, path = '/', opts: { from?: string; headers?: Record<string, string> } = {}): Promise<string> => {
    const res = await get(host, path, opts);
    if (res.status !== 200) return `status ${res.status}`;
    return (JSON.parse(res.body) as Seen).name;
  };

  await t.test('round robin: exact rotation over equal targets', async (t) => {
    const names: string[] = [];
    for (let i = 0; i < 30; i++) names.push(await nameOf('rr.test'));
    t.same(names.slice(0, 3), ['a', 'b', 'c']);
    for (let i = 3; i < 30; i++) t.equal(names[i], names[i - 3], `request ${i} continues the rotation`);
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.service === 'rr' && l.upstream === b.url);
    t.match(entry, { route: 'default', upstream: b.url, status: 200 });
  });

  await t.test('weights: 1 and 3 share 40 requests as 10 and 30 (±2)', async (t) => {
    const counts: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const n = await nameOf('weighted.test');
      counts[n] = (counts[n] ?? 0) + 1;
    }
    t.ok(Math.abs((counts['a'] ?? 0) - 10) <= 2, `a got ${counts['a']}`);
    t.ok(Math.abs((counts['b'] ?? 0) - 30) <= 2, `b got ${counts['b']}`);
  });

  await t.test('ip_hash: each client keeps its target; clients spread over several', async (t) => {
    const chosen = new Set<string>();
    for (let i = 2; i <= 9; i++) {
      const from = `127.0.0.${i}`;
      const first = await nameOf('hashed.test', '/', { from });
      for (let j = 0; j < 4; j++) t.equal(await nameOf('hashed.test', '/', { from }), first, `${from} stays on ${first}`);
      chosen.add(first);
    }
    t.ok(chosen.size >= 2, `8 clients over ${chosen.size} targets`);
  });

  await t.test('cookie: a signed opaque cookie keeps the client on its target, falls back when it goes', async (t) => {
    const first = await get('sticky.test');
    const setCookie = first.headers['set-cookie']?.[0] ?? '';
    t.match(setCookie, /^nbp_sticky=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax$/);
    t.notMatch(setCookie, /127\.0|:\d{4,5}/, 'the cookie does not name the address');
    const cookie = setCookie.split(';')[0] as string;
    const home = (JSON.parse(first.body) as Seen).name;
    for (let i = 0; i < 10; i++) {
      const res = await get('sticky.test', '/', { headers: { cookie: `x=1; ${cookie}` } });
      t.equal((JSON.parse(res.body) as Seen).name, home);
      t.equal(res.headers['set-cookie'], undefined, 'a valid cookie is not set again');
    }
    const forged = await get('sticky.test', '/', { headers: { cookie: 'nbp_sticky=AAAAAAAAAAAAAAAAAAAAAA' } });
    t.equal(forged.status, 200);
    t.ok(forged.headers['set-cookie'], 'a forged cookie is replaced');
    const gone = home === 'a' ? a : b;
    await gone.stop();
    const moved = await get('sticky.test', '/', { headers: { cookie } });
    t.equal(moved.status, 200, 'the request is retried on the other target');
    t.not((JSON.parse(moved.body) as Seen).name, home);
    const again = await get('sticky.test', '/', { headers: { cookie } });
    t.not((JSON.parse(again.body) as Seen).name, home, 'the stale cookie falls back while its target is down');
    t.match(again.headers['set-cookie']?.[0], /^nbp_sticky=/, 'and the client gets a cookie for its new target');
    await gone.start();
  });

  await t.test('least_conn: a slow request keeps its target busy', async (t) => {
    c.handler = (req, res) => {
      if (req.url !== '/slow') return false;
      setTimeout(() => res.end('slow'), 500);
      return true;
    };
    d.handler = c.handler;
    // The first request goes to one of them and stays in flight; all the next ones go to the other.
    const slow = get('least.test', '/slow');
    await until('the slow request reached a target', () => c.seen.includes('GET /slow') || d.seen.includes('GET /slow'));
    const busy = c.seen.includes('GET /slow') ? 'c' : 'd';
    for (let i = 0; i < 5; i++) t.not(await nameOf('least.test'), busy);
    t.equal((await slow).status, 200);
    c.handler = undefined;
    d.handler = undefined;
  });

  await t.test('passive: a target killed mid-run costs no client request, and comes back', async (t) => {
    const results: number[] = [];
    for (let i = 0; i < 6; i++) results.push((await get('passive.test')).status);
    await killed.stop();
    for (let i = 0; i < 10; i++) results.push((await get('passive.test')).status);
    t.same(
      results.filter((s) => s !== 200),
      [],
      'every request answered (the one that met the dead target was retried)',
    );
    const down = await daemon.waitFor((l) => l.msg === 'upstream target marked down' && l.service === 'passive');
    t.match(down, { upstream: killed.url, kind: 'refused' });
    const retried = await daemon.waitFor((l) => l.msg === 'upstream request retried on another target' && l.service === 'passive');
    t.match(retried, { upstream: killed.url, next: spare.url });
    const before = killed.seen.length;
    await killed.start();
    await until('the revived target gets traffic again after fail_timeout', async () => {
      await get('passive.test');
      return killed.seen.length > before;
    });
  });

  await t.test('active: probes take a target down within interval × unhealthy, and bring it back', async (t) => {
    probed.health = 503;
    await daemon.waitFor((l) => l.msg === 'upstream target marked down (active health check)' && l.upstream === probed.url, 15_000);
    const before = probed.seen.length;
    for (let i = 0; i < 6; i++) t.equal(await nameOf('active.test'), 'steady');
    t.equal(probed.seen.length, before, 'no request reaches the target marked down');
    const status = JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as {
      services: Array<{ name: string; routes?: Array<{ route: string; targets: Array<{ target: string; health: string; down_reason?: string }> }> }>;
    };
    const svc = status.services.find((s) => s.name === 'active');
    t.match(svc?.routes?.[0], {
      route: 'default',
      targets: [
        { target: probed.url, health: 'down', down_reason: 'probe' },
        { target: steady.url, health: 'up' },
      ],
    });
    const metrics = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
    t.match(metrics, `netbird_proxy_upstream_health{service="active",route="default",target="${probed.url}"} 0`);
    t.match(metrics, `netbird_proxy_upstream_health{service="active",route="default",target="${steady.url}"} 1`);
    const cli = await runBinary(['status', '--admin-addr', `127.0.0.1:${daemon.adminPort}`]);
    t.match(
      cli.stdout,
      new RegExp(`^ *active +default +round_robin +${probed.url.replace(/\./g, '\\.')} +DOWN \\(probe\\)`, 'm'),
      'netbird-proxy status lists the target as down',
    );
    t.match(cli.stdout, new RegExp(`^ *active +default +round_robin +${steady.url.replace(/\./g, '\\.')} +up`, 'm'));
    const api = JSON.parse((await httpGet(`${daemon.adminUrl}/api/services`)).body) as { services: Array<{ name: string; routes: unknown }> };
    t.match(
      api.services.find((x) => x.name === 'active')?.routes,
      [{ route: 'default', targets: [{ target: probed.url, health: 'down' }, { health: 'up' }] }],
      'the Access Control page gets the routes',
    );
    t.match(
      metrics,
      new RegExp(`netbird_proxy_upstream_requests_total\\{service="active",route="default",target="${steady.url.replace(/\./g, '\\.')}"\\} [1-9]`),
    );

    // A reload that keeps the target keeps its state: still down right after.
    daemon.writeConfig(config(`, ${d.url}`));
    await daemon.waitFor((l) => l.msg === 'config reloaded', 10_000);
    for (let i = 0; i < 4; i++) t.not(await nameOf('active.test'), 'probed', 'still down after the reload (its service was rebuilt)');
    probed.health = 200;
    await daemon.waitFor((l) => l.msg === 'upstream target healthy again (active health check)' && l.upstream === probed.url, 15_000);
    const names = new Set<string>();
    for (let i = 0; i < 4; i++) names.add(await nameOf('active.test'));
    t.ok(names.has('probed'), 'back in the rotation');
  });

  await t.test('backups only when every primary is down; none left: 502 no_healthy_target', async (t) => {
    for (let i = 0; i < 3; i++) t.equal(await nameOf('backups.test'), 'primary');
    t.equal(backup.seen.length, 0, 'the backup gets nothing while the primary is up');
    await primary.stop();
    for (let i = 0; i < 3; i++) t.equal(await nameOf('backups.test'), 'backup');
    await backup.stop();
    await get('backups.test', '/last-try');
    const res = await get('backups.test', '/none-left');
    t.equal(res.status, 502);
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/none-left');
    t.match(entry, { service: 'backups', status: 502, upstream_error: 'no_healthy_target', route: 'default' });
    await primary.start();
    await backup.start();
  });

  await t.test('retries: a GET that met a reset is retried once; a POST with a body never sent twice', async (t) => {
    for (let i = 0; i < 4; i++) {
      const res = await get('retries.test', `/get-${i}`);
      t.equal(res.status, 200, `GET ${i} answered`);
      t.equal((JSON.parse(res.body) as Seen).name, 'answerer');
    }
    t.ok(
      resetter.seen.some((s) => s.startsWith('GET /get-')),
      'some GETs met the resetting target first',
    );
    for (let i = 0; i < 2; i++) {
      const res = await get('retries.test', `/post-${i}`, { method: 'POST', body: 'payload', headers: { 'content-type': 'text/plain' } });
      t.equal(res.status, 502, `POST ${i} fails with its target`);
    }
    const posts = [...resetter.seen, ...answerer.seen].filter((s) => s.startsWith('POST /post-'));
    t.same(posts.sort(), ['POST /post-0', 'POST /post-1'], 'each POST reached exactly one target once');
  });

  await t.test('strip_prefix, rewrite, headers, route and upstream in the access line', async (t) => {
    const api = JSON.parse((await get('paths.test', '/api/users?id=1', { headers: { 'x-debug': '1', 'x-keep': 'yes' } })).body) as Seen;
    t.equal(api.name, 'b');
    t.equal(api.url, '/users?id=1');
    t.equal(api.headers['x-env'], 'prod');
    t.equal(api.headers['x-debug'], undefined);
    t.equal(api.headers['x-keep'], 'yes');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.path === '/api/users?id=1');
    t.match(entry, { service: 'paths', route: '/api/', upstream: b.url, status: 200 });
    const v1 = JSON.parse((await get('paths.test', '/v1/items')).body) as Seen;
    t.same([v1.name, v1.url], ['c', '/v2/items']);
    const other = JSON.parse((await get('paths.test', '/apix')).body) as Seen;
    t.same([other.name, other.url], ['a', '/apix'], 'a path the routes do not prefix goes to the service target unchanged');
  });

  await t.test('per-route access: /admin/ allows one address on an otherwise open service', async (t) => {
    t.equal((await get('paths.test', '/admin/x', { from: '127.0.0.2' })).status, 403);
    t.equal((await get('paths.test', '/%61dmin/x', { from: '127.0.0.2' })).status, 403, 'an escaped path is matched as the upstream reads it');
    t.equal((await get('paths.test', '/x/../admin/x', { from: '127.0.0.2' })).status, 403, 'dot segments too');
    t.equal((await get('paths.test', '/public', { from: '127.0.0.2' })).status, 200);
    const ok = await get('paths.test', '/admin/x', { from: '127.0.0.5' });
    t.equal(ok.status, 200);
    t.equal((JSON.parse(ok.body) as Seen).name, 'a', 'a route without targets uses the service target');
    const denied = await daemon.waitFor((l: LogLine) => l.msg === 'access' && l.path === '/admin/x' && l.status === 403);
    t.match(denied, { deny_reason: 'ip_restricted', route: '/admin/' });
  });

  await t.test('WebSocket through a route', async (t) => {
    const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}/ws/chat`, { headers: { host: 'paths.test' } });
    const reply = await new Promise<string>((resolve, reject) => {
      ws.once('open', () => ws.send('hi'));
      ws.once('message', (m: Buffer) => resolve(m.toString()));
      ws.once('error', reject);
    });
    t.equal(reply, 'd:hi');
    ws.close();
  });

  await t.test('tcp: two targets in turn; a dead one is skipped without a failed connection', async (t) => {
    const names: string[] = [];
    for (let i = 0; i < 4; i++) names.push((await tcpExchange(tcpPort, { end: false })).data);
    t.same(names.sort(), ['t1', 't1', 't2', 't2']);
    await t1.close();
    for (let i = 0; i < 4; i++) t.equal((await tcpExchange(tcpPort, { end: false })).data, 't2');
    const probed = await daemon.waitFor((l) => l.msg === 'upstream target marked down (active health check)' && l.service === 'tcp2', 15_000);
    t.match(probed, { upstream: `127.0.10.1:${t1.port}`, route: 'default' }, 'the TCP connect probe takes the closed target down');
    const entry = await daemon.waitFor((l) => l.msg === 'access' && l.service === 'tcp2' && l.upstream === `127.0.11.1:${t2.port}`);
    t.match(entry, { route: 'default', protocol: 'tcp' });
  });

  await t.test('reload while requests run: none fails, a removed target gets nothing more', async (t) => {
    let stop = false;
    const statuses: number[] = [];
    const loop = (async () => {
      while (!stop) statuses.push((await get('rr.test')).status);
    })();
    await until('requests running', () => statuses.length > 20);
    const cBefore = c.seen.length;
    daemon.writeConfig(config().replace(`, ${c.url}]`, ']'));
    await daemon.waitFor((l) => l.msg === 'config reloaded' && daemon.lines.filter((x) => x.msg === 'config reloaded').length >= 2, 10_000);
    const atReload = statuses.length;
    const cAtReload = c.seen.length;
    await until('more requests after the reload', () => statuses.length > atReload + 20);
    stop = true;
    await loop;
    t.same(
      statuses.filter((s) => s !== 200),
      [],
      `${statuses.length} requests, all answered`,
    );
    t.ok(cAtReload >= cBefore);
    t.equal(c.seen.length, cAtReload, 'the removed target got no request after the reload');
  });
});

t.test('a services.yaml with a bad routes field names it', async (t) => {
  const port = await deadPort('127.0.0.1');
  const daemon = await startDaemon({
    config: `services:
  - name: web
    protocol: http
    domains: [a.test]
    target: http://127.0.0.1:${port}
    routes:
      - path: /api/
        targets: [http://127.0.0.1:${port}, { url: http://127.0.0.1:1, weight: 0 }]
`,
    waitReady: false,
  });
  const code = await daemon.exited;
  t.equal(code, 2);
  t.match(daemon.output(), /services\.yaml.*web.*routes\[0\]\.targets\[1\]\.weight.*must be a whole number from 1 to 1000/s);
});

t.test('--workers 2: each worker balances and probes; /status merges their views', async (t) => {
  const x = await startBackend('x', '127.0.20.1');
  const y = await startBackend('y', '127.0.21.1');
  const daemon = await startDaemon({
    config: `services:
  - name: pool
    protocol: http
    domains: [pool.test]
    targets: [${x.url}, ${y.url}]
    balance: cookie
    health: { path: /healthz, interval: 500ms, timeout: 500ms, healthy: 1, unhealthy: 3 }
`,
    args: ['--workers', '2'],
  });
  t.teardown(async () => {
    await daemon.stop();
    await x.stop();
    await y.stop();
  });
  const names = new Set<string>();
  for (let i = 0; i < 8; i++) {
    const res = await httpGet(`${daemon.httpUrl}/`, { host: 'pool.test' });
    t.equal(res.status, 200);
    names.add((JSON.parse(res.body) as Seen).name);
  }
  t.same([...names].sort(), ['x', 'y']);
  // The cookie's key is shared by the workers: a client stays on its target whichever worker answers.
  const first = await httpGet(`${daemon.httpUrl}/`, { host: 'pool.test' });
  const cookie = (first.headers['set-cookie']?.[0] ?? '').split(';')[0] as string;
  const home = (JSON.parse(first.body) as Seen).name;
  const workersSeen = new Set<unknown>();
  for (let i = 0; i < 12; i++) {
    const res = await httpGet(`${daemon.httpUrl}/`, { host: 'pool.test', headers: { cookie } });
    t.equal((JSON.parse(res.body) as Seen).name, home);
    t.equal(res.headers['set-cookie'], undefined);
  }
  await until('access lines from both workers', () => {
    for (const l of daemon.access()) if (l.service === 'pool') workersSeen.add(l.worker);
    return workersSeen.size === 2;
  });
  t.pass('both workers answered');
  type Status = { services: Array<{ name: string; routes: Array<{ targets: Array<{ target: string; health: string; requests: number }> }> }> };
  const status = async (): Promise<Status> => JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as Status;
  const targets = (await status()).services[0]?.routes[0]?.targets ?? [];
  t.equal(
    targets.reduce((n, tg) => n + tg.requests, 0),
    21,
    'the requests of both workers are summed',
  );
  x.health = 500;
  await until('x down in /status', async () => (await status()).services[0]?.routes[0]?.targets[0]?.health === 'down');
  // Each worker probes for itself: once every worker's report has it down, no request reaches it.
  type Workers = { workers: Array<{ routes?: Record<string, Array<{ targets: Array<{ health: string }> }>> }> };
  await until('x down in every worker', async () => {
    const w = JSON.parse((await httpGet(`${daemon.adminUrl}/status`)).body) as Workers;
    return w.workers.length === 2 && w.workers.every((r) => r.routes?.['pool']?.[0]?.targets[0]?.health === 'down');
  });
  for (let i = 0; i < 6; i++) t.equal((JSON.parse((await httpGet(`${daemon.httpUrl}/`, { host: 'pool.test' })).body) as Seen).name, 'y');
});

t.test('open WebSockets are judged again by their route on reload', async (t) => {
  const w = await startBackend('w', '127.0.22.1');
  const config = (serviceAllow: string): string => `services:
  - name: app
    protocol: http
    domains: [app.test]
    target: ${w.url}
    access: { cidr: { allow: [${serviceAllow}] } }
    routes:
      - path: /live/
        access: { cidr: {} }
`;
  const daemon = await startDaemon({ config: config('127.0.0.0/8') });
  t.teardown(async () => {
    await daemon.stop();
    await w.stop();
  });
  const open = async (path: string): Promise<{ ws: WebSocket; closed: () => boolean }> => {
    const ws = new WebSocket(`ws://127.0.0.1:${daemon.httpPort}${path}`, { headers: { host: 'app.test' } });
    let closed = false;
    ws.on('close', () => (closed = true));
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return { ws, closed: () => closed };
  };
  const routed = await open('/live/feed');
  const plain = await open('/other');
  daemon.writeConfig(config('10.0.0.0/8'));
  await until('the default-route WebSocket is cut', () => plain.closed());
  const cut = await daemon.waitFor((l) => l.msg === 'open connection closed: the rules now deny it');
  t.match(cut, { service: 'app', deny_reason: 'ip_restricted' });
  t.notOk(routed.closed(), 'the /live/ route, open to all, keeps its WebSocket');
  const echo = await new Promise<string>((resolve) => {
    routed.ws.once('message', (m: Buffer) => resolve(m.toString()));
    routed.ws.send('still');
  });
  t.equal(echo, 'w:still');
  routed.ws.close();
});
