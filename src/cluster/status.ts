// /status, /readyz and /metrics of --workers > 1: the workers are asked, their answers merged with
// what the primary holds itself (services, the bouncer, certificates, the admin listener).
import { AggregatorRegistry, type MetricObjectWithValues, type MetricValue, type Registry } from 'prom-client';
import { mergeWorkerRoutes } from '../admin/route-status';
import type { CountryScopeState, StatusReport } from '../admin/status';
import { formatHostPort } from '../config/addr';
import type { BouncerStatus } from '../crowdsec/stream/bouncer';
import { serviceStatus } from '../daemon/daemon';
import type { ServiceRuntime } from '../services';
import type { Settings } from '../settings/types';
import type { CertificateStatus } from '../tls/status';
import { VERSION } from '../version';
import type { WorkerChannels } from './channels';
import type { WorkerReport } from './messages';
import type { Slot } from './slot';

export type WorkerReports = Array<{ slot: Slot; report: WorkerReport | undefined }>;
export type ClusterStatus = StatusReport & { workers: Array<WorkerReport | { worker: number; running: false }> };

export async function workerReports(slots: readonly Slot[], channels: WorkerChannels): Promise<WorkerReports> {
  const answers = await Promise.all(slots.map((slot) => channels.ask(slot, 'status')));
  return slots.map((slot, i) => ({ slot, report: answers[i]?.status }));
}

export function notReadyFrom(reports: WorkerReports): string[] {
  const reasons: string[] = [];
  for (const { slot, report } of reports) {
    if (report === undefined) reasons.push(`worker ${slot.n} not running`);
    else for (const r of report.not_ready_reasons) reasons.push(`worker ${slot.n}: ${r}`);
  }
  return reasons;
}

/** The primary's own metrics and every worker's, summed (prom-client's cluster aggregation). */
export async function clusterMetrics(own: Registry, slots: readonly Slot[], channels: WorkerChannels): Promise<string> {
  type Json = MetricObjectWithValues<MetricValue<string>>[];
  const all: Json[] = [await own.getMetricsAsJSON()];
  const answers = await Promise.all(slots.map((slot) => channels.ask(slot, 'metrics')));
  for (const a of answers) if (Array.isArray(a?.metrics)) all.push(a.metrics as Json);
  return AggregatorRegistry.aggregate(all).metrics();
}

/** What the primary itself knows, for the status merged with the workers' reports. */
export interface PrimaryView {
  settings: Settings;
  services: readonly ServiceRuntime[];
  bouncer: { synced: boolean; status(): BouncerStatus } | undefined;
  countryScope: CountryScopeState;
  certificates: CertificateStatus[];
}

export function clusterStatus(view: PrimaryView, reports: WorkerReports): ClusterStatus {
  const reasons = notReadyFrom(reports);
  const live = reports.map((r) => r.report).filter((r): r is WorkerReport => r !== undefined);
  const first = live[0];
  const { settings: s, bouncer, services } = view;
  return {
    version: VERSION,
    ready: reasons.length === 0,
    not_ready_reasons: reasons,
    open_connections: live.reduce((n, r) => n + r.open_connections, 0),
    listeners: [...(first?.listeners ?? []), { kind: 'admin', address: formatHostPort(s.adminAddr), service: null, bound: true }],
    services: mergeWorkerRoutes(
      services.map((svc) => serviceStatus(svc)),
      live,
    ),
    crowdsec: {
      configured: s.crowdsec !== undefined,
      url: s.crowdsec?.apiUrl ?? null,
      synced: bouncer?.synced ?? false,
      country_scope: view.countryScope,
      services: services.filter((svc) => svc.access.crowdsec !== 'off').map((svc) => ({ service: svc.name, mode: svc.access.crowdsec })),
      ...(bouncer === undefined ? { state: 'stopped' as const } : bouncer.status()),
    },
    certificates: view.certificates,
    workers: reports.map(({ slot, report }) => report ?? { worker: slot.n, running: false as const }),
  };
}
