// The shape of bench/results/*.json: one field per scenario, plus the run's machine, versions,
// settings, targets, errors and notes. Scenario files fill their field; the runner writes it.
import type { ProfileSummary } from '../lib/cpuprofile';
import type { Mix } from '../lib/decisions';
import type { BulkResult, ConnRateResult } from '../lib/tcp';
import type { MachineInfo } from '../lib/machine';
import type { WrkResult } from '../lib/wrk';

export interface Disturbance {
  /** Cores' worth of CPU used by processes outside this benchmark during the measurement. */
  foreign_cpu: number;
  attempts: number;
}

export interface HttpRound extends WrkResult, Disturbance {
  round: number;
  cpu: Record<string, number>;
  /** The same target with one connection (wrk -c1): per-request latency without queueing. */
  c1: { rps: number; p50_ms: number; p99_ms: number };
}

export interface HttpVariantResult {
  label: string;
  description: string;
  port: number;
  rounds: HttpRound[];
  median: {
    rps: number;
    p50_ms: number;
    p99_ms: number;
    server_cpu: number;
    cpus: Record<string, number>;
    c1_rps: number;
    c1_p50_ms: number;
    c1_p99_ms: number;
  };
}

export interface EnforceAbResult {
  pairs: number;
  seconds: number;
  by_daemon: Record<string, { enforce_rps: number[]; off_rps: number[]; ratios: number[]; median: number; min: number; max: number }>;
}

export interface HttpResults {
  variants: Record<string, HttpVariantResult>;
  ratios: Record<string, number>;
  enforce_ab?: EnforceAbResult;
}

type Measured<T> = T & Disturbance & { round: number; cpu: Record<string, number> };

export interface TcpTargetResult {
  label: string;
  description: string;
  wrk_close: Array<Measured<WrkResult>>;
  echo: Array<Measured<ConnRateResult>>;
  bulk: Array<Measured<BulkResult>>;
  median: {
    conns_per_sec_wrk: number;
    conns_per_sec_echo: number;
    echo_p99_ms: number;
    bulk_mib_per_sec: number;
    server_cpu_wrk: number;
    server_cpu_bulk: number;
  };
}

export interface TcpResults {
  upstreams: Record<string, string>;
  targets: Record<string, TcpTargetResult>;
  ratios: Record<string, number>;
}

export interface SyncResult {
  source: string;
  decisions_expected: number;
  mix: Mix;
  decisions_total: number | undefined;
  state: string | undefined;
  initial_sync_ms: number | null | undefined;
  spawn_to_ready_ms: number;
  body_mb?: number;
  import_ms?: number;
  rss_mb_after_sync?: number;
  peak_rss_mb?: number;
  rss_mb_after_load?: number;
  /** RSS of the CrowdSec-off daemon (no decisions) at the same moments, for the store's share. */
  rss_mb_off_daemon_at_start?: number;
  rss_mb_off_daemon_after_load?: number;
  probe_blocked_status?: number;
  probe_allowed_status?: number;
}

export type ProfileResult = ProfileSummary & { what: string; rate_during_profile: number };

/** What bench/micro/store.ts prints with --json. */
export interface StoreBenchResult {
  benchmark: 'store';
  node: string;
  gc_exposed: boolean;
  decisions: number;
  response_json_mb: number;
  mix: { ipv4_exact: number; ipv6_exact: number; ipv4_ranges: number; ipv6_ranges: number };
  stored: number;
  values: number;
  applied: { added: number; deleted: number; skipped: number; expired?: number };
  apply_ms: number;
  apply_per_sec: number;
  rss_mb_baseline: number;
  rss_mb_response_built: number;
  rss_mb_peak_during_apply: number;
  rss_mb_max_process: number;
  rss_mb_after_apply: number;
  rss_mb_end_with_query_sets: number;
  heap_mb_after_apply: number;
  array_buffers_mb_after_apply: number;
  bytes_per_decision: number;
  lookups_per_sec: Record<string, number>;
  lookups_per_sec_best: Record<string, number>;
  lookup_ns: Record<string, number>;
  lookup_hit_ratio: Record<string, number>;
  stats_ms: number;
  sweep_ms: number;
  swept: number;
  stats_total: number;
  targets: { apply_ms_max: number; rss_mb_max: number; lookups_per_sec_min: number; apply_ok: boolean; rss_ok: boolean; lookups_ok: boolean };
}

export interface PathRow {
  label: string;
  /** What one iteration does, in words. */
  description: string;
  /** Median over rounds of (round time / requests), GC included. */
  ns_per_request: number;
  /** The fastest round. */
  ns_per_request_best: number;
  ns_per_request_rounds: number[];
  /** Median over rounds of this process's CPU time (user + system, all threads) / requests:
   * steadier than wall time on a shared machine, where the process may wait for a core. */
  cpu_ns_per_request: number;
  /** Median over GC-free batches of (heap growth / requests in the batch). */
  bytes_per_request: number;
  /** Batches used for bytes_per_request (those a GC ran in are dropped) / batches run. */
  alloc_batches_used: number;
  alloc_batches_run: number;
  /** Outcome counts over the timed rounds, read back from the real Metrics registry. */
  outcomes: Record<string, number>;
}

/** What bench/micro/path.ts prints with --json. */
export interface PathBenchResult {
  benchmark: 'path';
  node: string;
  gc_exposed: boolean;
  method: string;
  decisions: number;
  store_sync: { via: string; sync_ms: number; total: number };
  requests_per_round: number;
  rounds: number;
  alloc_batch: number;
  connections: number;
  rows: Record<string, PathRow>;
}

export interface Target {
  target: string;
  measured: string;
  met: boolean;
  /** Ratio targets (runner/targets.ts): the measured ratio and the bound it is checked against. */
  ratio?: number;
  bound?: { op: '>=' | '<='; value: number };
}

export interface Results {
  generated_at: string;
  machine: MachineInfo;
  versions: Record<string, string>;
  settings: Record<string, unknown>;
  http?: HttpResults;
  tcp?: TcpResults;
  https?: HttpsResults;
  h2?: H2Results;
  crowdsec_sync: Record<string, SyncResult>;
  store?: StoreBenchResult;
  path?: PathBenchResult;
  profile?: { http?: ProfileResult; tcp?: ProfileResult };
  targets: Record<string, Target>;
  errors: string[];
  notes: string[];
}

export interface HttpsTargetResult {
  label: string;
  description: string;
  keepalive: Array<{ round: number; rps: number; p99_ms: number; cpu: Record<string, number> } & Disturbance>;
  handshakes: Array<{ round: number; rps: number; cpu: Record<string, number> } & Disturbance>;
  median: { keepalive_rps: number; keepalive_p99_ms: number; handshakes_per_sec: number; server_cpu_keepalive: number; server_cpu_handshakes: number };
}

export interface HttpsResults {
  certificate: string;
  targets: Record<string, HttpsTargetResult>;
  ratios: { netbird_vs_nginx_keepalive_rps: number; netbird_vs_nginx_handshakes: number };
}

export interface H2Row {
  label: string;
  rounds: Array<{ round: number; rps: number; p50_ms: number; p99_ms: number; cpu: Record<string, number> } & Disturbance>;
  median: { rps: number; p99_ms: number; server_cpu: number };
}

/** scenarios/h2.ts: h2load over HTTP/2 and HTTP/1.1 against nginx and netbird-proxy. */
export interface H2Results {
  client: string;
  rows: Record<string, H2Row>;
  ratios: { netbird_vs_nginx_h2: number; netbird_h2_vs_h1: number; nginx_h2_vs_h1: number };
}
