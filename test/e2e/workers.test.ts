// --workers 2 against the real CrowdSec LAPI (1.4.6): one stream for the whole group, every worker
// enforcing, a killed worker replaced without touching the other's connections, reloads applied by
// all, /metrics summed, SIGTERM draining. The LAPI is reached through a counting pass-through, so
// the test sees every pull the group makes.
import t from 'tap';
import http from 'node:http';
import net from 'node:net';
import { startLapi, type Lapi } from '../harness/lapi';
import { startDaemon, type Daemon, type LogLine } from '../harness/daemon';
import { httpGet, until } from '../harness/clients';
import { startHttpUpstream, startLiveEcho } from '../harness/upstreams';
import { freePort } from '../harness/ports';

interface WorkerReport {
  worker: number;
  pid?: number;
  synced?: boolean;
  decisions?: number;
  open_connections?: number;
  running?: false;
}

interface Status {
  ready: boolean;
  open_connections: number;
  crowdsec: { state: string; pulls_ok: number };
  workers: WorkerReport[];
}

/** Forwards to the LAPI and remembers every stream request's query. */
async function countingPassThrough(lapi: Lapi): Promise<{ url: string; pulls: URLSearchParams[]; close(): Promise<void> }> {
  const target = new URL(lapi.url);
  const pulls: URLSearchParams[] = [];
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v1/decisions/stream') pulls.push(url.searchParams);
    const up = http.request({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${port}`,
    pulls,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function status(d: Daemon): Promise<Status> {
  return JSON.parse((await httpGet(`${d.adminUrl}/status`)).body) as Status;
}

const accessOf = (d: Daemon, pred: (l: LogLine) => boolean): LogLine[] => d.lines.filter((l) => l.msg === 'access' && pred(l));
const workersIn = (lines: LogLine[]): Set<unknown> => new Set(lines.map((l) => l.worker));

t.test('--workers 2 with the real LAPI', async (t) => {
  const lapi = await startLapi();
  const relay = await countingPassThrough(lapi);
  const upstream = await startHttpUpstream();
  const echo = await startLiveEcho();
  const tcpPort = await freePort();
  const config = (extra = ''): string => `services:
  - name: shop
    protocol: http
    domains: [shop.example.com]
    target: ${upstream.url}
    access: { crowdsec: enforce }
  - name: ssh
    protocol: tcp
    listen: 127.0.0.1:${tcpPort}
    target: 127.0.0.1:${echo.port}
    access: { crowdsec: enforce }
${extra}`;
  const daemon = await startDaemon({
    config: config(),
    args: ['--workers', '2', '--crowdsec-api-url', relay.url, '--crowdsec-api-key', lapi.apiKey, '--crowdsec-poll-interval', '500ms'],
    waitReady: false,
  });
  // Three processes start; on a busy machine that takes longer than the harness's default wait.
  await daemon.waitFor((l) => l.msg === 'netbird-proxy listening', 90_000, 'the group listening');
  t.teardown(async () => {
    daemon.child.kill('SIGTERM');
    await daemon.exited;
    await relay.close();
    await upstream.close();
    await echo.close();
    await lapi.close();
  });
  await until('every worker synced', async () => {
    const s = await status(daemon);
    return s.ready && s.workers.every((w) => w.synced === true);
  });

  await t.test('both workers serve, and the access log says which one', async (t) => {
    let n = 0;
    await until('access lines from workers 1 and 2', async () => {
      t.equal((await httpGet(`${daemon.httpUrl}/hello${n++}`, { host: 'shop.example.com' })).status, 200);
      return workersIn(accessOf(daemon, (l) => l.service === 'shop')).size === 2;
    });
    t.same([...workersIn(accessOf(daemon, (l) => l.service === 'shop'))].sort(), [1, 2]);
  });

  await t.test('a decision added with cscli is enforced by every worker', async (t) => {
    await lapi.addDecision({ ip: '127.0.0.2', type: 'ban', duration: '5m' });
    await until('both workers hold the decision', async () => (await status(daemon)).workers.every((w) => w.decisions === 1));
    let n = 0;
    await until('denials from workers 1 and 2', async () => {
      t.equal((await httpGet(`${daemon.httpUrl}/ban${n++}`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);
      return workersIn(accessOf(daemon, (l) => l.deny_reason === 'crowdsec_ban')).size === 2;
    });
    t.equal(relay.pulls.filter((q) => q.get('startup') === 'true').length, 1, 'one startup pull for the whole group');
  });

  await t.test('/metrics sums the workers', async (t) => {
    const text = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
    const sum = (outcome: string): number =>
      text
        .split('\n')
        .filter((l) => l.startsWith('netbird_proxy_http_requests_total{') && l.includes('service="shop"') && l.includes(`outcome="${outcome}"`))
        .reduce((a, l) => a + Number(l.split(' ').at(-1)), 0);
    const allowed = (): number => accessOf(daemon, (l) => l.service === 'shop' && l.deny_reason === '').length;
    const denied = (): number => accessOf(daemon, (l) => l.service === 'shop' && l.deny_reason !== '').length;
    // Access lines are written in batches: wait until every counted request's line is in.
    await until('the access lines of every counted request', () => allowed() >= sum('allowed') && denied() >= sum('denied'));
    t.equal(sum('allowed'), allowed(), 'allowed = access lines of both workers');
    t.equal(sum('denied'), denied(), 'denied = access lines of both workers');
    t.match(text, /netbird_proxy_crowdsec_synced 1\n/, 'the bouncer metrics come from the primary once');
  });

  await t.test("the admin event log holds both workers' entries, filterable, with the counters", async (t) => {
    interface Ev {
      outcome: string;
      path: string | null;
      worker?: number;
    }
    const events = async (q: string): Promise<Ev[]> =>
      (JSON.parse((await httpGet(`${daemon.adminUrl}/api/events?limit=10000&${q}`)).body) as { events: Ev[] }).events;
    const shop = accessOf(daemon, (l) => l.service === 'shop');
    const bans = accessOf(daemon, (l) => l.deny_reason === 'crowdsec_ban');
    // Workers send their entries every 100 ms.
    await until('every shop access line in the event log', async () => (await events('service=shop')).length >= shop.length);
    const held = await events('service=shop');
    t.equal(held.length, shop.length, 'one entry per access line');
    t.same([...new Set(held.map((e) => e.worker))].sort(), [1, 2], 'from both workers');
    t.same(new Set(held.map((e) => e.path)), new Set(shop.map((l) => l.path)), 'the same requests');
    const denied = await events('reason=crowdsec_ban');
    t.equal(denied.length, bans.length, "the reason filter works on the workers' entries");
    t.ok(denied.every((e) => e.outcome === 'denied'));
    const services = JSON.parse((await httpGet(`${daemon.adminUrl}/api/services`)).body) as {
      services: Array<{ name: string; counters: { allowed: number; denied: Record<string, number> } }>;
    };
    const counters = services.services.find((s) => s.name === 'shop')?.counters;
    t.equal(counters?.allowed, shop.length - bans.length, 'allowed counter');
    t.equal(counters?.denied.crowdsec_ban, bans.length, 'denied counter by reason');
  });

  await t.test('kill -9 of a worker: replaced, synced from the primary, the other worker keeps its connections', async (t) => {
    // Long-lived TCP connections until each worker holds one.
    const sockets: net.Socket[] = [];
    t.teardown(() => sockets.forEach((s) => s.destroy()));
    await until('an open connection on each worker', async () => {
      const s = net.connect(tcpPort, '127.0.0.1');
      await new Promise((resolve) => s.once('connect', resolve));
      s.setEncoding('utf8');
      sockets.push(s);
      await until('counted', async () => (await status(daemon)).open_connections === sockets.length);
      return (await status(daemon)).workers.every((w) => (w.open_connections ?? 0) > 0);
    });
    const before = await status(daemon);
    const victim = before.workers[0];
    const pullsBefore = relay.pulls.filter((q) => q.get('startup') === 'true').length;
    const closed = new Set<net.Socket>();
    for (const s of sockets) s.once('close', () => closed.add(s));
    process.kill(victim.pid as number, 'SIGKILL');
    await daemon.waitFor((l) => l.msg === 'replacement worker serving' && l.worker === victim.worker, 20_000, 'replacement');
    await until('the replacement synced', async () => {
      const w = (await status(daemon)).workers.find((x) => x.worker === victim.worker);
      return w?.pid !== undefined && w.pid !== victim.pid && w.synced === true && w.decisions === 1;
    });
    t.equal(relay.pulls.filter((q) => q.get('startup') === 'true').length, pullsBefore, 'the replacement was synced without a new startup pull');
    t.equal(closed.size, before.workers[0].open_connections, "only the killed worker's connections closed");
    const survivor = sockets.find((s) => !closed.has(s));
    if (survivor === undefined) throw new Error('no surviving connection');
    const echoed = new Promise<string>((resolve) => survivor.once('data', (d: string) => resolve(d)));
    survivor.write('still here');
    t.equal(await echoed, 'still here', "the other worker's open connection still works");
    const since = daemon.lines.length;
    let n = 0;
    await until('the replacement denies the banned address', async () => {
      t.equal((await httpGet(`${daemon.httpUrl}/after${n++}`, { host: 'shop.example.com', from: '127.0.0.2' })).status, 403);
      return daemon.lines.slice(since).some((l) => l.msg === 'access' && l.worker === victim.worker && l.deny_reason === 'crowdsec_ban');
    });
  });

  await t.test('SIGHUP reload is applied by every worker; a bad one keeps the running config', async (t) => {
    daemon.writeConfig(
      config(`  - name: news
    protocol: http
    domains: [news.example.com]
    target: ${upstream.url}
`),
    );
    daemon.signal('SIGHUP');
    await daemon.waitFor((l) => l.msg === 'config reloaded', 10_000, 'config reloaded');
    let n = 0;
    await until('news served by workers 1 and 2', async () => {
      t.equal((await httpGet(`${daemon.httpUrl}/n${n++}`, { host: 'news.example.com' })).status, 200);
      return workersIn(accessOf(daemon, (l) => l.service === 'news')).size === 2;
    });
    const since = daemon.lines.length;
    daemon.writeConfig('services:\n  - name: broken\n');
    daemon.signal('SIGHUP');
    await daemon.waitFor((l, i = daemon.lines.indexOf(l)) => i >= since && l.msg === 'config reload failed; keeping the running config', 10_000, 'refused');
    for (let i = 0; i < 6; i++) t.equal((await httpGet(`${daemon.httpUrl}/still${i}`, { host: 'news.example.com' })).status, 200);
  });

  await t.test('SIGTERM drains every worker, then the primary exits 0', async (t) => {
    t.equal(await daemon.stop(), 0);
    const stopped = daemon.lines.filter((l) => l.msg === 'netbird-proxy stopped');
    t.same(stopped.map((l) => l.worker ?? 0).sort(), [0, 1, 2], 'both workers and the primary stopped');
  });
});
