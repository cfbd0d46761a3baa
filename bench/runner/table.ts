// The printed summary: header (machine, versions, settings), each scenario's section, the targets
// and the errors.
import type { ScenarioReport } from './context';
import type { Results } from './results';
import { targetLine } from './targets';

export function renderTable(r: Results, reports: ScenarioReport[]): string {
  const m = r.machine;
  const L: string[] = [
    '',
    `netbird-proxy benchmark — ${r.generated_at}`,
    `machine: ${m.cpu_model}, ${m.cpus} vCPU (${m.virtualization}), ${m.memory_gib} GiB, ${m.os}, kernel ${m.kernel}`,
    `versions: ${Object.entries(r.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
    `settings: ${String(r.settings.wrk)}, ${String(r.settings.rounds)} interleaved rounds, medians; ${String(r.settings.pinning)}`,
  ];
  for (const rep of reports) L.push(...rep.section(r));
  L.push('', '* = a round measured while more than 0.1 core was busy outside the benchmark (after 3 attempts).');
  if (Object.keys(r.targets).length > 0) {
    L.push('', 'Targets (measured, not asserted)');
    for (const [k, t] of Object.entries(r.targets)) L.push(targetLine(k, t));
  }
  if (r.errors.length > 0) {
    L.push('', 'Errors');
    for (const e of r.errors) L.push(`  ${e.split('\n')[0]}`);
  }
  L.push('');
  return `${L.join('\n')}\n`;
}
