// Routes and several targets (issue 23), standalone: `npm run bench:routes [-- --quick]`.
//
//   1. in process (like micro/path.ts): admission (host route, client IP, restriction chain,
//      headers) plus the route lookup and the balancer's pick, ns/request, for a service with one
//      target, a 20-route service (request to the default route: all 20 prefixes tried, the worst
//      case; and to a route), and 4 targets round robin;
//   2. wrk -t1 -c50 through the real daemon: one target vs 20 routes vs 4 targets (4 nginx
//      upstreams `return 200`), interleaved rounds, medians.
//
// Pinning: the daemon on CPU 0, nginx and wrk on CPU 1 when there are 2 CPUs or more.
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { peerAt, toClientAddress } from '../../src/client-ip/peer';
import { parseServicesConfig } from '../../src/config/load';
import { chooseMember } from '../../src/forward/routed';
import { admitRequest, type AdmissionContext } from '../../src/listeners/admission';
import { HostRouter } from '../../src/listeners/host-router';
import { CidrSet } from '../../src/net/cidr-set';
import { buildServiceRuntime, type HttpServiceRuntime } from '../../src/services';
import { freePort } from '../../test/harness/ports';
import { startNetbird } from '../lib/netbird';
import { startNginxUpstream, type Server } from '../lib/servers';
import { median } from '../lib/stats';
import { runWrk } from '../lib/wrk';

const quick = process.argv.includes('--quick');
const twoCpus = cpus().length >= 2;
const SERVER_CPU = twoCpus ? '0' : undefined;
const LOAD_CPU = twoCpus ? '1' : undefined;

function servicesYaml(up: number[]): string {
  const [u1, u2, u3, u4] = up.map((p) => `http://127.0.0.1:${p}`) as [string, string, string, string];
  const routes = Array.from({ length: 20 }, (_, i) => `      - path: /r${i}/\n        target: ${i % 2 === 0 ? u2 : u3}\n`).join('');
  return `services:
  - name: one
    protocol: http
    domains: [one.bench.local]
    target: ${u1}
  - name: routes20
    protocol: http
    domains: [routes20.bench.local]
    target: ${u1}
    routes:
${routes}  - name: four
    protocol: http
    domains: [four.bench.local]
    targets: [${u1}, ${u2}, ${u3}, ${u4}]
`;
}

function inProcess(yaml: string): Array<{ row: string; ns: number }> {
  const config = parseServicesConfig(yaml, 'bench.yaml', { crowdsecAvailable: false });
  const runtimes = config.services.map((s) => buildServiceRuntime(s)) as HttpServiceRuntime[];
  const trusted = new CidrSet([]);
  const ctx: AdmissionContext = {
    router: new HostRouter(runtimes),
    trusted,
    chain: { geo: undefined, crowdsec: undefined },
    metrics: { httpRequest: () => undefined },
  };
  const peer = peerAt(toClientAddress('127.0.0.1') as NonNullable<ReturnType<typeof toClientAddress>>, trusted);
  const req = new IncomingMessage(new Socket());
  req.method = 'GET';
  const rows: Array<[string, string, string]> = [
    ['one target', 'one.bench.local', '/'],
    ['20 routes, default route', 'routes20.bench.local', '/'],
    ['20 routes, route /r7/', 'routes20.bench.local', '/r7/x'],
    ['4 targets round robin', 'four.bench.local', '/'],
  ];
  const step = (host: string, url: string): void => {
    req.headers = { host };
    req.url = url;
    const a = admitRequest(ctx, req, peer, 'http', 8080);
    if (a.route !== undefined) chooseMember(a.route, req, '127.0.0.1', Date.now());
  };
  const only = process.argv.find((a) => a.startsWith('--row='))?.slice(6);
  if (only !== undefined) rows.splice(0, rows.length, ...rows.filter(([label]) => label.startsWith(only)));
  const n = quick ? 100_000 : 300_000;
  const rounds = quick ? 5 : 9;
  const times = new Map<string, number[]>();
  for (const [, host, url] of rows) for (let i = 0; i < n; i++) step(host, url);
  for (let r = 0; r < rounds; r++) {
    for (const [label, host, url] of rows) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) step(host, url);
      const ns = Number(process.hrtime.bigint() - t0) / n;
      times.set(label, [...(times.get(label) ?? []), ns]);
    }
  }
  return rows.map(([label]) => ({ row: label, ns: Math.round(median(times.get(label) ?? [])) }));
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'nbp-bench-routes-'));
  const ports = await Promise.all([1, 2, 3, 4].map(() => freePort()));
  const upstreams: Server[] = [];
  for (const [i, port] of ports.entries())
    upstreams.push(await startNginxUpstream({ nginx: '/usr/sbin/nginx', dir: join(dir, `up${i}`), port, cpu: LOAD_CPU }));
  const yaml = servicesYaml(ports);
  const micro = inProcess(yaml);
  process.stdout.write(`\nPer request in process (admission + route lookup + balancer pick), median ns/request:\n`);
  for (const m of micro) process.stdout.write(`  ${m.row.padEnd(28)} ${String(m.ns).padStart(6)}\n`);

  if (process.argv.includes('--no-wrk')) {
    for (const u of upstreams) await u.stop();
    return;
  }
  const nb = await startNetbird({
    name: 'netbird',
    dir: join(dir, 'netbird'),
    cpu: SERVER_CPU,
    services: yaml,
    httpPort: await freePort(),
    adminPort: await freePort(),
  });
  const variants: Array<[string, string, string]> = [
    ['one target', 'one.bench.local', '/'],
    ['20 routes (default route)', 'routes20.bench.local', '/'],
    ['4 targets round robin', 'four.bench.local', '/'],
  ];
  const durationS = quick ? 3 : 5;
  const rounds = quick ? 2 : 3;
  const rps = new Map<string, number[]>();
  try {
    for (const [, host, path] of variants)
      await runWrk({
        wrk: '/usr/bin/wrk',
        url: `http://127.0.0.1:${nb.httpPort}${path}`,
        cpu: LOAD_CPU,
        threads: 1,
        connections: 50,
        durationS: 2,
        headers: { Host: host },
      });
    for (let r = 0; r < rounds; r++) {
      for (const [label, host, path] of variants) {
        const w = await runWrk({
          wrk: '/usr/bin/wrk',
          url: `http://127.0.0.1:${nb.httpPort}${path}`,
          cpu: LOAD_CPU,
          threads: 1,
          connections: 50,
          durationS,
          headers: { Host: host },
        });
        if (w.non_2xx > 0) throw new Error(`${label}: ${w.non_2xx} non-2xx answers`);
        rps.set(label, [...(rps.get(label) ?? []), w.rps]);
      }
    }
  } finally {
    await nb.stop();
    for (const u of upstreams) await u.stop();
  }
  process.stdout.write(`\nwrk -t1 -c50 -d${durationS}s through netbird-proxy, ${rounds} interleaved rounds, median req/s:\n`);
  for (const [label] of variants) {
    const all = rps.get(label) ?? [];
    process.stdout.write(`  ${label.padEnd(28)} ${String(Math.round(median(all))).padStart(7)}   (rounds: ${all.map((x) => Math.round(x)).join(', ')})\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
