// Scenario "CrowdSec initial sync": starts the enforce daemons the HTTP and A/B scenarios measure,
// one synced from the real CrowdSec LAPI 1.4.6 (decisions imported with cscli) and one from the
// fake LAPI replaying a pre-rendered 1M-decision startup response; records sync time and RSS at
// sync and (recordAfterLoad) after the HTTP rounds.
import { join } from 'node:path';
import { until } from '../../test/harness/clients';
import { startFakeLapi } from '../../test/harness/fake-lapi';
import { startLapi } from '../../test/harness/lapi';
import { freePort } from '../../test/harness/ports';
import { PROBE_BLOCKED_IP, renderStartupBody, writeImportFiles } from '../lib/decisions';
import { servicesYaml, startNetbird, type Netbird, type NetbirdStatus } from '../lib/netbird';
import { sampler } from '../lib/probe';
import { memoryOf } from '../lib/tools';
import type { BenchContext, ScenarioReport } from '../runner/context';
import { fmt, log, short } from '../runner/log';
import type { Results, Target } from '../runner/results';

// Servers not under test are SIGSTOPped; a pull in flight across a pause times out and forces a
// full resync, so the enforce daemons pull only at startup (delta pulls cost nothing measurable).
const POLL_INTERVAL = '1h';

interface Synced {
  total: number | undefined;
  state: string | undefined;
  initial_sync_ms: number | null | undefined;
}

async function waitSynced(nb: Netbird, expected: number, timeoutMs: number): Promise<Synced> {
  const status = sampler((): Promise<NetbirdStatus> => nb.status(), 250);
  const synced = (): Synced => {
    const s = status();
    return { total: s?.crowdsec?.decisions?.total, state: s?.crowdsec?.state, initial_sync_ms: s?.crowdsec?.initial_sync_ms };
  };
  try {
    await until(
      `${nb.name} synced with ${expected} decisions`,
      () => {
        const s = synced();
        return s.state === 'synced' && s.total === expected;
      },
      timeoutMs,
    );
  } catch (err) {
    const last = synced();
    throw new Error(`${(err as Error).message} (state ${last.state}, total ${last.total})`);
  }
  return synced();
}

async function startWithRealLapi(ctx: BenchContext): Promise<void> {
  const { opts, pin, dir, results, fleet } = ctx;
  log(`real CrowdSec LAPI: starting, importing ${fmt(opts.lapiDecisions)} mixed decisions with cscli`);
  const lapi = await startLapi({ logLevel: 'warning' });
  ctx.defer(() => lapi.close());
  const ips = join(dir, 'import-ips.csv');
  const ranges = join(dir, 'import-ranges.csv');
  const mix = await writeImportFiles(opts.lapiDecisions, ips, ranges);
  const ti = Date.now();
  await lapi.importDecisions(ips, { scope: 'Ip' });
  await lapi.importDecisions(ranges, { scope: 'Range' });
  const importMs = Date.now() - ti;
  log(`imported in ${fmt(importMs)} ms; starting netbird-proxy (enforce, real LAPI)`);
  const ts = Date.now();
  const nb = await startNetbird({
    name: 'netbird-enforce-lapi',
    dir: join(dir, 'netbird-enforce-lapi'),
    cpu: pin.server,
    services: servicesYaml({ httpUpstream: fleet.upstreamPort, crowdsec: 'enforce', offTwin: true }),
    httpPort: await freePort(),
    adminPort: await freePort(),
    crowdsec: { url: lapi.url, key: lapi.apiKey, pollInterval: POLL_INTERVAL },
    readyTimeoutMs: 120_000,
  });
  const spawnToReady = Date.now() - ts;
  ctx.defer(() => nb.stop());
  const s = await waitSynced(nb, opts.lapiDecisions, 30_000);
  const mem = memoryOf(nb.pid);
  results.crowdsec_sync.enforce_lapi = {
    source: 'CrowdSec LAPI 1.4.6 (cscli decisions import)',
    decisions_expected: opts.lapiDecisions,
    mix,
    decisions_total: s.total,
    state: s.state,
    initial_sync_ms: s.initial_sync_ms,
    spawn_to_ready_ms: spawnToReady,
    import_ms: importMs,
    rss_mb_after_sync: mem?.rss_mb,
    peak_rss_mb: mem?.peak_rss_mb,
  };
  fleet.enforce.push({
    key: 'netbird_enforce_lapi',
    nb,
    label: `netbird-proxy enforce ${short(opts.lapiDecisions)} (real LAPI)`,
    description: `enforce; ${fmt(opts.lapiDecisions)} decisions from CrowdSec LAPI 1.4.6`,
  });
  log(`enforce (real LAPI) synced: ${fmt(s.total ?? NaN)} decisions, initial sync ${s.initial_sync_ms} ms, RSS ${mem?.rss_mb} MB`);
}

