// netbird_proxy_event_log_dropped_total{worker}: with --workers 2 and the primary stopped (SIGSTOP),
// the workers keep serving and their event-log windows pile up, then are dropped; once the primary
// runs again, its /metrics says how many entries each worker dropped. The access log file has them all.
import t from 'tap';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { httpGet } from '../harness/clients';
import { startDaemon } from '../harness/daemon';
import { startHttpUpstream } from '../harness/upstreams';

/** Long lines: the primary's 4 MiB allowance is passed after a few hundred entries per worker. */
const PATH = `/${'x'.repeat(12_000)}`;
const PER_WORKER = 500;

function perWorker(file: string): Map<number, number> {
  const counts = new Map<number, number>();
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return counts;
  }
  for (const m of text.matchAll(/"worker":(\d+)/g)) counts.set(Number(m[1]), (counts.get(Number(m[1])) ?? 0) + 1);
  return counts;
}

t.test('--workers 2: entries dropped from the event log are counted per worker in /metrics', async (t) => {
  const upstream = await startHttpUpstream((_req, res) => {
    res.writeHead(204);
    res.end();
  });
  const daemon = await startDaemon({
    config: `services:\n  - name: web\n    protocol: http\n    domains: [web.example.com]\n    target: ${upstream.url}\n`,
    args: ['--workers', '2', '--access-log', 'access.log'],
  });
  const accessLog = join(daemon.dir, 'access.log');
  const primary = daemon.child.pid as number;
  t.teardown(async () => {
    process.kill(primary, 'SIGCONT');
    await daemon.stop();
    await upstream.close();
  });
  const before = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
  t.match(before, /netbird_proxy_event_log_dropped_total\{worker="1"\} 0/);
  t.match(before, /netbird_proxy_event_log_dropped_total\{worker="2"\} 0/);

  process.kill(primary, 'SIGSTOP');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  const get = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: daemon.httpPort, path: PATH, headers: { host: 'web.example.com' }, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      });
      req.on('error', reject);
    });
  // Until each worker has served enough (the kernel spreads connections; 8 at a time).
  for (let round = 0; round < 100; round++) {
    await Promise.all(Array.from({ length: 100 }, get));
    const counts = perWorker(accessLog);
    if ((counts.get(1) ?? 0) >= PER_WORKER && (counts.get(2) ?? 0) >= PER_WORKER) break;
    // New connections now and then, so that both workers get some.
    agent.destroy();
  }
  agent.destroy();
  process.kill(primary, 'SIGCONT');

  const metrics = (await httpGet(`${daemon.adminUrl}/metrics`)).body;
  for (const worker of [1, 2]) {
    const m = new RegExp(`netbird_proxy_event_log_dropped_total\\{worker="${worker}"\\} (\\d+)`).exec(metrics);
    t.ok(m !== null && Number(m[1]) > 0, `worker ${worker} dropped entries are counted (${m?.[1] ?? 'absent'})`);
  }
  t.match(metrics, /# TYPE netbird_proxy_event_log_dropped_total counter/);
});
