// Scenario "AppSec": what asking CrowdSec's AppSec engine costs, measured inside one process like
// enforce-ab (two processes differ by more than the effect): each daemon serves "web" with
// `appsec: enforce` (Host bench.local) and its `appsec: off` twin (Host off.bench.local), and the
// runner alternates them in short wrk runs. Two engines, each a bare Node server on the load CPU
// that answers {"action":"allow"} at once, or after 5 ms (a realistic rule evaluation), so the
// first daemon shows the proxy's own overhead per request and the second the latency it adds.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../test/harness/ports';
import { startNetbird, OFF_TWIN_HOST } from '../lib/netbird';
import { median } from '../lib/stats';
import { spawnPinned, startCpuProbe, stopChild } from '../lib/tools';
import { runWrk } from '../lib/wrk';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log } from '../runner/log';
import { measured } from '../runner/measure';
import type { Results } from '../runner/results';
import { wrkBase } from './http';

export interface AppSecEngineRow {
  engine_delay_ms: number;
  pairs: number;
  appsec_rps: number[];
  off_rps: number[];
  /** appsec / off, per pair. */
  ratios: number[];
  median_ratio: number;
  appsec_p99_ms: number;
  off_p99_ms: number;
  /** CPU time of the netbird-proxy process per request, µs (median over runs): its own cost, whoever the bottleneck was. */
  appsec_cpu_us_per_req: number;
  off_cpu_us_per_req: number;
  /** wrk -c1: one request at a time, no queueing. */
  appsec_c1_p50_ms: number;
  appsec_c1_p99_ms: number;
  off_c1_p50_ms: number;
  off_c1_p99_ms: number;
}

export interface AppSecResults {
  by_engine: Record<string, AppSecEngineRow>;
}

type WithAppSec = Results & { appsec?: AppSecResults };

const ENGINE = `
const http = require('node:http');
const delay = Number(process.argv[1]);
const body = '{"action":"allow","http_status":200}';
const answer = (res) => res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body);
http.createServer((req, res) => {
  req.resume();
  req.on('end', () => (delay > 0 ? setTimeout(answer, delay, res) : answer(res)));
}).listen(0, '127.0.0.1', function () { process.stdout.write(String(this.address().port) + '\\n'); });
`;

/** A bare Node AppSec engine on `cpu` answering allow after `delayMs` (also used by scenarios/features.ts). */
export async function startEngine(cpu: string | undefined, delayMs: number): Promise<{ url: string; stop(): Promise<void> }> {
  const child =
    cpu === undefined ? spawn(process.execPath, ['-e', ENGINE, String(delayMs)]) : spawnPinned(cpu, process.execPath, ['-e', ENGINE, String(delayMs)]);
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`bench AppSec engine exited (${code})`)));
  });
  return { url: `http://127.0.0.1:${port}/`, stop: () => stopChild(child, 2000) };
}

function services(upstream: number): string {
  const svc = (name: string, host: string, appsec: string): string =>
    `  - name: ${name}\n    protocol: http\n    domains: [${host}]\n    target: http://127.0.0.1:${upstream}\n    access: { appsec: ${appsec} }\n`;
  return `services:\n${svc('web', 'bench.local', 'enforce')}${svc('web-off', OFF_TWIN_HOST, 'off')}`;
}

