// Scenario "profile": netbird-proxy (CrowdSec off) under node --cpu-prof while wrk loads it, for
// HTTP keep-alive requests and (unless --no-tcp) new TCP connections through a tcp service.
import { mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../test/harness/ports';
import { summariseCpuProfile } from '../lib/cpuprofile';
import { servicesYaml, startNetbird } from '../lib/netbird';
import { stopChild } from '../lib/tools';
import { runWrk } from '../lib/wrk';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log } from '../runner/log';
import { waitQuiet, whilePaused } from '../runner/measure';
import type { ProfileResult, Results } from '../runner/results';
import { wrkBase } from './http';

async function profileRun(kind: 'http' | 'tcp', ctx: BenchContext): Promise<ProfileResult> {
  const { opts, pin, dir, fleet } = ctx;
  const profDir = join(dir, `cpuprofile-${kind}`);
  mkdirSync(profDir, { recursive: true });
  const tcpPort = await freePort();
  const what =
    kind === 'http'
      ? `HTTP: wrk -c${opts.connections} keep-alive GET / through an http service (CrowdSec off)`
      : `TCP: wrk -c${opts.connections} with Connection: close through a tcp service (a new TCP connection per request)`;
  log(`profile ${kind}: netbird-proxy under node --cpu-prof, ${opts.profileS} s of wrk`);
  const nb = await startNetbird({
    name: `netbird-profile-${kind}`,
    dir: join(dir, `netbird-profile-${kind}`),
    cpu: pin.server,
    services: servicesYaml({ httpUpstream: fleet.upstreamPort, crowdsec: 'off', tcp: { 'tcp-http': { listen: tcpPort, target: fleet.upstreamPort } } }),
    httpPort: await freePort(),
    adminPort: await freePort(),
    nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`],
  });
  let rate = NaN;
  try {
    const base = wrkBase(ctx);
    const url = kind === 'http' ? `http://127.0.0.1:${nb.httpPort}/` : `http://127.0.0.1:${tcpPort}/`;
    const o = kind === 'http' ? base : { ...base, headers: { ...base.headers, Connection: 'close' } };
    await runWrk({ ...o, url, durationS: opts.warmupS });
    rate = (await runWrk({ ...o, url, durationS: opts.profileS })).rps;
  } finally {
    await stopChild(nb.child, 15_000);
  }
  const file = readdirSync(profDir).find((f) => f.endsWith('.cpuprofile'));
  if (!file) throw new Error(`no .cpuprofile in ${profDir} (did the daemon exit cleanly on SIGTERM?)`);
  const summary = summariseCpuProfile(join(profDir, file), 30);
  if (opts.keep) log(`profile kept at ${join(profDir, file)}`);
  return { ...summary, what, rate_during_profile: Math.round(rate) };
}

export async function run(ctx: BenchContext): Promise<void> {
  if (!ctx.opts.profile) return;
  try {
    await waitQuiet('profile');
    await whilePaused(ctx.fleet.serverPids(), async () => {
      const profile: NonNullable<Results['profile']> = { http: await profileRun('http', ctx) };
      ctx.results.profile = profile;
      if (ctx.opts.tcp) profile.tcp = await profileRun('tcp', ctx);
    });
  } catch (err) {
    ctx.results.errors.push(`profile: ${(err as Error).message}`);
    log(`profile failed: ${(err as Error).message}`);
  }
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    const L: string[] = [];
    for (const p of [r.profile?.http, r.profile?.tcp]) {
      if (!p) continue;
      L.push('', `Profile (node --cpu-prof) — ${p.what}: ${fmt(p.rate_during_profile)}/s while profiling, ${fmt(p.busy_ms)} ms busy, ${p.idle_pct}% idle`);
      L.push(
        `  by area: ${p.by_area
          .slice(0, 10)
          .map((a) => `${a.area} ${a.self_pct}%`)
          .join(', ')}`,
      );
      L.push('  top self time:');
      for (const x of p.top_self.slice(0, 15)) L.push(`    ${`${x.self_pct}%`.padStart(6)}  ${x.fn}  ${x.where}`);
    }
    return L;
  },
};