async function startWithFakeLapi(ctx: BenchContext): Promise<void> {
  const { opts, pin, dir, results, fleet } = ctx;
  log(`fake LAPI: rendering a ${fmt(opts.decisions)}-decision startup response`);
  const tr = Date.now();
  const body = renderStartupBody(opts.decisions);
  log(`rendered ${fmt(body.bytes / 1e6, 1)} MB in ${fmt(Date.now() - tr)} ms (${JSON.stringify(body.mix)})`);
  const fake = await startFakeLapi({});
  ctx.defer(() => fake.close());
  fake.setStartupStream(() => body.chunks);
  const ts = Date.now();
  const nb = await startNetbird({
    name: 'netbird-enforce-fake',
    dir: join(dir, 'netbird-enforce-fake'),
    cpu: pin.server,
    services: servicesYaml({ httpUpstream: fleet.upstreamPort, crowdsec: 'enforce', offTwin: true }),
    httpPort: await freePort(),
    adminPort: await freePort(),
    crowdsec: { url: fake.url, key: fake.apiKey, pollInterval: POLL_INTERVAL },
    readyTimeoutMs: 180_000,
  });
  const spawnToReady = Date.now() - ts;
  ctx.defer(() => nb.stop());
  const s = await waitSynced(nb, opts.decisions, 30_000);
  const mem = memoryOf(nb.pid);
  results.crowdsec_sync.enforce_fake = {
    source: 'fake LAPI (test/harness/fake-lapi.ts) replaying a pre-rendered startup response',
    decisions_expected: opts.decisions,
    mix: body.mix,
    decisions_total: s.total,
    state: s.state,
    initial_sync_ms: s.initial_sync_ms,
    spawn_to_ready_ms: spawnToReady,
    body_mb: +(body.bytes / 1e6).toFixed(1),
    rss_mb_after_sync: mem?.rss_mb,
    peak_rss_mb: mem?.peak_rss_mb,
  };
  fleet.enforce.push({
    key: 'netbird_enforce_fake',
    nb,
    label: `netbird-proxy enforce ${short(opts.decisions)} (fake LAPI)`,
    description: `enforce; ${fmt(opts.decisions)} decisions replayed by the fake LAPI`,
  });
  log(
    `enforce (fake LAPI) synced: ${fmt(s.total ?? NaN)} decisions, initial sync ${s.initial_sync_ms} ms, spawn→ready ${spawnToReady} ms, RSS ${mem?.rss_mb} MB (peak ${mem?.peak_rss_mb} MB)`,
  );
}

/** Starts the enforce daemons (a real-LAPI failure is recorded and skipped; a fake-LAPI one is fatal). */
export async function run(ctx: BenchContext): Promise<void> {
  if (ctx.opts.realLapi) {
    try {
      await startWithRealLapi(ctx);
    } catch (err) {
      ctx.results.errors.push(`real LAPI: ${(err as Error).message}`);
      log(`real LAPI part failed: ${(err as Error).message}`);
    }
  }
  await startWithFakeLapi(ctx);
}

/** RSS of the enforce daemons and of the CrowdSec-off daemon once the HTTP load has run. */
export function recordAfterLoad(ctx: BenchContext): void {
  const { fleet, results } = ctx;
  for (const e of fleet.enforce) {
    const sync = results.crowdsec_sync[e.key.replace('netbird_', '')];
    sync.rss_mb_after_load = memoryOf(e.nb.pid)?.rss_mb;
    sync.rss_mb_off_daemon_at_start = fleet.offMem?.rss_mb;
    sync.rss_mb_off_daemon_after_load = memoryOf(fleet.nbOff.pid)?.rss_mb;
  }
}

export const report: ScenarioReport = {
  section(r: Results): string[] {
    const syncs = Object.entries(r.crowdsec_sync);
    if (syncs.length === 0) return [];
    const L = ['', 'CrowdSec initial sync in the daemon'];
    for (const [k, s] of syncs) {
      L.push(
        `  ${k}: ${fmt(s.decisions_total ?? NaN)}/${fmt(s.decisions_expected)} decisions (${s.mix.ipv4} IPv4, ${s.mix.ipv6} IPv6, ${s.mix.range4} IPv4 ranges, ${s.mix.range6} IPv6 ranges) from ${s.source}`,
      );
      L.push(
        `    initial sync ${fmt(s.initial_sync_ms ?? NaN)} ms, spawn→ready ${fmt(s.spawn_to_ready_ms)} ms${s.import_ms !== undefined ? `, cscli import ${fmt(s.import_ms)} ms` : ''}${s.body_mb !== undefined ? `, body ${s.body_mb} MB` : ''}; RSS after sync ${s.rss_mb_after_sync} MB (peak ${s.peak_rss_mb} MB), after load ${s.rss_mb_after_load} MB (CrowdSec-off daemon: ${s.rss_mb_off_daemon_at_start} → ${s.rss_mb_off_daemon_after_load} MB); probe ${PROBE_BLOCKED_IP} → ${s.probe_blocked_status}`,
      );
    }
    return L;
  },
  targets(r: Results): Record<string, Target> {
    const f = r.crowdsec_sync.enforce_fake;
    if (!f) return {};
    const settled = f.rss_mb_after_load ?? f.rss_mb_after_sync ?? Infinity;
    return {
      daemon_sync_1m: {
        target: '1M applied ≤ 5 s, RSS ≤ 300 MB after (daemon, end to end)',
        measured: `initial sync ${fmt(f.initial_sync_ms ?? NaN)} ms; RSS ${f.rss_mb_after_sync} MB at sync, ${f.rss_mb_after_load} MB after the HTTP rounds, peak ${f.peak_rss_mb} MB`,
        met: (f.initial_sync_ms ?? Infinity) <= 5000 && settled <= 300,
      },
    };
  },
};
