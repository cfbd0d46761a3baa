// The IPC messages between the primary and its workers (--workers > 1), and the compact text form
// decision batches travel in. Every message is a plain JSON value (cluster's default serialization).
import type { BouncerStatus } from '../crowdsec/stream/bouncer';
import type { ActiveDecisionRow } from '../crowdsec/core/stats';
import type { DecisionBreakdownRow, DecisionStoreStats, LapiDecision } from '../crowdsec/core/types';
import type { UsageSnapshot } from '../crowdsec/usage/counters';
import type { ListenerStatus, RouteStatus } from '../admin/status';
import type { CertificateStatus } from '../tls/status';
import type { AcmeUpdate } from '../tls/acme/follower';

/**
 * One batch of a stream response, as text: `dict` holds the repeated strings (scope, type, origin,
 * scenario), `rows` one decision per line: `scope,type,origin,scenario` dict indices, then duration
 * and value (`s t o c duration value`, space separated; values and durations hold no spaces).
 */
export interface EncodedBatch {
  /** deleted or new decisions. */
  kind: 'del' | 'new';
  /** Epoch ms the primary received the batch: durations count from it, also when replayed later. */
  at: number;
  dict: string[];
  rows: string;
  count: number;
}

/** Primary → worker. */
export type ToWorker =
  | { t: 'config'; seq: number; file: string; text: string }
  | { t: 'crowdsec'; users: number }
  | { t: 'pull-begin'; full: boolean }
  | { t: 'batch'; batch: EncodedBatch }
  | { t: 'pull-end'; ok: boolean; report?: boolean; full?: boolean }
  /** Send your set as dump-batch messages, then dump-end: a new worker is built from it. */
  | { t: 'dump'; id: number }
  | { t: 'ask'; id: number; what: AskWhat }
  | { t: 'reopen-logs' }
  | { t: 'stop' }
  /** ACME certificates and challenges the primary holds (id > 0: acknowledge with acme-ack). */
  | { t: 'acme'; id: number; update: AcmeUpdate }
  /** The answer to a worker's claim: true the first time this solution was claimed in the group. */
  | { t: 'claimed'; id: number; ok: boolean };

/** status and metrics: for /status and /metrics; usage: its usage counters, taken; active: its decisions by origin. */
export type AskWhat = 'status' | 'metrics' | 'usage' | 'active';

/** What a worker says about itself for /status and /readyz. */
export interface WorkerReport {
  worker: number;
  pid: number;
  synced: boolean;
  decisions: number;
  open_connections: number;
  not_ready_reasons: string[];
  listeners: ListenerStatus[];
  certificates: CertificateStatus[];
  /** Routed services: this worker's view of their targets (health and counters are per process). */
  routes?: Record<string, RouteStatus[]>;
}

/** Worker → primary. */
export type FromWorker =
  | { t: 'hello' }
  | { t: 'started' }
  | { t: 'config-applied'; seq: number; error: string | null }
  | { t: 'store-stats'; stats: DecisionStoreStats; breakdown: DecisionBreakdownRow[]; skipped: number }
  | { t: 'answer'; id: number; status?: WorkerReport; metrics?: unknown; usage?: UsageSnapshot; active?: ActiveDecisionRow[] }
  | { t: 'dump-batch'; id: number; batch: EncodedBatch }
  | { t: 'dump-end'; id: number }
  | { t: 'acme-ack'; id: number }
  /** At its stop, after draining: what it counted since the last take (the primary pushes it once more). */
  | { t: 'usage-final'; usage: UsageSnapshot }
  /** A challenge solution to mark used, group-wide (src/cluster/claims.ts). */
  | { t: 'claim'; id: number; key: string; expiresMs: number };

export type { BouncerStatus };

const FIELD = ' ';
const ROW = '\n';

/** Encodes one stream batch; unusable elements (nulls, junk) are dropped here: the store would skip them too. */
export function encodeBatch(kind: 'del' | 'new', batch: readonly LapiDecision[], at: number): EncodedBatch {
  const dict: string[] = [];
  const ids = new Map<string, number>();
  const id = (s: unknown): number => {
    const str = typeof s === 'string' ? s : '';
    let n = ids.get(str);
    if (n === undefined) {
      n = dict.length;
      dict.push(str);
      ids.set(str, n);
    }
    return n;
  };
  const rows: string[] = [];
  for (const d of batch as ReadonlyArray<LapiDecision | null>) {
    if (d === null || typeof d !== 'object' || typeof d.value !== 'string') continue;
    const value = d.value;
    const duration = typeof d.duration === 'string' ? d.duration : '';
    if (value === '' || value.includes(FIELD) || value.includes(ROW) || duration.includes(FIELD) || duration.includes(ROW)) continue;
    const origin = kind === 'new' ? id(d.origin) : 0;
    const scenario = kind === 'new' ? id(d.scenario) : 0;
    rows.push(`${id(d.scope)}${FIELD}${id(d.type)}${FIELD}${origin}${FIELD}${scenario}${FIELD}${duration || '-'}${FIELD}${value}`);
  }
  return { kind, at, dict, rows: rows.join(ROW), count: rows.length };
}

/** The batch's decisions again, in the shape the store applies. */
export function decodeBatch(b: EncodedBatch): LapiDecision[] {
  const out: LapiDecision[] = [];
  if (b.count === 0 || b.rows === '') return out;
  const str = (i: string): string | undefined => {
    const s = b.dict[Number(i)];
    return s === undefined || s === '' ? undefined : s;
  };
  for (const row of b.rows.split(ROW)) {
    const f = row.split(FIELD);
    if (f.length !== 6) continue;
    const d: LapiDecision = { scope: str(f[0]), type: str(f[1]), value: f[5] };
    if (b.kind === 'new') {
      d.origin = str(f[2]);
      d.scenario = str(f[3]);
      if (f[4] !== '-') d.duration = f[4];
    }
    out.push(d);
  }
  return out;
}

/** Type guards for what arrives on the channel (the other side is our own code, but the boundary stays typed). */
export function isToWorker(m: unknown): m is ToWorker {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && !('cmd' in m);
}

export function isFromWorker(m: unknown): m is FromWorker {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' && !('cmd' in m);
}
