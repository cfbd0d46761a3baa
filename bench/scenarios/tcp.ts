// Scenario "TCP": direct, nginx stream, a bare Node TCP pipe and netbird-proxy tcp services; per round and target,
// connections/s with wrk (Connection: close), connections/s with the Node echo client, and bulk
// throughput through one connection.
import { runTcpClient, type BulkResult, type ConnRateResult } from '../lib/tcp';
import { median } from '../lib/stats';
import { startCpuProbe } from '../lib/tools';
import { runWrk } from '../lib/wrk';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log, pct, ratio, tableRow as row } from '../runner/log';
import { cpuStatProbe, FOREIGN_LIMIT, interleave, measured, whilePaused } from '../runner/measure';
import type { Disturbance, Results, Target, TcpTargetResult } from '../runner/results';
import { ratioTarget } from '../runner/targets';
import { wrkBase } from './http';

interface TcpTarget {
  key: string;
  label: string;
  description: string;
  pid: number | undefined;
  ports: { echo: number; source: number; http: number };
}

/** Runs fn with CPU probes on the named process trees and on every CPU; adds `cpu` to its result. */
async function withCpu<T>(trees: Record<string, number | undefined>, fn: () => Promise<T>): Promise<T & { cpu: Record<string, number> }> {
  const probe = startCpuProbe(trees);
  const all = cpuStatProbe();
  const x = await fn();
  return { ...x, cpu: { ...probe.stop(), ...all.stop() } };
}

