// Scenario "HTTPS": nginx and netbird-proxy terminating TLS with the same certificate and key
// (ECDSA P-256, leaf + intermediate), both proxying to the shared upstream with keep-alive.
// Keep-alive req/s (wrk over one TLS session per connection) and new TLS handshakes per second
// (wrk with Connection: close: wrk sets no session for reuse, so every request is a full handshake).
import { median } from '../lib/stats';
import { startCpuProbe } from '../lib/tools';
import { runWrk } from '../lib/wrk';
import { SNI, startTlsPair } from './tls-pair';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log, pct, ratio, tableRow as row } from '../runner/log';
import { FOREIGN_LIMIT, interleave, measured, whilePaused } from '../runner/measure';
import type { Disturbance, HttpsTargetResult, Results, Target } from '../runner/results';
import { wrkBase } from './http';

interface HttpsTarget {
  key: string;
  label: string;
  description: string;
  pid: number;
  port: number;
}

export async function run(ctx: BenchContext): Promise<void> {
  const { opts, results, fleet } = ctx;
  if (!opts.https) return;
  const { nginx, netbird: nb } = await startTlsPair(ctx, 'tls', false);
  const nginxPort = nginx.port;
  const nbPort = nb.port;

  const targets: HttpsTarget[] = [
    {
      key: 'nginx_tls',
      label: 'nginx TLS',
      description: 'nginx 1 worker, ssl, session cache + tickets, proxy_pass with upstream keepalive, access_log',
      pid: nginx.pid,
      port: nginxPort,
    },
    {
      key: 'netbird_tls',
      label: 'netbird-proxy TLS',
      description: 'HTTPS entrypoint, tls: { cert, key }, CrowdSec off, access log to a file',
      pid: nb.pid,
      port: nbPort,
    },
  ];
  const pidsOf = (except: number): number[] => [...fleet.serverPids(), nginx.pid, nb.pid].filter((p) => p !== except);
  const out: Record<string, HttpsTargetResult> = {};
  for (const t of targets) {
    out[t.key] = {
      label: t.label,
      description: t.description,
      keepalive: [],
      handshakes: [],
      median: { keepalive_rps: NaN, keepalive_p99_ms: NaN, handshakes_per_sec: NaN, server_cpu_keepalive: NaN, server_cpu_handshakes: NaN },
    };
  }
  const keep = wrkBase(ctx);
  const close = { ...keep, headers: { Host: 'bench.local', Connection: 'close' } };
  log(`warm-up: ${opts.initialWarmS} s of wrk per HTTPS target (not recorded)`);
  for (const t of targets) {
    await whilePaused(pidsOf(t.pid), () => runWrk({ ...keep, url: `https://${SNI}:${t.port}/`, durationS: opts.initialWarmS }));
  }
  await interleave(
    opts.rounds,
    targets,
    async (t, r) => {
      const url = `https://${SNI}:${t.port}/`;
      const paused = pidsOf(t.pid);
      const withCpu = async <T>(fn: () => Promise<T>): Promise<T & { cpu: Record<string, number> }> => {
        const probe = startCpuProbe({ server: t.pid, upstream: fleet.upstream.pid });
        const x = await fn();
        return { ...x, cpu: probe.stop() };
      };
      const k = await measured(
        `https r${r} ${t.key} keep-alive`,
        paused,
        () => runWrk({ ...keep, url, durationS: opts.warmupS }),
        () => withCpu(() => runWrk({ ...keep, url, durationS: opts.durationS })),
      );
      out[t.key].keepalive.push({ round: r, rps: k.rps, p99_ms: k.p99_ms, cpu: k.cpu, foreign_cpu: k.foreign_cpu, attempts: k.attempts });
      const h = await measured(
        `https r${r} ${t.key} handshakes`,
        paused,
        () => runWrk({ ...close, url, durationS: Math.min(1, opts.warmupS) }),
        () => withCpu(() => runWrk({ ...close, url, durationS: opts.durationS })),
      );
      out[t.key].handshakes.push({ round: r, rps: h.rps, cpu: h.cpu, foreign_cpu: h.foreign_cpu, attempts: h.attempts });
      for (const [what, w] of [
        ['keep-alive', k],
        ['handshakes', h],
      ] as const) {
        if (w.non_2xx > 0 || Object.values(w.socket_errors).some((x) => x > 0))
          results.errors.push(`https ${t.key} ${what} round ${r}: ${w.non_2xx} non-2xx, socket errors ${JSON.stringify(w.socket_errors)}`);
      }
      log(
        `https r${r} ${t.key.padEnd(12)} keep-alive ${fmt(k.rps).padStart(7)} req/s (p99 ${k.p99_ms.toFixed(2)} ms)  handshakes ${fmt(h.rps).padStart(6)}/s  server cpu ${k.cpu.server ?? '-'}/${h.cpu.server ?? '-'}  foreign ${k.foreign_cpu}/${h.foreign_cpu}`,
      );
    },
    (t, r, err) => {
      results.errors.push(`https ${t.key} round ${r}: ${err.message}`);
      log(`https ${t.key} round ${r} failed: ${err.message}`);
    },
  );
  for (const t of Object.values(out)) {
    t.median = {
      keepalive_rps: Math.round(median(t.keepalive.map((x) => x.rps))),
      keepalive_p99_ms: +median(t.keepalive.map((x) => x.p99_ms)).toFixed(3),
      handshakes_per_sec: Math.round(median(t.handshakes.map((x) => x.rps))),
      server_cpu_keepalive: +median(t.keepalive.map((x) => x.cpu.server ?? NaN)).toFixed(2),
      server_cpu_handshakes: +median(t.handshakes.map((x) => x.cpu.server ?? NaN)).toFixed(2),
    };
  }
  results.https = {
    certificate: 'ECDSA P-256 leaf + intermediate (test/harness/certs.ts), the same files for both',
    targets: out,
    ratios: {
      netbird_vs_nginx_keepalive_rps: ratio(out.netbird_tls.median.keepalive_rps, out.nginx_tls.median.keepalive_rps),
      netbird_vs_nginx_handshakes: ratio(out.netbird_tls.median.handshakes_per_sec, out.nginx_tls.median.handshakes_per_sec),
    },
  };
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    if (!r.https) return [];
    const w = [20, 14, 8, 14, 9, 9, 26];
    const L = [
      '',
      `HTTPS (same cert/key): keep-alive = wrk -c${String(r.settings.connections)} over TLS; handshakes = wrk -H "Connection: close" (a full TLS handshake per request)`,
    ];
    L.push(row(['target', 'keep-alive r/s', 'p99ms', 'handshakes/s', 'srvCPU k', 'srvCPU h', 'per round: keep-alive / hs'], w));
    const star = (x: Disturbance): string => (x.foreign_cpu > FOREIGN_LIMIT ? '*' : '');
    for (const t of Object.values(r.https.targets)) {
      const per = t.keepalive.map((x, i) => `${fmt(x.rps)}${star(x)}/${fmt(t.handshakes[i]?.rps ?? NaN)}`).join(' ');
      L.push(
        row(
          [
            t.label,
            fmt(t.median.keepalive_rps),
            t.median.keepalive_p99_ms.toFixed(2),
            fmt(t.median.handshakes_per_sec),
            pct(t.median.server_cpu_keepalive),
            pct(t.median.server_cpu_handshakes),
            per,
          ],
          w,
        ),
      );
    }
    const hr = r.https.ratios;
    L.push(`  netbird-proxy / nginx (TLS): keep-alive req/s ${hr.netbird_vs_nginx_keepalive_rps}×, new handshakes/s ${hr.netbird_vs_nginx_handshakes}×`);
    return L;
  },
  targets(r: Results): Record<string, Target> {
    const hr = r.https?.ratios;
    if (!hr) return {};
    return {
      https_keepalive_vs_nginx: {
        target: '≥ 0.35× nginx TLS req/s (as plain HTTP)',
        measured: `${hr.netbird_vs_nginx_keepalive_rps}×`,
        met: hr.netbird_vs_nginx_keepalive_rps >= 0.35,
      },
    };
  },
};
