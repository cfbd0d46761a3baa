// Scenario "HTTP": wrk keep-alive GET / against the upstream alone, nginx, HAProxy, the bare Node
// reference proxies, netbird-proxy's tcp service as a byte pipe, netbird-proxy with CrowdSec off
// and the enforce daemons; interleaved rounds, then medians and ratios.
import { httpGet } from '../../test/harness/clients';
import { PROBE_BLOCKED_IP } from '../lib/decisions';
import { withTimeout } from '../lib/probe';
import { median } from '../lib/stats';
import { startCpuProbe } from '../lib/tools';
import { runWrk, type WrkOptions } from '../lib/wrk';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { cpusText, fmt, log, pct, ratio, short, tableRow as row } from '../runner/log';
import { cpuStatProbe, FOREIGN_LIMIT, interleave, measured, medianCpus, whilePaused } from '../runner/measure';
import type { HttpVariantResult, Results, Target } from '../runner/results';
import { ratioTarget } from '../runner/targets';

interface Variant {
  key: string;
  label: string;
  description: string;
  port: number;
  pid: number;
}

/** wrk settings shared by the HTTP, A/B, TCP and profile scenarios (url and duration per run). */
export type WrkBase = Omit<WrkOptions, 'url' | 'durationS'>;

export function wrkBase(ctx: BenchContext): WrkBase {
  return { wrk: ctx.tools.wrk, cpu: ctx.pin.load, threads: ctx.opts.threads, connections: ctx.opts.connections, headers: { Host: 'bench.local' } };
}

async function checkHttp(url: string, expect: number, from?: string): Promise<number> {
  const r = await withTimeout(httpGet(url, { host: 'bench.local', from }), 5000, `GET ${url}`);
  if (r.status !== expect) throw new Error(`GET ${url}${from ? ` from ${from}` : ''}: ${r.status} (expected ${expect}) ${r.body.slice(0, 200)}`);
  return r.status;
}

function variantsOf(ctx: BenchContext): Variant[] {
  const f = ctx.fleet;
  return [
    { key: 'upstream', label: 'upstream alone (nginx return 200)', description: 'wrk → upstream directly', port: f.upstreamPort, pid: f.upstream.pid },
    { key: 'nginx', label: 'nginx reverse proxy', description: 'nginx 1 worker, proxy_pass with upstream keepalive', port: f.nginxHttpPort, pid: f.nginx.pid },
    { key: 'haproxy', label: 'HAProxy', description: 'HAProxy nbthread 1, mode http, http-reuse always', port: f.haproxyPort, pid: f.haproxy.pid },
    {
      key: 'bare_node',
      label: 'ref: bare Node http-proxy',
      description: 'bench/lib/bare-proxy.ts http-proxy: http-proxy + keep-alive agent as in netbird-proxy, nothing else',
      port: f.barePort,
      pid: f.bare.pid,
    },
    {
      key: 'bare_request',
      label: 'ref: bare Node http.request',
      description: 'bench/lib/bare-proxy.ts request: http.request() + pipe() with the same agent, nothing else',
      port: f.bareReqPort,
      pid: f.bareReq.pid,
    },
    {
      key: 'netbird_tcp_pipe',
      label: 'ref: netbird tcp service as pipe',
      description:
        'wrk keep-alive through a netbird-proxy tcp service to the upstream: bytes piped, no HTTP parsing (ceiling for a byte-level HTTP forwarder in Node)',
      port: f.netbirdTcp['tcp-http'].listen,
      pid: f.nbTcp.pid,
    },
    {
      key: 'netbird_off',
      label: 'netbird-proxy CrowdSec off',
      description: 'access: { crowdsec: off }, no LAPI configured',
      port: f.nbOff.httpPort,
      pid: f.nbOff.pid,
    },
    ...f.enforce.map((e) => ({ key: e.key, label: e.label, description: e.description, port: e.nb.httpPort, pid: e.nb.pid })),
  ];
}