export async function run(ctx: BenchContext): Promise<void> {
  const { opts, pin, results, fleet } = ctx;
  if (!opts.tcp) return;
  const targets: TcpTarget[] = [
    {
      key: 'direct',
      label: 'direct (no proxy)',
      description: 'clients → upstream',
      pid: undefined,
      ports: { echo: fleet.tcpServer.echo, source: fleet.tcpServer.source, http: fleet.upstreamPort },
    },
    {
      key: 'nginx_stream',
      label: 'nginx stream',
      description: 'nginx 1 worker, stream proxy_pass, session access_log',
      pid: fleet.nginx.pid,
      ports: { echo: fleet.nginxStream.echo.listen, source: fleet.nginxStream.source.listen, http: fleet.nginxStream.http.listen },
    },
    {
      key: 'bare_node_tcp',
      label: 'ref: bare Node pipe',
      description: 'net.createServer + net.connect + pipe() both ways, nothing else: the ceiling of Node sockets',
      pid: fleet.bareTcp.pid,
      ports: { echo: fleet.bareTcpForwards.echo.listen, source: fleet.bareTcpForwards.source.listen, http: fleet.bareTcpForwards.http.listen },
    },
    {
      key: 'netbird_tcp',
      label: 'netbird-proxy tcp',
      description: 'tcp services (no access rules), access log to a file',
      pid: fleet.nbTcp.pid,
      ports: { echo: fleet.netbirdTcp['tcp-echo'].listen, source: fleet.netbirdTcp['tcp-source'].listen, http: fleet.netbirdTcp['tcp-http'].listen },
    },
  ];
  const tcp: Record<string, TcpTargetResult> = {};
  for (const t of targets) {
    tcp[t.key] = {
      label: t.label,
      description: t.description,
      wrk_close: [],
      echo: [],
      bulk: [],
      median: { conns_per_sec_wrk: NaN, conns_per_sec_echo: NaN, echo_p99_ms: NaN, bulk_mib_per_sec: NaN, server_cpu_wrk: NaN, server_cpu_bulk: NaN },
    };
  }
  const close = { ...wrkBase(ctx), headers: { Host: 'bench.local', Connection: 'close' } };
  const maxEchoMs = Math.max(3000, opts.durationS * 2000);
  log(`warm-up: ${opts.initialWarmS} s of wrk (Connection: close) per TCP target (not recorded)`);
  for (const t of targets) {
    await whilePaused(fleet.others(t.pid), () => runWrk({ ...close, url: `http://127.0.0.1:${t.ports.http}/`, durationS: opts.initialWarmS }));
  }
  await interleave(
    opts.rounds,
    targets,
    async (t, r) => {
      const trees = { server: t.pid, upstream: fleet.upstream.pid, tcp_upstream: fleet.tcpServer.pid };
      const paused = fleet.others(t.pid);
      const url = `http://127.0.0.1:${t.ports.http}/`;
      const w = await measured(
        `tcp r${r} ${t.key} wrk`,
        paused,
        () => runWrk({ ...close, url, durationS: Math.min(1, opts.warmupS) }),
        () => withCpu(trees, () => runWrk({ ...close, url, durationS: opts.durationS })),
      );
      tcp[t.key].wrk_close.push({ round: r, ...w });
      if (w.non_2xx > 0 || w.socket_errors.connect + w.socket_errors.timeout > 0)
        results.errors.push(`tcp ${t.key} wrk round ${r}: non-2xx ${w.non_2xx}, socket errors ${JSON.stringify(w.socket_errors)}`);

      const echoArgs = ['connrate', '--port', String(t.ports.echo), '--concurrency', '50', '--max-ms', String(maxEchoMs)];
      const e = await measured(
        `tcp r${r} ${t.key} echo`,
        paused,
        () => runTcpClient<ConnRateResult>(pin.load, [...echoArgs, '--count', String(Math.round(opts.echoConns / 10))], maxEchoMs),
        () => withCpu(trees, () => runTcpClient<ConnRateResult>(pin.load, [...echoArgs, '--count', String(opts.echoConns)], maxEchoMs)),
      );
      tcp[t.key].echo.push({ round: r, ...e });
      if (e.errors > 0) results.errors.push(`tcp ${t.key} echo round ${r}: ${e.errors} failed connections`);

      const bulkArgs = ['bulk', '--port', String(t.ports.source), '--max-ms', '120000'];
      const b = await measured(
        `tcp r${r} ${t.key} bulk`,
        paused,
        () => runTcpClient<BulkResult>(pin.load, [...bulkArgs, '--bytes', String(2 ** 26)], 120_000),
        () => withCpu(trees, () => runTcpClient<BulkResult>(pin.load, [...bulkArgs, '--bytes', String(opts.bulkBytes)], 120_000)),
      );
      tcp[t.key].bulk.push({ round: r, ...b });
      log(
        `tcp  r${r} ${t.key.padEnd(13)} conns/s wrk ${fmt(w.rps).padStart(7)}  echo ${fmt(e.per_sec).padStart(7)} (p99 ${e.p99_ms} ms)  bulk ${fmt(b.mib_per_sec)} MiB/s  server cpu ${w.cpu.server ?? '-'}/${e.cpu.server ?? '-'}/${b.cpu.server ?? '-'}  foreign ${w.foreign_cpu}/${e.foreign_cpu}/${b.foreign_cpu}`,
      );
    },
    (t, r, err) => {
      results.errors.push(`tcp ${t.key} round ${r}: ${err.message}`);
      log(`tcp ${t.key} round ${r} failed: ${err.message}`);
    },
  );
  for (const t of Object.values(tcp)) {
    t.median = {
      conns_per_sec_wrk: Math.round(median(t.wrk_close.map((x) => x.rps))),
      conns_per_sec_echo: Math.round(median(t.echo.map((x) => x.per_sec))),
      echo_p99_ms: +median(t.echo.map((x) => x.p99_ms)).toFixed(3),
      bulk_mib_per_sec: Math.round(median(t.bulk.map((x) => x.mib_per_sec))),
      server_cpu_wrk: +median(t.wrk_close.map((x) => x.cpu.server ?? NaN)).toFixed(2),
      server_cpu_bulk: +median(t.bulk.map((x) => x.cpu.server ?? NaN)).toFixed(2),
    };
  }
  results.tcp = {
    upstreams: {
      wrk_close: 'wrk -H "Connection: close" through the TCP proxy to the nginx `return 200` upstream: one new TCP connection per request',
      echo: 'Node client (own process, load CPU): 50 concurrent short connections, 16 bytes out, echo back, server closes; Node echo server',
      bulk: `one connection downloads ${fmt(opts.bulkBytes / 2 ** 20)} MiB from a Node source (1 MiB writes) into a Node client reading into a reused 1 MiB buffer (net onread)`,
    },
    targets: tcp,
    ratios: {
      netbird_vs_nginx_conns_wrk: ratio(tcp.netbird_tcp.median.conns_per_sec_wrk, tcp.nginx_stream.median.conns_per_sec_wrk),
      netbird_vs_nginx_conns_echo: ratio(tcp.netbird_tcp.median.conns_per_sec_echo, tcp.nginx_stream.median.conns_per_sec_echo),
      netbird_vs_nginx_bulk: ratio(tcp.netbird_tcp.median.bulk_mib_per_sec, tcp.nginx_stream.median.bulk_mib_per_sec),
      bare_node_vs_nginx_conns_wrk: ratio(tcp.bare_node_tcp.median.conns_per_sec_wrk, tcp.nginx_stream.median.conns_per_sec_wrk),
      netbird_vs_bare_node_conns_wrk: ratio(tcp.netbird_tcp.median.conns_per_sec_wrk, tcp.bare_node_tcp.median.conns_per_sec_wrk),
    },
  };
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    if (!r.tcp) return [];
    const w = [18, 13, 14, 11, 10, 8, 8, 30];
    const L = [
      '',
      'TCP: conns/s = wrk -H "Connection: close" through the proxy (one TCP connection per request) and a Node echo client; bulk = 1 connection download',
    ];
    L.push(row(['target', 'conns/s (wrk)', 'conns/s (echo)', 'echo p99ms', 'bulk MiB/s', 'srvCPU c', 'srvCPU b', 'per round: wrk / echo / bulk'], w));
    const star = (x: Disturbance): string => (x.foreign_cpu > FOREIGN_LIMIT ? '*' : '');
    for (const t of Object.values(r.tcp.targets)) {
      const per = t.wrk_close.map((x, i) => `${fmt(x.rps)}${star(x)}/${fmt(t.echo[i]?.per_sec ?? NaN)}/${fmt(t.bulk[i]?.mib_per_sec ?? NaN)}`).join(' ');
      L.push(
        row(
          [
            t.label,
            fmt(t.median.conns_per_sec_wrk),
            fmt(t.median.conns_per_sec_echo),
            t.median.echo_p99_ms.toFixed(2),
            fmt(t.median.bulk_mib_per_sec),
            pct(t.median.server_cpu_wrk),
            pct(t.median.server_cpu_bulk),
            per,
          ],
          w,
        ),
      );
    }
    const tr = r.tcp.ratios;
    L.push(
      `  netbird-proxy / nginx stream: conns/s ${tr.netbird_vs_nginx_conns_wrk}× (wrk), ${tr.netbird_vs_nginx_conns_echo}× (echo); bulk ${tr.netbird_vs_nginx_bulk}×`,
    );
    if (tr.bare_node_vs_nginx_conns_wrk !== undefined)
      L.push(
        `  bare Node pipe / nginx stream: conns/s ${tr.bare_node_vs_nginx_conns_wrk}× (wrk; Node's ceiling for this row); netbird-proxy / bare Node pipe: ${tr.netbird_vs_bare_node_conns_wrk}×`,
      );
    return L;
  },
  targets(r: Results): Record<string, Target> {
    const tr = r.tcp?.ratios;
    if (!tr) return {};
    const md = (k: string): TcpTargetResult['median'] | undefined => r.tcp?.targets[k]?.median;
    return {
      tcp_conns_vs_nginx: ratioTarget(
        tr.netbird_vs_nginx_conns_wrk,
        '>=',
        0.5,
        'netbird-proxy tcp / nginx stream, new connections/s (wrk Connection: close)',
        `${fmt(md('netbird_tcp')?.conns_per_sec_wrk ?? NaN)} / ${fmt(md('nginx_stream')?.conns_per_sec_wrk ?? NaN)} conns/s; echo client (client-bound cross-check) ${tr.netbird_vs_nginx_conns_echo}×; the bare Node pipe reaches ${tr.bare_node_vs_nginx_conns_wrk ?? '—'}× (Node's ceiling)`,
      ),
      tcp_bulk_vs_nginx: ratioTarget(
        tr.netbird_vs_nginx_bulk,
        '>=',
        0.7,
        'netbird-proxy tcp / nginx stream, bulk MiB/s (one connection)',
        `${fmt(md('netbird_tcp')?.bulk_mib_per_sec ?? NaN)} / ${fmt(md('nginx_stream')?.bulk_mib_per_sec ?? NaN)} MiB/s`,
      ),
    };
  },
};