export async function run(ctx: BenchContext): Promise<void> {
  const { opts, pin, results, fleet, dir } = ctx;
  if (!opts.appsec) return;
  const pairs = Math.max(2, opts.abPairs);
  const byEngine: Record<string, AppSecEngineRow> = {};
  for (const [key, delayMs] of [
    ['allow_at_once', 0],
    ['allow_5ms', 5],
  ] as const) {
    const engine = await startEngine(pin.load, delayMs);
    ctx.defer(() => engine.stop());
    const nb = await startNetbird({
      name: `netbird-appsec-${key}`,
      dir: join(dir, `netbird-appsec-${key}`),
      cpu: pin.server,
      services: services(fleet.upstreamPort),
      httpPort: await freePort(),
      adminPort: await freePort(),
      // The 5 ms engine must not time out under 50 connections: the default 200 ms is far above.
      args: ['--appsec-url', engine.url, '--appsec-api-key', 'bench'],
    });
    ctx.defer(() => nb.stop());
    log(`AppSec (${key}): ${pairs} alternating pairs of ${opts.abS} s runs, appsec enforce vs off in one process`);
    const url = `http://127.0.0.1:${nb.httpPort}/`;
    const hosts = [
      { k: 'appsec', host: 'bench.local' },
      { k: 'off', host: OFF_TWIN_HOST },
    ] as const;
    const rps: Record<string, number[]> = { appsec: [], off: [] };
    const p99: Record<string, number[]> = { appsec: [], off: [] };
    const cpuUs: Record<string, number[]> = { appsec: [], off: [] };
    const wrk = wrkBase(ctx);
    for (let i = 0; i < pairs; i++) {
      for (const h of i % 2 === 0 ? hosts : [...hosts].reverse()) {
        const o = { ...wrk, headers: { Host: h.host } };
        const res = await measured(
          `AppSec ${key} ${i + 1} ${h.k}`,
          fleet.others(nb.pid),
          () => runWrk({ ...o, url, durationS: 1 }),
          async () => {
            const probe = startCpuProbe({ server: nb.pid });
            const r = await runWrk({ ...o, url, durationS: opts.abS });
            return { ...r, cores: probe.stop().server ?? NaN };
          },
        );
        if (res.non_2xx > 0) results.errors.push(`AppSec ${key} ${h.k}: ${res.non_2xx} non-2xx`);
        rps[h.k].push(res.rps);
        p99[h.k].push(res.p99_ms);
        cpuUs[h.k].push(+((res.cores / res.rps) * 1e6).toFixed(1));
      }
    }
    const c1: Record<string, { p50: number; p99: number }> = {};
    for (const h of hosts) {
      const res = await measured(
        `AppSec ${key} c1 ${h.k}`,
        fleet.others(nb.pid),
        () => Promise.resolve(),
        () => runWrk({ ...wrk, connections: 1, headers: { Host: h.host }, url, durationS: Math.max(2, opts.latencyS) }),
      );
      c1[h.k] = { p50: res.p50_ms, p99: res.p99_ms };
    }
    const ratios = rps.appsec.map((x, i) => +(x / (rps.off[i] ?? NaN)).toFixed(4));
    byEngine[key] = {
      engine_delay_ms: delayMs,
      pairs,
      appsec_rps: rps.appsec.map(Math.round),
      off_rps: rps.off.map(Math.round),
      ratios,
      median_ratio: +median(ratios.filter(Number.isFinite)).toFixed(4),
      appsec_p99_ms: median(p99.appsec),
      off_p99_ms: median(p99.off),
      appsec_cpu_us_per_req: median(cpuUs.appsec),
      off_cpu_us_per_req: median(cpuUs.off),
      appsec_c1_p50_ms: c1.appsec?.p50 ?? NaN,
      appsec_c1_p99_ms: c1.appsec?.p99 ?? NaN,
      off_c1_p50_ms: c1.off?.p50 ?? NaN,
      off_c1_p99_ms: c1.off?.p99 ?? NaN,
    };
    log(`AppSec ${key}: appsec/off req/s median ${byEngine[key].median_ratio}; p99 ${byEngine[key].appsec_p99_ms} vs ${byEngine[key].off_p99_ms} ms`);
    await nb.stop();
    await engine.stop();
  }
  (results as WithAppSec).appsec = { by_engine: byEngine };
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    const a = (r as WithAppSec).appsec;
    if (!a) return [];
    const L = ['', 'AppSec (appsec: enforce vs its appsec-off twin in the same process; engine on the load CPU answers allow):'];
    for (const [k, v] of Object.entries(a.by_engine)) {
      L.push(
        `  engine ${v.engine_delay_ms === 0 ? 'at once' : `after ${v.engine_delay_ms} ms`}: req/s appsec ${v.appsec_rps.map((x) => fmt(x)).join(' ')} | off ${v.off_rps
          .map((x) => fmt(x))
          .join(' ')}; appsec/off median ${v.median_ratio}; proxy CPU per request appsec ${fmt(v.appsec_cpu_us_per_req, 1)} µs, off ${fmt(
          v.off_cpu_us_per_req,
          1,
        )} µs`,
        `    p99 at -c${String(r.settings.connections)}: appsec ${fmt(v.appsec_p99_ms, 2)} ms, off ${fmt(v.off_p99_ms, 2)} ms; at -c1 p50/p99: appsec ${fmt(v.appsec_c1_p50_ms, 2)}/${fmt(
          v.appsec_c1_p99_ms,
          2,
        )} ms, off ${fmt(v.off_c1_p50_ms, 2)}/${fmt(v.off_c1_p99_ms, 2)} ms  (${k})`,
      );
    }
    return L;
  },
};