/** Every variant answers 200; every enforce daemon refuses the probe address and forwards 127.0.0.1. */
async function sanity(ctx: BenchContext, variants: Variant[]): Promise<void> {
  for (const v of variants) await checkHttp(`http://127.0.0.1:${v.port}/`, 200);
  for (const e of ctx.fleet.enforce) {
    const sync = ctx.results.crowdsec_sync[e.key.replace('netbird_', '')];
    sync.probe_blocked_status = await checkHttp(`http://127.0.0.1:${e.nb.httpPort}/`, 403, PROBE_BLOCKED_IP);
    sync.probe_allowed_status = await checkHttp(`http://127.0.0.1:${e.nb.httpPort}/`, 200, '127.0.0.1');
  }
  log(`sanity: every HTTP variant answers 200; enforce daemons refuse ${PROBE_BLOCKED_IP} (403) and forward 127.0.0.1`);
}

/** Sanity checks always (a broken server is fatal); the rounds unless --no-http. */
export async function run(ctx: BenchContext): Promise<void> {
  const { opts, results, fleet } = ctx;
  const variants = variantsOf(ctx);
  await sanity(ctx, variants);
  if (!opts.http) return;

  const wrk = wrkBase(ctx);
  const http: Record<string, HttpVariantResult> = {};
  for (const v of variants)
    http[v.key] = {
      label: v.label,
      description: v.description,
      port: v.port,
      rounds: [],
      median: { rps: NaN, p50_ms: NaN, p99_ms: NaN, server_cpu: NaN, cpus: {}, c1_rps: NaN, c1_p50_ms: NaN, c1_p99_ms: NaN },
    };
  // Node's JIT needs a few seconds of traffic: give every variant one unrecorded run first.
  log(`warm-up: ${opts.initialWarmS} s of wrk per HTTP variant (not recorded)`);
  for (const v of variants) {
    await whilePaused(fleet.others(v.pid), () => runWrk({ ...wrk, url: `http://127.0.0.1:${v.port}/`, durationS: opts.initialWarmS }));
  }
  await interleave(
    opts.rounds,
    variants,
    async (v, r) => {
      const url = `http://127.0.0.1:${v.port}/`;
      const res = await measured(
        `http r${r} ${v.key}`,
        fleet.others(v.pid),
        () => runWrk({ ...wrk, url, durationS: opts.warmupS }),
        async () => {
          const probe = startCpuProbe({ server: v.pid, upstream: v.key === 'upstream' ? undefined : fleet.upstream.pid });
          const cpuAll = cpuStatProbe();
          const w = await runWrk({ ...wrk, url, durationS: opts.durationS });
          const cpu = { ...probe.stop(), ...cpuAll.stop() };
          const one = await runWrk({ ...wrk, connections: 1, url, durationS: opts.latencyS });
          return { ...w, cpu, c1: { rps: one.rps, p50_ms: one.p50_ms, p99_ms: one.p99_ms } };
        },
      );
      http[v.key].rounds.push({ round: r, ...res });
      if (res.non_2xx > 0 || Object.values(res.socket_errors).some((x) => x > 0)) {
        results.errors.push(`http ${v.key} round ${r}: ${res.non_2xx} non-2xx, socket errors ${JSON.stringify(res.socket_errors)}`);
      }
      log(
        `http r${r} ${v.key.padEnd(22)} ${fmt(res.rps).padStart(8)} req/s  p50 ${res.p50_ms.toFixed(2)} ms  p99 ${res.p99_ms.toFixed(2)} ms  (-c1: p50 ${res.c1.p50_ms.toFixed(3)} p99 ${res.c1.p99_ms.toFixed(3)})  cpu ${JSON.stringify(res.cpu)}  foreign ${res.foreign_cpu}`,
      );
    },
    (v, r, err) => {
      results.errors.push(`http ${v.key} round ${r}: ${err.message}`);
      log(`http ${v.key} round ${r} failed: ${err.message}`);
    },
  );

  for (const v of Object.values(http)) {
    v.median = {
      rps: Math.round(median(v.rounds.map((x) => x.rps))),
      p50_ms: +median(v.rounds.map((x) => x.p50_ms)).toFixed(3),
      p99_ms: +median(v.rounds.map((x) => x.p99_ms)).toFixed(3),
      server_cpu: +median(v.rounds.map((x) => x.cpu.server)).toFixed(2),
      cpus: medianCpus(v.rounds.map((x) => x.cpu)),
      c1_rps: Math.round(median(v.rounds.map((x) => x.c1.rps))),
      c1_p50_ms: +median(v.rounds.map((x) => x.c1.p50_ms)).toFixed(3),
      c1_p99_ms: +median(v.rounds.map((x) => x.c1.p99_ms)).toFixed(3),
    };
  }
  const m = (k: string): HttpVariantResult['median'] | undefined => http[k]?.median;
  // Per-round paired ratio enforce/off (same round, adjacent runs), median of those.
  const paired = (k: string): number => {
    const on = http[k]?.rounds ?? [];
    const off = http.netbird_off?.rounds ?? [];
    return +median(on.map((x) => x.rps / (off.find((o) => o.round === x.round)?.rps ?? NaN))).toFixed(4);
  };
  results.http = {
    variants: http,
    ratios: {
      netbird_off_vs_nginx_rps: ratio(m('netbird_off')?.rps, m('nginx')?.rps),
      netbird_off_vs_nginx_p99: ratio(m('netbird_off')?.p99_ms, m('nginx')?.p99_ms, 2),
      netbird_off_vs_nginx_c1_p50: ratio(m('netbird_off')?.c1_p50_ms, m('nginx')?.c1_p50_ms, 2),
      netbird_off_vs_nginx_c1_p99: ratio(m('netbird_off')?.c1_p99_ms, m('nginx')?.c1_p99_ms, 2),
      netbird_off_vs_bare_node_rps: ratio(m('netbird_off')?.rps, m('bare_node')?.rps),
      bare_request_vs_nginx_rps: ratio(m('bare_request')?.rps, m('nginx')?.rps),
      bare_request_vs_bare_http_proxy_rps: ratio(m('bare_request')?.rps, m('bare_node')?.rps),
      tcp_pipe_vs_nginx_rps: ratio(m('netbird_tcp_pipe')?.rps, m('nginx')?.rps),
      netbird_off_vs_haproxy_rps: ratio(m('netbird_off')?.rps, m('haproxy')?.rps),
      enforce_fake_vs_off_rps: ratio(m('netbird_enforce_fake')?.rps, m('netbird_off')?.rps, 4),
      enforce_lapi_vs_off_rps: ratio(m('netbird_enforce_lapi')?.rps, m('netbird_off')?.rps, 4),
      enforce_fake_vs_off_p99: ratio(m('netbird_enforce_fake')?.p99_ms, m('netbird_off')?.p99_ms, 2),
      enforce_fake_vs_off_rps_paired_median: paired('netbird_enforce_fake'),
      enforce_lapi_vs_off_rps_paired_median: paired('netbird_enforce_lapi'),
    },
  };
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    if (!r.http) return [];
    const L: string[] = [];
    const w = [38, 7, 6, 6, 7, 7, 7, 6, 24];
    L.push('', `HTTP GET / (3-byte body), wrk -c${String(r.settings.connections)}; last columns: wrk -c1 (latency without queueing)`);
    L.push(row(['variant', 'req/s', 'p50ms', 'p99ms', 'srvCPU', 'CPU0/1', 'c1 p50', 'c1 p99', 'req/s per round'], w));
    for (const v of Object.values(r.http.variants)) {
      const md = v.median;
      L.push(
        row(
          [
            v.label,
            fmt(md.rps),
            md.p50_ms.toFixed(2),
            md.p99_ms.toFixed(2),
            pct(md.server_cpu),
            cpusText(md.cpus),
            md.c1_p50_ms.toFixed(3),
            md.c1_p99_ms.toFixed(3),
            v.rounds.map((x) => `${fmt(x.rps)}${x.foreign_cpu > FOREIGN_LIMIT ? '*' : ''}`).join(' '),
          ],
          w,
        ),
      );
    }
    const h = r.http.ratios;
    L.push(
      `  netbird-proxy (off) / nginx: req/s ${h.netbird_off_vs_nginx_rps}×, p99 ${h.netbird_off_vs_nginx_p99}× (at -c1: p50 ${h.netbird_off_vs_nginx_c1_p50}×, p99 ${h.netbird_off_vs_nginx_c1_p99}×); / HAProxy: req/s ${h.netbird_off_vs_haproxy_rps}×; / bare Node http-proxy: req/s ${h.netbird_off_vs_bare_node_rps}×`,
    );
    L.push(
      `  references / nginx: bare http.request forwarder ${h.bare_request_vs_nginx_rps}× (${h.bare_request_vs_bare_http_proxy_rps}× bare http-proxy); netbird tcp service as a byte pipe ${h.tcp_pipe_vs_nginx_rps}×`,
    );
    L.push(
      `  enforce ${short(Number(r.settings.decisions_fake_lapi))} / off: req/s ${h.enforce_fake_vs_off_rps} (medians), ${h.enforce_fake_vs_off_rps_paired_median} (paired per round); p99 ${h.enforce_fake_vs_off_p99}×`,
    );
    if (Number.isFinite(h.enforce_lapi_vs_off_rps))
      L.push(
        `  enforce ${short(Number(r.settings.decisions_real_lapi))} (real LAPI) / off: req/s ${h.enforce_lapi_vs_off_rps} (medians), ${h.enforce_lapi_vs_off_rps_paired_median} (paired)`,
      );
    return L;
  },
  targets(r: Results): Record<string, Target> {
    const hr = r.http?.ratios;
    if (!hr) return {};
    const ab = r.http?.enforce_ab?.by_daemon.netbird_enforce_fake;
    const enforceRatio = ab?.median ?? hr.enforce_fake_vs_off_rps_paired_median ?? NaN;
    const md = (k: string): HttpVariantResult['median'] | undefined => r.http?.variants[k]?.median;
    const ms = (k: string): string => `${md(k)?.c1_p50_ms ?? '—'} / ${md(k)?.c1_p99_ms ?? '—'} ms`;
    return {
      // Issue 13: our own per-request cost down to the library's.
      http_off_vs_bare_http_proxy: ratioTarget(
        hr.netbird_off_vs_bare_node_rps,
        '>=',
        0.9,
        'netbird-proxy CrowdSec off / bare http-proxy req/s, one pinned core each',
        `${fmt(md('netbird_off')?.rps ?? NaN)} / ${fmt(md('bare_node')?.rps ?? NaN)} req/s`,
      ),
      enforce_1m_vs_off: ratioTarget(
        enforceRatio,
        '>=',
        0.97,
        `enforce ${short(Number(r.settings.decisions_fake_lapi))} / CrowdSec off req/s`,
        `${ab ? `same-process A/B, median of ${ab.ratios.length} pair ratios, range ${ab.min}–${ab.max}; ` : 'paired per round; '}separate daemons: ratio of medians ${hr.enforce_fake_vs_off_rps}`,
      ),
      latency_c1_p50_vs_nginx: ratioTarget(
        hr.netbird_off_vs_nginx_c1_p50,
        '<=',
        2,
        'p50 at wrk -c1, netbird-proxy (off) / nginx',
        `${ms('netbird_off')} vs nginx ${ms('nginx')} (p50 / p99)`,
      ),
      latency_c1_p99_vs_nginx: ratioTarget(
        hr.netbird_off_vs_nginx_c1_p99,
        '<=',
        2,
        'p99 at wrk -c1, netbird-proxy (off) / nginx',
        `${ms('netbird_off')} vs nginx ${ms('nginx')} (p50 / p99)`,
      ),
      http_vs_nginx: ratioTarget(hr.netbird_off_vs_nginx_rps, '>=', 0.35, 'netbird-proxy (off) / nginx req/s (stretch 0.5)', `one pinned core each`),
      http_p99_vs_nginx: ratioTarget(
        hr.netbird_off_vs_nginx_p99,
        '<=',
        3,
        'netbird-proxy (off) / nginx p99 at -c50',
        `closed loop: mostly restates throughput`,
      ),
    };
  },
};
