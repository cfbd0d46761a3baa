// The body of POST /v1/usage-metrics (the LAPI swagger's AllMetrics with one RemediationComponentsMetrics),
// built from a counters snapshot and the decision store's active decisions.
import type { ActiveDecisionRow } from '../core/stats';
import type { UsageSnapshot, UsageUnit } from './counters';
import type { OsInfo } from './os-info';

/** The remediation component `type` this proxy reports. */
export const COMPONENT_TYPE = 'netbird-proxy';

export interface MetricsItem {
  name: 'dropped' | 'processed' | 'active_decisions';
  value: number;
  unit: UsageUnit | 'ip';
  labels?: Record<string, string>;
}

export interface UsageMetricsPayload {
  remediation_components: Array<{
    type: string;
    version: string;
    utc_startup_timestamp: number;
    os: OsInfo;
    feature_flags: string[];
    metrics: Array<{ meta: { window_size_seconds: number; utc_now_timestamp: number }; items: MetricsItem[] }>;
  }>;
}

export interface PayloadInput {
  version: string;
  os: OsInfo;
  /** Epoch seconds. */
  startupTs: number;
  nowTs: number;
  windowSeconds: number;
  counts: UsageSnapshot;
  active: ActiveDecisionRow[];
}

const UNITS: readonly UsageUnit[] = ['request', 'connection'];
/** The swagger's maxLength for names, units and label values. */
const MAX_LEN = 255;
const clip = (s: string): string => (s.length > MAX_LEN ? s.slice(0, MAX_LEN) : s);

export function buildPayload(p: PayloadInput): UsageMetricsPayload {
  const items: MetricsItem[] = [];
  for (const d of p.counts.dropped) {
    if (d.value > 0) items.push({ name: 'dropped', value: d.value, unit: d.unit, labels: { origin: clip(d.origin), remediation: clip(d.remediation) } });
  }
  for (const unit of UNITS) {
    if (p.counts.processed[unit] > 0) items.push({ name: 'processed', value: p.counts.processed[unit], unit });
  }
  for (const a of p.active) items.push({ name: 'active_decisions', value: a.count, unit: 'ip', labels: { origin: clip(a.origin), ip_type: a.ipType } });
  return {
    remediation_components: [
      {
        type: COMPONENT_TYPE,
        version: p.version,
        utc_startup_timestamp: p.startupTs,
        os: p.os,
        feature_flags: [],
        metrics: [{ meta: { window_size_seconds: p.windowSeconds, utc_now_timestamp: p.nowTs }, items }],
      },
    ],
  };
}
