// Scenario "HTTP/2": h2load against nginx's HTTP/2 proxy and netbird-proxy's HTTPS entrypoint
// (same certificate, both proxying HTTP/1.1 to the shared upstream with keep-alive), over HTTP/2
// (-m streams per connection) and over HTTP/1.1 (h2load --h1), so the protocol comparison uses
// one client. req/s and p99 from h2load's per-request log.
import { join } from 'node:path';
import { runH2load, type H2loadResult } from '../lib/h2load';
import { median } from '../lib/stats';
import { startCpuProbe } from '../lib/tools';
import { SNI, startTlsPair } from './tls-pair';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log, pct, ratio, tableRow as row } from '../runner/log';
import { FOREIGN_LIMIT, interleave, measured } from '../runner/measure';
import type { H2Results, H2Row, Results } from '../runner/results';

/**
 * Concurrent streams per HTTP/2 connection (h2load -m), what a browser loading assets does; HTTP/2
 * runs use connections / STREAMS connections, so both protocols keep the same requests in flight.
 */
const STREAMS = 10;

interface Variant {
  key: string;
  label: string;
  pid: number;
  port: number;
  h1: boolean;
}

export async function run(ctx: BenchContext): Promise<void> {
  const { opts, pin, results, fleet, dir } = ctx;
  if (!opts.h2) return;
  const { nginx, netbird: nb } = await startTlsPair(ctx, 'h2', true);
  const nginxPort = nginx.port;
  const nbPort = nb.port;
  const variants: Variant[] = [
    { key: 'nginx_h2', label: 'nginx HTTP/2', pid: nginx.pid, port: nginxPort, h1: false },
    { key: 'netbird_h2', label: 'netbird-proxy HTTP/2', pid: nb.pid, port: nbPort, h1: false },
    { key: 'nginx_h1', label: 'nginx HTTP/1.1 (TLS)', pid: nginx.pid, port: nginxPort, h1: true },
    { key: 'netbird_h1', label: 'netbird-proxy HTTP/1.1 (TLS)', pid: nb.pid, port: nbPort, h1: true },
  ];
  const pidsOf = (except: number): number[] => [...fleet.serverPids(), nginx.pid, nb.pid].filter((p) => p !== except);
  const rows: Record<string, H2Row> = {};
  for (const v of variants) rows[v.key] = { label: v.label, rounds: [], median: { rps: NaN, p99_ms: NaN, server_cpu: NaN } };
  const h2load = (v: Variant, durationS: number): Promise<H2loadResult> =>
    runH2load({
      url: `https://${SNI}:${v.port}/`,
      cpu: pin.load,
      clients: v.h1 ? opts.connections : Math.max(1, Math.round(opts.connections / STREAMS)),
      streams: STREAMS,
      durationS,
      h1: v.h1,
      logFile: join(dir, `h2load-${v.key}.log`),
    });
  await interleave(
    opts.rounds,
    variants,
    async (v, r) => {
      const res = await measured(
        `h2 r${r} ${v.key}`,
        pidsOf(v.pid),
        () => h2load(v, opts.warmupS),
        async () => {
          const probe = startCpuProbe({ server: v.pid });
          const x = await h2load(v, opts.durationS);
          return { ...x, cpu: probe.stop() };
        },
      );
      if (res.failed > 0 || res.non_2xx > 0) results.errors.push(`h2 ${v.key} round ${r}: ${res.failed} failed, ${res.non_2xx} non-2xx`);
      rows[v.key]?.rounds.push({
        round: r,
        rps: res.rps,
        p50_ms: res.p50_ms,
        p99_ms: res.p99_ms,
        cpu: res.cpu,
        foreign_cpu: res.foreign_cpu,
        attempts: res.attempts,
      });
      log(
        `h2 r${r} ${v.key.padEnd(11)} ${fmt(res.rps).padStart(7)} req/s  p50 ${res.p50_ms.toFixed(2)} ms  p99 ${res.p99_ms.toFixed(2)} ms  server cpu ${res.cpu.server ?? '-'}  foreign ${res.foreign_cpu}`,
      );
    },
    (v, r, err) => {
      results.errors.push(`h2 ${v.key} round ${r}: ${err.message}`);
      log(`h2 ${v.key} round ${r} failed: ${err.message}`);
    },
  );
  for (const x of Object.values(rows)) {
    x.median = {
      rps: Math.round(median(x.rounds.map((y) => y.rps))),
      p99_ms: +median(x.rounds.map((y) => y.p99_ms)).toFixed(2),
      server_cpu: +median(x.rounds.map((y) => y.cpu.server ?? NaN)).toFixed(2),
    };
  }
  const rps = (k: string): number => rows[k]?.median.rps ?? NaN;
  const out: H2Results = {
    client: `h2load -t1, HTTP/2 -c${Math.max(1, Math.round(opts.connections / STREAMS))} -m${STREAMS} / HTTP/1.1 --h1 -c${opts.connections}: ${opts.connections} requests in flight; ${opts.durationS} s (handshakes excluded) after a ${opts.warmupS} s warm-up run`,
    rows,
    ratios: {
      netbird_vs_nginx_h2: ratio(rps('netbird_h2'), rps('nginx_h2')),
      netbird_h2_vs_h1: ratio(rps('netbird_h2'), rps('netbird_h1')),
      nginx_h2_vs_h1: ratio(rps('nginx_h2'), rps('nginx_h1')),
    },
  };
  results.h2 = out;
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    if (!r.h2) return [];
    const w = [30, 9, 8, 8, 30];
    const L = ['', `HTTP/2 (h2load, TLS, same cert): ${r.h2.client}`, row(['target', 'req/s', 'p99ms', 'srvCPU', 'per round'], w)];
    const star = (x: { foreign_cpu: number }): string => (x.foreign_cpu > FOREIGN_LIMIT ? '*' : '');
    for (const x of Object.values(r.h2.rows)) {
      L.push(
        row([x.label, fmt(x.median.rps), x.median.p99_ms.toFixed(2), pct(x.median.server_cpu), x.rounds.map((y) => `${fmt(y.rps)}${star(y)}`).join(' ')], w),
      );
    }
    const q = r.h2.ratios;
    L.push(
      `  netbird-proxy / nginx over HTTP/2: ${q.netbird_vs_nginx_h2}×; HTTP/2 / HTTP/1.1: netbird-proxy ${q.netbird_h2_vs_h1}×, nginx ${q.nginx_h2_vs_h1}×`,
    );
    return L;
  },
};
