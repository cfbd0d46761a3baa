// Live re-judgement: when decisions or the config change, open long-lived connections are judged
// again with the current rules. A connection now denied is cut; an observed one records the verdict.
import { toClientAddress } from '../client-ip/peer';
import type { DecisionChange } from '../crowdsec/stream/decision-change';
import type { OpenConnection, OpenConnections } from '../listeners/open-connections';
import { evaluate, type ChainContext } from '../restrictions/chain';
import type { Verdict } from '../restrictions/types';
import type { HttpServiceRuntime, ServiceRuntime } from '../services';

export interface RejudgeContext {
  services: ReadonlyMap<string, ServiceRuntime>;
  chain: ChainContext;
  nowMs: number;
  /** A connection cut by `verdict` (a denial). */
  onCut(conn: OpenConnection, verdict: Verdict): void;
}

/** The connections a decision change may affect: by address for a delta of single IPs, all otherwise (ranges, countries, full pulls). */
export function affectedBy(change: DecisionChange, open: OpenConnections): Iterable<OpenConnection> {
  if (change.full || change.wide) return open.all();
  const out: OpenConnection[] = [];
  for (const value of change.ips) {
    const ip = toClientAddress(value);
    if (ip !== undefined) for (const conn of open.of(ip)) out.push(conn);
  }
  return out;
}

/**
 * Judges each connection once more. `crowdsecOnly` limits it to services that use CrowdSec (a
 * decision change cannot affect the others). A connection whose service is gone is cut as well.
 * Returns how many were cut.
 */
export function rejudge(conns: Iterable<OpenConnection>, ctx: RejudgeContext, crowdsecOnly: boolean): number {
  let cut = 0;
  // Collected first: cutting a connection removes it from the index being walked.
  const toCut: [OpenConnection, Verdict][] = [];
  for (const conn of conns) {
    // Cut by an earlier pass whose socket has not closed yet.
    if (conn.terminated) continue;
    const service = ctx.services.get(conn.serviceName);
    if (service === undefined || service.config.protocol !== conn.protocol) {
      toCut.push([conn, SERVICE_REMOVED]);
      continue;
    }
    const access =
      conn.path !== undefined && service.config.protocol === 'http'
        ? ((service as HttpServiceRuntime).routing?.match(conn.path).access ?? service.access)
        : service.access;
    if (crowdsecOnly && access.crowdsec === 'off') continue;
    const verdict = evaluate(access, conn.clientIp, ctx.chain, ctx.nowMs);
    if (!verdict.allowed) toCut.push([conn, verdict]);
    else if (verdict.metadata !== undefined) conn.verdict = verdict;
  }
  for (const [conn, verdict] of toCut) {
    conn.terminate(verdict);
    ctx.onCut(conn, verdict);
    cut++;
  }
  return cut;
}

const SERVICE_REMOVED: Verdict = Object.freeze({ allowed: false, denyReason: 'service_removed', country: undefined, metadata: undefined });
